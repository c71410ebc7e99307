"""expire_jobs, on each clock tick: expire old videos, reconcile stuck jobs, re-announce lost events.

Every step is a guarded transition, so two ticks running at once (or a tick racing a webhook)
cannot apply anything twice.
"""

import logging
from datetime import timedelta

from functions.adapters.runpod import RunPodJobNotFound
from functions.bootstrap import Deps
from functions.core import jobs
from functions.core.paths import JOBS, job_path
from functions.handlers.outcomes import apply_runpod_status, fail
from functions.store import Query
from schemas.documents import JobDoc
from schemas.events import ClockTicked, JobRequested, JobReserved
from schemas.jobs import JobStatus

log = logging.getLogger(__name__)
BATCH = 200


def expire_jobs(event: ClockTicked, deps: Deps) -> None:
    for step in (expire_videos, reconcile_running, reannounce_stalled):
        try:
            step(deps)
        except Exception:  # noqa: BLE001 - one broken step must not starve the others; the next tick retries
            log.exception("clock tick step %s failed", step.__name__)


def _jobs(deps: Deps, where, order_by: str) -> list[JobDoc]:
    rows = deps.store.query(Query(JOBS, where=where, order_by=order_by, limit=BATCH))
    return [JobDoc.from_document(data) for _, data in rows]


def expire_videos(deps: Deps) -> None:
    now = deps.now()
    for job in _jobs(deps, [("status", "==", JobStatus.DONE.value), ("expiresAt", "<=", now)], "expiresAt"):
        if job.output:
            deps.storage.delete(job.output.r2_key)
        if job.image and job.image.r2_key:
            deps.storage.delete(job.image.r2_key)
        deps.store.decide([job_path(job.job_id)], lambda docs, j=job: jobs.decide_move(docs, j.job_id, JobStatus.EXPIRED, now))
        log.info("video expired and deleted", extra={"job_id": job.job_id, "trace_id": job.trace_id, "user_id": job.user_id})


def reconcile_running(deps: Deps) -> None:
    """Jobs RunPod should have reported on by now: ask RunPod, as if the webhook had come."""
    cutoff = deps.now() - timedelta(seconds=deps.settings.reconcile_after_s)
    live = [JobStatus.QUEUED.value, JobStatus.RUNNING.value]
    for job in _jobs(deps, [("status", "in", live), ("updatedAt", "<=", cutoff)], "updatedAt"):
        try:
            status = deps.runpod.status(job.runpod_job_id)
        except RunPodJobNotFound:
            fail(deps, job, "lost_by_runpod", "RunPod lost this job")
            continue
        if apply_runpod_status(deps, job, status) is job:
            _touch(deps, job)  # still going: look again after reconcile_after_s, not every tick


def _touch(deps: Deps, job: JobDoc) -> None:
    now = deps.now()
    deps.store.decide([job_path(job.job_id)], lambda docs: jobs.decide_update(docs, job.job_id, job.status, now))


def reannounce_stalled(deps: Deps) -> None:
    """A publish lost after its commit leaves a job pending or reserved: announce it again."""
    now = deps.now()
    cutoff = now - timedelta(seconds=deps.settings.republish_after_s)
    for job in _jobs(deps, [("status", "==", JobStatus.PENDING.value), ("updatedAt", "<=", cutoff)], "updatedAt"):
        deps.publisher.publish(JobRequested(job_id=job.job_id, occurred_at=now, trace_id=job.trace_id))
    for job in _jobs(deps, [("status", "==", JobStatus.RESERVED.value), ("updatedAt", "<=", cutoff)], "updatedAt"):
        if not (job.submit_claim_until and job.submit_claim_until > now):
            deps.publisher.publish(JobReserved(job_id=job.job_id, occurred_at=now, trace_id=job.trace_id))
