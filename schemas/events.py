"""Pub/Sub events: one model per topic, named in the past tense.

Every event carries ``schema_version`` and a business ``idempotency_key`` (what happened to which
job or payment), because a re-published message gets a new message id: consumers deduplicate on
what the event means, not on how it was delivered.
"""

from datetime import UTC, datetime
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from schemas.base import WireModel
from schemas.jobs import JobStatus

JobId = str
# A trace id as the edge validated it (32 hex) or as older jobs carried it (their job id). Jobs and
# events share this one type, so an event built from a stored job can never fail validation.
TraceId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class Event(WireModel):
    schema_version: Literal[1] = 1
    occurred_at: datetime
    trace_id: TraceId | None = None

    step: ClassVar[str]

    @property
    def idempotency_key(self) -> str:
        raise NotImplementedError


class JobEvent(Event):
    job_id: JobId = Field(min_length=1, max_length=64)

    @property
    def idempotency_key(self) -> str:
        return f"{self.job_id}:{self.step}"


class JobRequested(JobEvent):
    """A user created a job; its credits are not reserved yet."""

    step: ClassVar[str] = "requested"


class JobReserved(JobEvent):
    """The job's credits are held; it can go to the GPU."""

    step: ClassVar[str] = "reserved"


class JobCanceled(JobEvent):
    """The owner canceled; the credits are already refunded. RunPod must stop the work."""

    step: ClassVar[str] = "canceled"
    runpod_job_id: str | None = None


class GenerationFinished(JobEvent):
    """RunPod says (unsigned, so unconfirmed) that the generation ended."""

    step: ClassVar[str] = "generation-finished"
    runpod_job_id: str = Field(min_length=1, max_length=128)
    reported_status: str = Field(max_length=32)

    @property
    def idempotency_key(self) -> str:
        return f"{self.job_id}:{self.step}:{self.runpod_job_id}"


class JobStatusChanged(JobEvent):
    """The job's status moved to ``status`` (committed). Only a hint: consumers re-read the job."""

    step: ClassVar[str] = "status"
    status: JobStatus

    @property
    def idempotency_key(self) -> str:
        return f"{self.job_id}:{self.step}:{self.status.value}"


class ClockTicked(Event):
    """The scheduler's minute tick: expire old videos, reconcile stuck jobs.

    Cloud Scheduler sends a fixed body and cannot stamp the time, so ``occurredAt`` defaults to
    the moment the tick is parsed.
    """

    step: ClassVar[str] = "tick"
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @property
    def idempotency_key(self) -> str:
        return f"tick:{self.occurred_at.isoformat()}"
