"""Firestore documents. Collections: ``users``, ``users/{id}/ledger``, ``jobs``, ``idempotency``.

Documents are stored camelCase with native timestamps; ``to_document``/``from_document`` convert.
"""

from datetime import datetime
from enum import Enum, StrEnum
from typing import Any, Self

from pydantic import ConfigDict, Field

from schemas.base import WireModel
from schemas.events import TraceId
from schemas.generation import Continuation, GenerationOutput, ImageSource
from schemas.jobs import AspectRatio, DurationSec, JobStatus, Lineage, Quality


class Document(WireModel):
    model_config = ConfigDict(frozen=True, extra="ignore")  # old documents may carry retired fields

    def to_document(self) -> dict[str, Any]:
        return _firestore_safe(self.model_dump(by_alias=True, mode="python", exclude_none=True))

    @classmethod
    def from_document(cls, data: dict[str, Any]) -> Self:
        return cls.model_validate(data)


def _firestore_safe(value: Any) -> Any:
    """Firestore stores str, numbers, datetimes, lists and maps: turn enums and URLs into str."""
    if isinstance(value, dict):
        return {k: _firestore_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_firestore_safe(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, str | int | float | bool | datetime) or value is None:
        return value
    return str(value)


class UserDoc(Document):
    user_id: str
    balance: int = Field(default=0, ge=0)
    active_jobs: int = Field(default=0, ge=0)
    created_at: datetime
    # Retention: when the user created their first job, and the weeks since then (1 = the first
    # seven days, 2 = days 7-14, ...) in which they created one. Counted by aggregation queries.
    first_job_at: datetime | None = None
    active_weeks: tuple[int, ...] = ()
    # The newest ledger entries, newest first, written in the same commit as each posting, so
    # GET /credits is one document read. None on documents that predate it (then: the ledger).
    recent_entries: "tuple[LedgerEntry, ...] | None" = None


class LedgerKind(StrEnum):
    RESERVE = "reserve"
    REFUND = "refund"
    SETTLE = "settle"  # capture of a reservation: amount 0, records what the job cost us
    GRANT = "grant"  # a paid top-up
    MONTHLY = "monthly"  # a plan's monthly credits
    ADMIN = "admin"  # granted by an operator


class LedgerEntry(Document):
    entry_id: str  # derived from its cause, e.g. reserve:{jobId}: written twice is impossible
    kind: LedgerKind
    amount: int  # signed: negative debits
    balance_after: int = Field(ge=0)
    created_at: datetime
    job_id: str | None = None
    payment_id: str | None = None
    note: str | None = Field(default=None, max_length=200)


UserDoc.model_rebuild()


class JobError(Document):
    code: str
    message: str = Field(max_length=1000)


class JobProgress(Document):
    stage: str
    percent: int = Field(ge=0, le=100)
    step: int | None = None
    steps: int | None = None
    segment: int | None = None  # "segment 2 of 3": which 5 s piece the stage belongs to
    segments: int | None = None

    def describe(self) -> str:
        """``segment 2 of 3, denoising 14/50``: the stage, the segment it belongs to, the step."""
        text = f"{self.stage} {self.step}/{self.steps}" if self.step and self.steps else self.stage
        if self.segment and (self.segments or 1) > 1:
            text = f"segment {self.segment} of {self.segments}, {text}"
        return text


class StatusChange(Document):
    status: JobStatus
    at: datetime


class JobDoc(Document):
    job_id: str
    user_id: str
    status: JobStatus
    prompt: str
    duration_sec: DurationSec
    credits: int = Field(ge=1)
    seed: int | None = None
    image: ImageSource | None = None
    aspect_ratio: AspectRatio | None = None  # None: the image's orientation, or 16:9 without one
    negative_prompt: str | None = None
    quality: Quality = Quality.STANDARD
    shots: tuple[str, ...] | None = None  # a storyboard: one prompt per 5 s segment
    continues: Continuation | None = None  # an extension: the parent's video it continues
    parent_job_id: str | None = None
    lineage: Lineage | None = None
    # The jobs made from this one, oldest first (at most MAX_CHILDREN), recorded as each is created,
    # so its page reads them by id. None: a document from before they were recorded (found by query).
    child_job_ids: tuple[str, ...] | None = None
    created_at: datetime
    updated_at: datetime
    trace_id: TraceId | None = None
    runpod_job_id: str | None = None
    submit_attempts: int = 0
    submit_claim: str | None = None  # who is calling RunPod /run right now, and until when
    submit_claim_until: datetime | None = None
    submitted_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    progress: JobProgress | None = None
    output: GenerationOutput | None = None
    expires_at: datetime | None = None
    error: JobError | None = None
    gpu_seconds: float | None = None
    cost_usd: float | None = None
    gpu_type: str | None = None  # the GPU that ran it, as the price table names it
    history: tuple[StatusChange, ...] = ()  # every transition, in order
    runpod_cancel_pending: bool = False  # canceled while RunPod had it: true until RunPod confirms the stop
    webhook_url: str | None = None  # the job's own receiver, signed with the user's default secret
    webhook_events: tuple[str, ...] | None = None  # None: every event
    # Set in the commit of every transition, cleared once deliver_webhooks has fanned it out: a
    # status change whose announcement was lost is found by this flag (an outbox on the document).
    webhooks_pending: bool = False


class IdempotencyRecord(Document):
    """The first response to a create with an ``Idempotency-Key``, keyed by user and key."""

    user_id: str
    key: str
    request_hash: str
    job_id: str
    created_at: datetime
    expires_at: datetime | None = None  # Firestore's TTL policy deletes the record after this


class EventFailureDoc(Document):
    """A Pub/Sub message a consumer could not process, kept so an operator can see why and replay
    it (``python -m devstack.deadletters``): ``poison`` ones were acknowledged (Pub/Sub no longer
    has them: this record holds their exact bytes), ``error`` ones were redelivered and, past the
    delivery attempts, dead-lettered. Named by consumer and content digest."""

    consumer: str
    digest: str
    kind: str  # "poison" or "error"
    reason: str = Field(max_length=1000)
    message_id: str | None = None  # of the latest attempt
    subscription: str | None = None
    data: str  # base64, as pushed; empty when too large to keep (``truncated``)
    truncated: bool = False
    attributes: dict[str, str] = Field(default_factory=dict)
    attempts: int = Field(default=1, ge=1)
    first_at: datetime
    last_at: datetime
    replayed_at: datetime | None = None
    expires_at: datetime | None = None  # Firestore's TTL policy deletes the record after this


class TickFailureDoc(Document):
    """A record a clock-tick step could not handle (skipped, the others proceeded), for the operator.
    Named by step and record; every later failure of the same record updates it."""

    step: str
    record_id: str
    error: str = Field(max_length=1000)
    attempts: int = Field(default=1, ge=1)
    first_at: datetime
    last_at: datetime
    expires_at: datetime | None = None  # Firestore's TTL policy deletes the record after this
