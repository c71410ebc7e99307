"""Webhooks to clients: the events that drive delivery, the documents that record it, and the
HTTP bodies of ``/webhooks/*``.

Collections: ``webhook_endpoints/{endpointId}`` (account-level receivers), ``webhook_secrets/{userId}``
(the user's default secret, which signs the per-job ``webhookUrl``) and
``webhook_deliveries/{webhookId}`` (one message to one receiver, with every attempt). Signing
secrets are stored encrypted; the plain ``whsec_`` value is shown once, when it is made.
"""

from datetime import UTC, datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from schemas.base import WireModel
from schemas.documents import Document
from schemas.events import Event
from schemas.jobs import JobStatus

MAX_URL_CHARS = 2000
ENDPOINT_ID = r"^ep_[a-f0-9]{24}$"


class WebhookEvent(StrEnum):
    QUEUED = "job.queued"
    RUNNING = "job.running"
    SUCCEEDED = "job.succeeded"
    FAILED = "job.failed"  # also a job refused before it ran (status ``rejected``)
    CANCELED = "job.canceled"
    EXPIRED = "job.expired"


# The job status each event announces; pending and reserved are internal steps, announced to no one.
EVENT_FOR_STATUS: dict[JobStatus, WebhookEvent] = {
    JobStatus.QUEUED: WebhookEvent.QUEUED,
    JobStatus.RUNNING: WebhookEvent.RUNNING,
    JobStatus.DONE: WebhookEvent.SUCCEEDED,
    JobStatus.FAILED: WebhookEvent.FAILED,
    JobStatus.REJECTED: WebhookEvent.FAILED,
    JobStatus.CANCELED: WebhookEvent.CANCELED,
    JobStatus.EXPIRED: WebhookEvent.EXPIRED,
}
ALL_EVENTS: tuple[WebhookEvent, ...] = tuple(WebhookEvent)


# --- events -------------------------------------------------------------------------------------
class WebhooksClockTicked(Event):
    """The minute tick of webhook delivery: retry what is due, announce changes whose event was lost."""

    step: ClassVar[str] = "webhooks-tick"
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @property
    def idempotency_key(self) -> str:
        return f"webhooks-tick:{self.occurred_at.isoformat()}"


# --- documents ----------------------------------------------------------------------------------
class SigningSecret(Document):
    sealed: str  # the whsec_ secret, encrypted with WEBHOOK_SECRETS_KEY
    created_at: datetime
    expires_at: datetime | None = None  # a rotated-out secret still signs until then


class WebhookEndpointDoc(Document):
    endpoint_id: str
    user_id: str
    url: str = Field(max_length=MAX_URL_CHARS)
    events: tuple[WebhookEvent, ...]
    secrets: tuple[SigningSecret, ...]  # newest first
    created_at: datetime


class DefaultSecretDoc(Document):
    user_id: str
    secrets: tuple[SigningSecret, ...]
    created_at: datetime


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # due now (first attempt, or a manual redelivery)
    RETRYING = "retrying"  # the last attempt failed; the next is at ``nextAttemptAt``
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # every retry failed or the receiver refused for good: dead-lettered


class Attempt(Document):
    at: datetime
    status_code: int | None = None
    latency_ms: float
    error: str | None = Field(default=None, max_length=300)


class WebhookDeliveryDoc(Document):
    """One message (``webhook-id``) to one receiver; its body is frozen, so every retry is the same."""

    webhook_id: str
    user_id: str
    job_id: str
    endpoint_id: str | None = None  # None: the job's own webhookUrl, signed with the default secret
    url: str
    event: WebhookEvent
    body: str  # the JSON the receiver gets: the job's public view at that status
    status: DeliveryStatus
    attempts: tuple[Attempt, ...] = ()
    retries: int = 0  # retries made since the last manual redelivery (indexes the schedule)
    next_attempt_at: datetime | None = None
    claim_until: datetime | None = None  # someone is sending it right now, until then
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None = None  # Firestore's TTL policy deletes the record after this


# --- HTTP bodies --------------------------------------------------------------------------------
class CreateEndpointRequest(WireModel):
    url: str = Field(min_length=8, max_length=MAX_URL_CHARS)
    events: list[WebhookEvent] = Field(default_factory=lambda: list(ALL_EVENTS), min_length=1, max_length=len(ALL_EVENTS))


class EndpointView(WireModel):
    id: str
    url: str
    events: list[WebhookEvent]
    created_at: datetime
    previous_secret_expires_at: datetime | None = None


class EndpointCreated(EndpointView):
    secret: str  # shown once


class EndpointList(WireModel):
    endpoints: list[EndpointView]


class RotateSecretRequest(WireModel):
    overlap_seconds: int = Field(default=86_400, ge=0, le=7 * 86_400, strict=True)


class SecretView(WireModel):
    secret: str


class AttemptView(WireModel):
    at: datetime
    status_code: int | None = None
    latency_ms: float
    error: str | None = None


class DeliveryView(WireModel):
    id: str  # the webhook-id header: the same on every retry
    job_id: str
    endpoint_id: str | None = None
    url: str
    event: WebhookEvent
    status: DeliveryStatus
    attempts: list[AttemptView]
    next_attempt_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


class DeliveryList(WireModel):
    deliveries: list[DeliveryView]
    next_cursor: str | None = None
