"""The stand-in's job table: a pure state machine over RunPod's job states.

Nothing here locks, sleeps or does I/O; every method takes ``now`` (seconds) so tests drive
time by hand. The service wraps it with a lock, long-polls and webhook delivery.
"""

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from uuid import uuid4

from schemas.runpod import RunPodState, RunPodStatus


class Fate(StrEnum):
    """What a fault control decided for a queued job instead of giving it to a worker."""

    FAIL = "fail"
    LOSE = "lose"


@dataclass
class Job:
    id: str
    input: dict[str, Any]
    webhook: str | None
    execution_timeout_s: float
    ttl_s: float
    created_at: float
    status: RunPodState = RunPodState.IN_QUEUE
    started_at: float | None = None
    ended_at: float | None = None
    worker_id: str | None = None
    output: Any = None
    error: Any = None  # a string, or whatever the handler returned as its error
    fate: Fate | None = None
    fate_error: str | None = None

    def status_body(self, now: float) -> dict[str, Any]:
        """The ``/status`` payload, as RunPod shapes it."""
        body = RunPodStatus(
            id=self.id,
            status=self.status,
            delay_time=_ms((self.started_at or self.ended_at or now) - self.created_at)
            if self.status != RunPodState.IN_QUEUE
            else None,
            execution_time=_ms(self.ended_at - (self.started_at or self.ended_at))
            if self.ended_at is not None
            else None,
            output=self.output,
            error=self.error,
        ).to_wire()
        if self.worker_id:
            body["workerId"] = self.worker_id
        return body

    def webhook_body(self) -> dict[str, Any]:
        """What RunPod POSTs to the webhook at the end: the final status plus the echoed input."""
        return {**self.status_body(self.ended_at or self.created_at), "input": self.input}


@dataclass
class Sweep:
    """What the passage of time did: jobs that ended (webhooks due) and runs to stop."""

    ended: list[Job] = field(default_factory=list)
    stops: list[tuple[str, str]] = field(default_factory=list)  # (worker id, job id)

    def merge(self, other: "Sweep") -> None:
        self.ended += other.ended
        self.stops += other.stops


class JobTable:
    """All jobs the stand-in knows, in submission order (the queue order)."""

    def __init__(self, retention_s: float) -> None:
        self._retention_s = retention_s
        self._jobs: dict[str, Job] = {}

    def __len__(self) -> int:
        return len(self._jobs)

    def jobs(self) -> list[Job]:
        return list(self._jobs.values())

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def submit(
        self,
        job_input: dict[str, Any],
        webhook: str | None,
        execution_timeout_s: float,
        ttl_s: float,
        now: float,
        fate: tuple[Fate, str | None] | None = None,
    ) -> Job:
        job = Job(
            id=f"{uuid4()}-l1",
            input=job_input,
            webhook=webhook,
            execution_timeout_s=execution_timeout_s,
            ttl_s=ttl_s,
            created_at=now,
        )
        if fate is not None:
            job.fate, job.fate_error = fate
        self._jobs[job.id] = job
        return job

    def has_work(self) -> bool:
        return any(self._takeable(job) for job in self._jobs.values())

    def take(self, worker_id: str, now: float) -> Job | None:
        """Hands the oldest queued job to a worker; it is IN_PROGRESS from now on."""
        job = next((job for job in self._jobs.values() if self._takeable(job)), None)
        if job is not None:
            job.status, job.started_at, job.worker_id = RunPodState.IN_PROGRESS, now, worker_id
        return job

    def progress(self, job_id: str, output: Any) -> bool:
        """Records a progress report; late reports for a finished job change nothing."""
        job = self._jobs.get(job_id)
        if job is None or job.status != RunPodState.IN_PROGRESS:
            return False
        job.output = output
        return True

    def finish(self, job_id: str, output: Any, error: Any, now: float) -> Job | None:
        """The worker's result: COMPLETED, or FAILED when it carries an error."""
        job = self._jobs.get(job_id)
        if job is None or job.status != RunPodState.IN_PROGRESS:
            return None
        state = RunPodState.FAILED if error else RunPodState.COMPLETED
        return self._end(job, state, now, output=output, error=error)

    def cancel(self, job_id: str, now: float) -> Sweep:
        job = self._jobs.get(job_id)
        if job is None or job.status.is_final:
            return Sweep()
        return self._end_with_stop(job, RunPodState.CANCELLED, now)

    def fail(self, job_id: str, error: str, now: float) -> Sweep:
        job = self._jobs.get(job_id)
        if job is None or job.status.is_final:
            return Sweep()
        return self._end_with_stop(job, RunPodState.FAILED, now, error=error)

    def delete(self, job_id: str) -> Sweep:
        """Forgets a job at once (lost, or ttl over): no webhook, a stop for its worker."""
        job = self._jobs.pop(job_id, None)
        if job is None or job.status != RunPodState.IN_PROGRESS or job.worker_id is None:
            return Sweep()
        return Sweep(stops=[(job.worker_id, job.id)])

    def clear(self) -> Sweep:
        sweep = Sweep()
        for job_id in list(self._jobs):
            sweep.merge(self.delete(job_id))
        return sweep

    def sweep(self, now: float) -> Sweep:
        """Applies ttl, executionTimeout, result retention and pending fates."""
        sweep = Sweep()
        for job in list(self._jobs.values()):
            if self._expired(job, now) or (job.status == RunPodState.IN_QUEUE and job.fate == Fate.LOSE):
                sweep.merge(self.delete(job.id))
            elif job.status == RunPodState.IN_QUEUE and job.fate == Fate.FAIL:
                sweep.merge(self.fail(job.id, job.fate_error or "failed by the stand-in", now))
            elif self._over_time(job, now):
                sweep.merge(self._end_with_stop(job, RunPodState.TIMED_OUT, now))
        return sweep

    def counts(self) -> dict[str, int]:
        by_state = {state: 0 for state in RunPodState}
        for job in self._jobs.values():
            by_state[job.status] += 1
        return {
            "completed": by_state[RunPodState.COMPLETED],
            "failed": by_state[RunPodState.FAILED] + by_state[RunPodState.TIMED_OUT],
            "inProgress": by_state[RunPodState.IN_PROGRESS],
            "inQueue": by_state[RunPodState.IN_QUEUE],
            "retried": 0,
        }

    def _end_with_stop(self, job: Job, state: RunPodState, now: float, error: str | None = None) -> Sweep:
        stops = [(job.worker_id, job.id)] if job.status == RunPodState.IN_PROGRESS and job.worker_id else []
        # Progress is not a result: a job stopped mid-run ends without output.
        self._end(job, state, now, output=None, error=error)
        return Sweep(ended=[job], stops=stops)

    @staticmethod
    def _end(job: Job, state: RunPodState, now: float, output: Any, error: Any) -> Job:
        job.status, job.ended_at, job.output, job.error = state, now, output, error
        return job

    @staticmethod
    def _takeable(job: Job) -> bool:
        return job.status == RunPodState.IN_QUEUE and job.fate is None

    def _expired(self, job: Job, now: float) -> bool:
        """Past its ttl (whatever its state), or its result past the retention period."""
        if now >= job.created_at + job.ttl_s:
            return True
        return job.ended_at is not None and now >= job.ended_at + self._retention_s

    @staticmethod
    def _over_time(job: Job, now: float) -> bool:
        return (
            job.status == RunPodState.IN_PROGRESS
            and job.started_at is not None
            and now >= job.started_at + job.execution_timeout_s
        )


def _ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))
