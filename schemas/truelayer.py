"""TrueLayer Payments API v3 wire formats, as TrueLayer spells them (snake_case JSON).

These are TrueLayer's models, not ours: unknown fields TrueLayer adds are kept rather than
refused, and nothing here follows our camelCase ``WireModel`` conventions. The production client,
the webhook handler and the local stand-in all read and write these shapes.
"""

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

TRUELAYER_ID = r"^[A-Za-z0-9_-]{1,128}$"  # TrueLayer ids are UUIDs; this also keeps them safe as document ids


class _TrueLayerModel(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="allow")

    def to_wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class PaymentStatus(StrEnum):
    """A payment's lifecycle; merchant-account payments end settled, external ones executed."""

    AUTHORIZATION_REQUIRED = "authorization_required"
    AUTHORIZING = "authorizing"
    AUTHORIZED = "authorized"
    EXECUTED = "executed"
    SETTLED = "settled"
    FAILED = "failed"


class MandateStatus(StrEnum):
    AUTHORIZATION_REQUIRED = "authorization_required"
    AUTHORIZING = "authorizing"
    AUTHORIZED = "authorized"
    REVOKED = "revoked"
    FAILED = "failed"


class WebhookType(StrEnum):
    PAYMENT_AUTHORIZED = "payment_authorized"
    PAYMENT_EXECUTED = "payment_executed"
    PAYMENT_SETTLED = "payment_settled"
    PAYMENT_FAILED = "payment_failed"
    MANDATE_AUTHORIZED = "mandate_authorized"
    MANDATE_REVOKED = "mandate_revoked"
    MANDATE_FAILED = "mandate_failed"


PAYMENT_STATUS_OF: dict[str, PaymentStatus] = {
    WebhookType.PAYMENT_AUTHORIZED: PaymentStatus.AUTHORIZED,
    WebhookType.PAYMENT_EXECUTED: PaymentStatus.EXECUTED,
    WebhookType.PAYMENT_SETTLED: PaymentStatus.SETTLED,
    WebhookType.PAYMENT_FAILED: PaymentStatus.FAILED,
}
MANDATE_STATUS_OF: dict[str, MandateStatus] = {
    WebhookType.MANDATE_AUTHORIZED: MandateStatus.AUTHORIZED,
    WebhookType.MANDATE_REVOKED: MandateStatus.REVOKED,
    WebhookType.MANDATE_FAILED: MandateStatus.FAILED,
}


class TokenResponse(_TrueLayerModel):
    """``POST {auth}/connect/token`` (client credentials)."""

    access_token: str
    expires_in: int
    token_type: str = "Bearer"
    scope: str | None = None


class CreatedResource(_TrueLayerModel):
    """What ``POST /v3/payments`` and ``POST /v3/mandates`` answer."""

    id: str = Field(pattern=TRUELAYER_ID)
    resource_token: str | None = None  # absent for payments on a mandate: nobody has to authorise them
    user: dict[str, Any] | None = None
    status: str

    @property
    def user_id(self) -> str | None:
        return (self.user or {}).get("id")


class Resource(_TrueLayerModel):
    """What ``GET /v3/payments/{id}`` and ``GET /v3/mandates/{id}`` answer (the fields we read)."""

    id: str
    status: str
    currency: str | None = None
    amount_in_minor: int | None = None
    failure_reason: str | None = None


class Webhook(_TrueLayerModel):
    """A webhook body: ``type`` and ``event_id`` always; the rest depends on the type."""

    type: str = Field(min_length=1, max_length=64)
    event_id: str = Field(pattern=TRUELAYER_ID)
    event_version: int | str | None = None
    payment_id: str | None = Field(default=None, pattern=TRUELAYER_ID)
    mandate_id: str | None = Field(default=None, pattern=TRUELAYER_ID)
    failure_reason: str | None = Field(default=None, max_length=200)
    metadata: dict[str, str] | None = None
