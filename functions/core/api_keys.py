"""API keys: their format, their hash, and the decisions that create, revoke and touch them.

A key is ``cw_live_<16 hex>_<43 url-safe characters>``: 128 bits of id and 256 bits of secret.
The id part names the document (``apiKeys/key_<16 hex>``), so a key is found with one read and
no index; the secret is kept only as its SHA-256 (a random 256-bit secret needs no slow hash:
there is nothing to guess from). ``cw_live_<16 hex>`` is the prefix: safe to show and to log.
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from functions.core.errors import NotFound
from functions.core.paths import api_key_path
from functions.store.port import Decision, Docs, Put
from schemas.keys import ApiKeyDoc, ApiKeyView, CreatedApiKey

KEY_PREFIX = "cw_live_"
_KEY = re.compile(r"^cw_live_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")
TOUCH_EVERY = timedelta(minutes=1)  # last-used is kept to the minute: one write a minute per key at most


@dataclass(frozen=True)
class NewKey:
    doc: ApiKeyDoc
    key: str


def looks_like_key(token: str) -> bool:
    return token.startswith(KEY_PREFIX)


def parse(key: str) -> tuple[str, str] | None:
    """``(key_id, secret)`` of a well-formed key, else None."""
    found = _KEY.match(key)
    return (f"key_{found.group(1)}", found.group(2)) if found else None


def prefix_of(key_id: str) -> str:
    return KEY_PREFIX + key_id.removeprefix("key_")


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def matches(doc: ApiKeyDoc, secret: str) -> bool:
    return hmac.compare_digest(doc.secret_sha256, digest(secret))


def new_key(user_id: str, name: str, now: datetime) -> NewKey:
    hex_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    doc = ApiKeyDoc(key_id=f"key_{hex_id}", user_id=user_id, name=name, secret_sha256=digest(secret), created_at=now)
    return NewKey(doc, f"{KEY_PREFIX}{hex_id}_{secret}")


def view(doc: ApiKeyDoc) -> ApiKeyView:
    return ApiKeyView(key_id=doc.key_id, name=doc.name, prefix=prefix_of(doc.key_id), created_at=doc.created_at,
                      last_used_at=doc.last_used_at, revoked_at=doc.revoked_at)


def created_view(new: NewKey) -> CreatedApiKey:
    return CreatedApiKey(**view(new.doc).model_dump(), key=new.key)


def decide_create(docs: Docs, new: NewKey) -> Decision[ApiKeyDoc]:
    path = api_key_path(new.doc.key_id)
    if docs[path] is not None:  # 64 random bits collided: refuse rather than overwrite
        raise ValueError(f"key id {new.doc.key_id} already exists")
    return Decision([Put(path, new.doc.to_document())], new.doc)


def decide_revoke(docs: Docs, key_id: str, user_id: str, now: datetime) -> Decision[ApiKeyDoc]:
    """Revoke the caller's key (again is a no-op); another user's key is indistinguishable from none."""
    data = docs[api_key_path(key_id)]
    doc = ApiKeyDoc.from_document(data) if data else None
    if doc is None or doc.user_id != user_id:
        raise NotFound(f"key {key_id} not found", "keyId")
    if doc.revoked_at:
        return Decision([], doc)
    revoked = doc.model_copy(update={"revoked_at": now})
    return Decision([Put(api_key_path(key_id), revoked.to_document())], revoked)


def decide_touch(docs: Docs, key_id: str, now: datetime) -> Decision[None]:
    """Record a use, at most once a minute; never on a revoked or deleted key (so a touch racing a
    revoke cannot bring the key back: the store re-decides on the revoked document)."""
    data = docs[api_key_path(key_id)]
    doc = ApiKeyDoc.from_document(data) if data else None
    if doc is None or doc.revoked_at or (doc.last_used_at and now - doc.last_used_at < TOUCH_EVERY):
        return Decision()
    return Decision([Put(api_key_path(key_id), doc.model_copy(update={"last_used_at": now}).to_document())])
