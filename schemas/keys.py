"""API keys on the wire: ``POST /keys``, ``GET /keys``, ``DELETE /keys/{keyId}``.

A key is ``cw_live_<16 hex>_<secret>``. Its id (``key_<16 hex>``) and its prefix
(``cw_live_<16 hex>``) are safe to show and to log; the secret is shown once, at creation, and
stored only as a hash.
"""

from datetime import datetime

from pydantic import Field

from schemas.base import WireModel

KEY_NAME_MAX_CHARS = 100


class CreateApiKeyRequest(WireModel):
    name: str = Field(min_length=1, max_length=KEY_NAME_MAX_CHARS, pattern=r"^[^\x00-\x1f\x7f]+$")


class ApiKeyView(WireModel):
    key_id: str
    name: str
    prefix: str  # what to show beside the name, and what logs name
    created_at: datetime
    last_used_at: datetime | None = None  # to the minute: refreshed at most once a minute
    revoked_at: datetime | None = None


class CreatedApiKey(ApiKeyView):
    key: str  # the whole key: shown this once, never again


class ApiKeyList(WireModel):
    keys: list[ApiKeyView]


# --- the stored document (``apiKeys/{keyId}``) ------------------------------------------------
from schemas.documents import Document  # noqa: E402  (documents import nothing from here)


class ApiKeyDoc(Document):
    key_id: str
    user_id: str
    name: str
    secret_sha256: str  # the hash of the secret part; the key itself is never stored
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
