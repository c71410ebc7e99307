"""reserve_credits: on job-requested, hold the job's credits or reject it."""

import logging

from functions.bootstrap import Deps
from functions.core import jobs
from functions.core.paths import job_path
from functions.handlers.status_changes import status_changed
from schemas.events import JobRequested, JobReserved
from schemas.jobs import JobStatus

log = logging.getLogger(__name__)


def reserve_credits(event: JobRequested, deps: Deps) -> None:
    job = jobs.load_job({job_path(event.job_id): deps.store.get(job_path(event.job_id))}, event.job_id)
    now = deps.now()
    status = deps.store.decide(jobs.reserve_paths(job, now), lambda docs: jobs.decide_reserve(docs, job.job_id, now))
    log.info("reserve %d credits: job is %s", job.credits, status,
             extra={"job_id": job.job_id, "trace_id": job.trace_id, "user_id": job.user_id})
    status_changed(deps, job, status)
    if status is JobStatus.RESERVED:
        # Also on a redelivery: the first announcement may be the thing that was lost. Submission
        # is idempotent, so announcing twice costs nothing.
        deps.publisher.publish(JobReserved(job_id=job.job_id, occurred_at=now, trace_id=event.trace_id))
