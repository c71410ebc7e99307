"""expire_jobs, on each clock tick: expire old videos, reconcile stuck jobs, re-announce lost events,
reconcile payments TrueLayer never told us about.

Every step is a guarded transition, so two ticks running at once (or a tick racing a webhook)
cannot apply anything twice. Each step handles its records one by one (``sweep``): a record that
fails is recorded and skipped, and each step gets a share of the tick's time budget, so a slow
RunPod or R2 delays its own step's records to the next tick instead of wedging the tick.
"""

import logging
import time
from collections.abc import Callable
from datetime import timedelta

from functions.adapters.runpod import RunPodJobNotFound, RunPodUnavailable
from functions.adapters.storage import StorageUnavailable
from functions.bootstrap import Deps
from functions.core import jobs
from functions.core.paths import JOBS, job_path
from functions.handlers.outcomes import apply_runpod_status, fail
from functions.handlers.payment_reconciler import reconcile_payments
from functions.handlers.sweep import Deadline, Outage, Swept, sweep, until
from functions.handlers.status_changes import status_changed
from functions.store import Query
from schemas.documents import JobDoc
from schemas.events import ClockTicked, Event, JobCanceled, JobRequested, JobReserved
from schemas.jobs import JobStatus

log = logging.getLogger(__name__)
Step = Callable[[Deps, Deadline], list[Swept]]


def expire_jobs(event: ClockTicked, deps: Deps, clock: Callable[[], float] = time.monotonic) -> list[Swept]:
    steps: tuple[Step, ...] = (expire_videos, reconcile_running, reannounce_stalled, reconcile_payments)
    end = clock() + deps.settings.tick_budget_s
    results: list[Swept] = []
    for n, step in enumerate(steps):
        # A fair share of what is left: a step that finishes early leaves its time to the next ones.
        deadline = until(clock() + (end - clock()) / (len(steps) - n), clock)
        try:
            results += step(deps, deadline)
        except Exception:  # noqa: BLE001 - a step that cannot even list its records must not starve the others
            log.exception("clock tick step %s failed", step.__name__)
    return results


def _rows(deps: Deps, where, order_by: str | None) -> list[tuple[str, dict]]:
    return deps.store.query(Query(JOBS, where=where, order_by=order_by, limit=deps.settings.tick_batch))


def expire_videos(deps: Deps, deadline: Deadline) -> list[Swept]:
    now = deps.now()

    def expire(data: dict) -> None:
        job = JobDoc.from_document(data)
        try:
            for key in job.output.keys if job.output else ():
                deps.storage.delete(key)  # the MP4, its poster and its preview go together
            if job.image and job.image.r2_key:
                deps.storage.delete(job.image.r2_key)
        except StorageUnavailable as exc:
            raise Outage(str(exc)) from exc
        expired = deps.store.decide([job_path(job.job_id)], lambda docs: jobs.decide_move(docs, job.job_id, JobStatus.EXPIRED, now))
        status_changed(deps, job, expired.status)
        log.info("video expired and deleted", extra={"job_id": job.job_id, "trace_id": job.trace_id, "user_id": job.user_id})

    rows = _rows(deps, [("status", "==", JobStatus.DONE.value), ("expiresAt", "<=", now)], "expiresAt")
    return [sweep(deps, "expire_videos", rows, expire, deadline)]


def reconcile_running(deps: Deps, deadline: Deadline) -> list[Swept]:
    """Jobs RunPod should have reported on by now: ask RunPod, as if the webhook had come."""
    cutoff = deps.now() - timedelta(seconds=deps.settings.reconcile_after_s)

    def reconcile(data: dict) -> None:
        job = JobDoc.from_document(data)
        try:
            status = deps.runpod.status(job.runpod_job_id)
        except RunPodJobNotFound:
            fail(deps, job, "lost_by_runpod", "RunPod lost this job")
            return
        except RunPodUnavailable as exc:
            raise Outage(str(exc)) from exc
        if apply_runpod_status(deps, job, status) is job:
            _touch(deps, job)  # still going: look again after reconcile_after_s, not every tick

    live = [JobStatus.QUEUED.value, JobStatus.RUNNING.value]
    rows = _rows(deps, [("status", "in", live), ("updatedAt", "<=", cutoff)], "updatedAt")
    return [sweep(deps, "reconcile_running", rows, reconcile, deadline)]


def _touch(deps: Deps, job: JobDoc) -> None:
    now = deps.now()
    deps.store.decide([job_path(job.job_id)], lambda docs: jobs.decide_update(docs, job.job_id, job.status, now))


def reannounce_stalled(deps: Deps, deadline: Deadline) -> list[Swept]:
    """A publish lost after its commit leaves a job pending, reserved, or canceled with its RunPod
    job still running (on our bill): announce it again."""
    now = deps.now()
    cutoff = now - timedelta(seconds=deps.settings.republish_after_s)

    def announcer(build: Callable[[JobDoc], Event | None]) -> Callable[[dict], None]:
        def announce(data: dict) -> None:
            event = build(JobDoc.from_document(data))  # a bad record fails here, on its own
            if event is None:
                return
            try:
                deps.publisher.publish(event)
            except Exception as exc:  # noqa: BLE001 - Pub/Sub itself is failing: every record would
                raise Outage(f"publish failed: {exc}") from exc
        return announce

    def requested(job: JobDoc) -> Event:
        return JobRequested(job_id=job.job_id, occurred_at=now, trace_id=job.trace_id)

    def reserved(job: JobDoc) -> Event | None:
        if job.submit_claim_until and job.submit_claim_until > now:
            return None  # a submitter holds it right now
        return JobReserved(job_id=job.job_id, occurred_at=now, trace_id=job.trace_id)

    def canceled(job: JobDoc) -> Event | None:
        if job.status is not JobStatus.CANCELED or job.updated_at > cutoff:
            return None
        return JobCanceled(job_id=job.job_id, runpod_job_id=job.runpod_job_id, occurred_at=now, trace_id=job.trace_id)

    stalled = lambda status: _rows(deps, [("status", "==", status.value), ("updatedAt", "<=", cutoff)], "updatedAt")  # noqa: E731
    return [
        sweep(deps, "reannounce_pending", stalled(JobStatus.PENDING), announcer(requested), deadline),
        sweep(deps, "reannounce_reserved", stalled(JobStatus.RESERVED), announcer(reserved), deadline),
        # Few at a time, so no ordered index: the flag is cleared once RunPod confirms the stop.
        sweep(deps, "reannounce_canceled", _rows(deps, [("runpodCancelPending", "==", True)], None), announcer(canceled),
              deadline),
    ]
