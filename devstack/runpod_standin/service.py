"""The stand-in's engine: the job table behind one lock, long-polls, webhooks, faults, logs.

The HTTP layers (client API, worker protocol, controls) are thin translations onto this class.
"""

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import ValidationError

from devstack.runpod_standin.clock import Clock
from devstack.runpod_standin.config import StandInConfig
from devstack.runpod_standin.faults import DeliveryPlan, FaultPlan
from devstack.runpod_standin.state import Fate, Job, JobTable, Sweep
from devstack.runpod_standin.webhooks import DeliveryLog, WebhookSender
from devstack.runpod_standin.workers import WorkerBoard
from schemas.runpod import RunPodRunRequest, RunPodState

Delivery = tuple[str, str, dict[str, Any], DeliveryPlan]


def _never() -> bool:
    return False


class ApiError(Exception):
    """An error answer of the client API: status code, RunPod-style message, Retry-After."""

    def __init__(self, status: int, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after_s = retry_after_s


class StandIn:
    def __init__(
        self,
        config: StandInConfig,
        clock: Clock | None = None,
        sender: WebhookSender | None = None,
    ) -> None:
        self.config = config
        self.clock = clock or Clock()
        self.deliveries = DeliveryLog(self.clock.now)
        self._sender = sender or WebhookSender(config.webhook, self.deliveries)
        self._cond = threading.Condition()
        self._table = JobTable(config.result_retention_s)
        self._faults = FaultPlan()
        self._runs: list[dict[str, Any]] = []
        self._workers = WorkerBoard(config.worker_stale_s)

    # -- client API ------------------------------------------------------------------------

    def submit(self, raw: Any) -> dict[str, Any]:
        """``POST /run``: queues a job, unless a fault control makes this call fail."""
        with self._changing():
            now = self.clock.now()
            received: dict[str, Any] = {"at": now, "body": raw}
            self._runs.append(received)
            if refusal := self._faults.next_run_error():
                received["statusCode"] = refusal.status
                raise ApiError(refusal.status, "injected by the stand-in", refusal.retry_after_s)
            try:
                request = RunPodRunRequest.model_validate(raw)
                execution_timeout_ms, ttl_ms = self._policy(request)
            except (ValidationError, ValueError) as error:
                received["statusCode"] = 400
                raise ApiError(400, str(error)) from error
            job = self._table.submit(
                request.input,
                request.webhook,
                execution_timeout_ms / 1000,
                ttl_ms / 1000,
                now,
                fate=self._faults.next_fate(),
            )
            received.update(statusCode=200, jobId=job.id)
            return {"id": job.id, "status": job.status.value}

    def status(self, job_id: str) -> dict[str, Any]:
        with self._cond:
            return self._require(job_id).status_body(self.clock.now())

    def cancel(self, job_id: str) -> dict[str, Any]:
        with self._changing() as apply:
            job = self._require(job_id)
            now = self.clock.now()
            apply(self._table.cancel(job_id, now))
            return job.status_body(now)

    def health(self) -> dict[str, Any]:
        with self._cond:
            now = self.clock.now()
            live = self._workers.live(now)
            running = {
                job.worker_id
                for job in self._table.jobs()
                if job.status == RunPodState.IN_PROGRESS and job.worker_id in live
            }
            return {
                "jobs": self._table.counts(),
                "workers": {
                    "idle": len(live - running),
                    "initializing": 0,
                    "ready": len(live - running),
                    "running": len(running),
                    "throttled": 0,
                    "unhealthy": 0,
                },
            }

    # -- worker protocol -------------------------------------------------------------------

    def take(self, worker_id: str, max_jobs: int, gone: Callable[[], bool] = _never) -> list[dict[str, Any]]:
        """job-take: waits up to ``poll_hold_s`` for queued work, then hands out up to max_jobs.

        ``gone`` tells whether the worker hung up: a job handed to a dead long-poll would be lost.
        """
        with self._cond:
            for _ in self._polling(worker_id, gone):
                jobs: list[Job] = []
                while len(jobs) < max_jobs and (job := self._table.take(worker_id, self.clock.now())):
                    jobs.append(job)
                if jobs:
                    return [{"id": job.id, "input": job.input} for job in jobs]
            return []

    def report(self, worker_id: str, job_id: str, body: dict[str, Any]) -> bool:
        """job-done: progress (``status: IN_PROGRESS``) or the final result. False: unknown job."""
        with self._changing() as apply:
            self._seen(worker_id)
            progress = body.get("status") == RunPodState.IN_PROGRESS
            self._workers.reported(worker_id, job_id, final=not progress)
            if self._table.get(job_id) is None:
                return False
            if progress:
                self._table.progress(job_id, body.get("output"))
            elif job := self._table.finish(job_id, body.get("output"), body.get("error"), self.clock.now()):
                apply(Sweep(ended=[job]))
            return True

    def stop_signals(self, worker_id: str, gone: Callable[[], bool] = _never) -> list[str]:
        """job-stop: waits up to ``poll_hold_s`` for jobs this worker must stop."""
        with self._cond:
            for _ in self._polling(worker_id, gone):
                if self._workers.has_stops(worker_id):
                    return self._workers.take_stops(worker_id)
            return []

    def ping(self, worker_id: str) -> None:
        with self._cond:
            self._seen(worker_id)

    # -- time ------------------------------------------------------------------------------

    def tick(self) -> None:
        """Applies what time did: executionTimeout, ttl, result retention, armed fates."""
        with self._changing() as apply:
            apply(self._table.sweep(self.clock.now()))

    def run_reaper(self, stop: threading.Event) -> None:
        while not stop.wait(self.config.tick_s):
            self.tick()

    # -- fault controls and inspection -----------------------------------------------------

    def fail_job(self, job_id: str, error: str) -> dict[str, Any]:
        with self._changing() as apply:
            job = self._require(job_id)
            apply(self._table.fail(job_id, error, self.clock.now()))
            return job.status_body(self.clock.now())

    def lose_job(self, job_id: str) -> None:
        with self._changing() as apply:
            self._require(job_id)
            apply(self._table.delete(job_id))

    @contextmanager
    def faults(self) -> Iterator[FaultPlan]:
        """The fault plan, to arm under the lock."""
        with self._cond:
            yield self._faults

    def arm_fates(self, fate: Fate, count: int, error: str | None) -> None:
        with self.faults() as plan:
            plan.arm_fates(fate, count, error)
        self.tick()

    def advance_clock(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.tick()

    def reset(self) -> None:
        """Forgets every job (running ones get a stop), fault, log and clock offset."""
        with self._changing() as apply:
            apply(self._table.clear())
            self._faults = FaultPlan()
            self._runs.clear()
            self.deliveries.clear()
            self._sender.reset()
            self.clock.reset()

    def runs(self) -> list[dict[str, Any]]:
        with self._cond:
            return [dict(run) for run in self._runs]

    def jobs(self) -> list[dict[str, Any]]:
        with self._cond:
            now = self.clock.now()
            return [
                {
                    **job.status_body(now),
                    "createdAt": job.created_at,
                    "startedAt": job.started_at,
                    "endedAt": job.ended_at,
                    "fate": job.fate,
                    "input": job.input,
                }
                for job in self._table.jobs()
            ]

    def describe_faults(self) -> dict[str, Any]:
        with self._cond:
            return self._faults.describe()

    # -- internals -------------------------------------------------------------------------

    @contextmanager
    def _changing(self) -> Iterator[Callable[[Sweep], None]]:
        """Runs a change under the lock; wakes the long-polls; sends due webhooks after it."""
        outgoing: list[Delivery] = []
        with self._cond:
            yield lambda sweep: outgoing.extend(self._apply(sweep))
            self._cond.notify_all()
        for delivery in outgoing:
            self._sender.send(*delivery)

    def _polling(self, worker_id: str, gone: Callable[[], bool]) -> Iterator[None]:
        """Long-poll turns, under the lock: one now, then one after each change, until the hold
        runs out or the worker hangs up (checked at least every second)."""
        deadline = time.monotonic() + self.config.poll_hold_s
        while not gone():
            self._seen(worker_id)
            yield
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self._cond.wait(min(remaining, 1.0))

    def _apply(self, sweep: Sweep) -> list[Delivery]:
        for worker_id, job_id in sweep.stops:
            self._workers.stop(worker_id, job_id)
        return [
            (job.id, job.webhook, job.webhook_body(), self._faults.webhook_plan(job.id))
            for job in sweep.ended
            if job.webhook
        ]

    def _require(self, job_id: str) -> Job:
        job = self._table.get(job_id)
        if job is None:
            raise ApiError(404, f"job {job_id} not found")
        return job

    def _seen(self, worker_id: str) -> None:
        self._workers.seen(worker_id, self.clock.now())

    def _policy(self, request: RunPodRunRequest) -> tuple[int, int]:
        policy = request.policy
        timeout = (policy and policy.execution_timeout) or self.config.default_execution_timeout_ms
        ttl = (policy and policy.ttl) or self.config.default_ttl_ms
        if timeout < self.config.min_execution_timeout_ms:
            raise ValueError(f"policy.executionTimeout must be >= {self.config.min_execution_timeout_ms} ms")
        if ttl < self.config.min_ttl_ms:
            raise ValueError(f"policy.ttl must be >= {self.config.min_ttl_ms} ms")
        return timeout, ttl
