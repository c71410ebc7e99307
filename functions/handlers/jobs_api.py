"""GET /jobs/{id}, GET /jobs, POST /jobs/{id}/cancel."""

import logging

from functions.bootstrap import Deps
from functions.core import jobs
from functions.core.errors import NotFound
from functions.core.paths import JOBS, job_path
from functions.handlers.create_job import announce
from functions.handlers.status_changes import status_changed
from functions.handlers.views import job_view
from functions.http.endpoint import Call, Reply
from functions.http.errors import ApiError
from functions.http.params import int_param
from functions.store import Query
from schemas.api import JobList, JobView
from schemas.documents import JobDoc, JobProgress
from schemas.events import JobCanceled
from schemas.generation import GenerationProgress
from schemas.jobs import JobStatus

log = logging.getLogger(__name__)

_LIVE = (JobStatus.QUEUED, JobStatus.RUNNING)


def owned_job(deps: Deps, user_id: str, job_id: str) -> JobDoc:
    """The caller's job; another user's job is indistinguishable from a missing one."""
    data = deps.store.get(job_path(job_id))
    if data is None or data.get("userId") != user_id:
        raise NotFound(f"job {job_id} not found", "jobId")
    return JobDoc.from_document(data)


def get_job(call: Call, deps: Deps) -> Reply:
    return 200, live_view(deps, owned_job(deps, call.user_id, call.params["jobId"]))


def live_view(deps: Deps, job: JobDoc) -> JobView:
    return observed(deps, job)[1]


def observed(deps: Deps, job: JobDoc) -> tuple[JobDoc, JobView]:
    """The job as a client sees it now (live progress from RunPod, its place in the queue), and
    the document after what that observation recorded (queued -> running)."""
    progress = None
    if job.status in _LIVE and job.runpod_job_id:
        job, progress = _observe_runpod(deps, job)
    now = deps.now()
    children = children_of(deps, job)
    view = job_view(job, now, deps.storage, progress, children)
    if job.status is JobStatus.DONE and view.video is None and job.expires_at and job.expires_at > now:
        # The bucket's lifecycle deleted the video before our expiry did: say so, as expiry would.
        log.warning("video gone from the bucket before its expiry", extra={"job_id": job.job_id, "trace_id": job.trace_id})
        done = job
        job = deps.store.decide([job_path(job.job_id)], lambda docs: jobs.decide_move(docs, done.job_id, JobStatus.EXPIRED, now))
        status_changed(deps, done, job.status)
        view = job_view(job, now, deps.storage, None, children)
    position, eta = deps.queue_stats.estimate(job)
    return job, view.model_copy(update={"queue_position": position, "eta_seconds": eta}) if position is not None else view


def children_of(deps: Deps, job: JobDoc) -> tuple[JobDoc, ...]:
    """Jobs made from this one: none to read for most jobs; by id, in one batched read, for a job
    that lists them; by query (one equality, which Firestore's automatic single-field index serves)
    for a document from before children were listed on it."""
    if job.child_job_ids == ():
        return ()
    if job.child_job_ids is None:
        rows = deps.store.query(Query(JOBS, where=[("parentJobId", "==", job.job_id)], limit=jobs.MAX_CHILDREN))
        found = [data for _, data in rows]
    else:
        found = [data for data in deps.store.get_many([job_path(c) for c in job.child_job_ids]).values() if data]
    return tuple(child for data in found if (child := JobDoc.from_document(data)).user_id == job.user_id)


def _observe_runpod(deps: Deps, job: JobDoc) -> tuple[JobDoc, JobProgress | None]:
    """Live progress from RunPod (cached briefly); records queued -> running when RunPod says so."""
    from schemas.runpod import RunPodState

    try:
        status = deps.runpod_status.get(job.runpod_job_id)
    except Exception as exc:  # noqa: BLE001 - progress is best effort; the stored state still answers
        log.warning("no RunPod status for %s: %s", job.job_id, exc)
        return job, None
    if status.status is not RunPodState.IN_PROGRESS:
        return job, None
    progress = _progress(status.output)
    if job.status is JobStatus.QUEUED:
        now = deps.now()
        queued = job
        job = deps.store.decide(
            [job_path(job.job_id)],
            lambda docs: jobs.decide_move(docs, queued.job_id, JobStatus.RUNNING, now, started_at=now),
        )
        status_changed(deps, queued, job.status)
    return job, progress


def _progress(output: object) -> JobProgress | None:
    try:
        reported = GenerationProgress.model_validate(output)
    except ValueError:
        return None
    return JobProgress(stage=reported.stage.value, percent=reported.percent, step=reported.step, steps=reported.steps,
                       segment=reported.segment, segments=reported.segments)


def list_jobs(call: Call, deps: Deps) -> Reply:
    limit = int_param(call, "limit", default=20, low=1, high=100)
    cursor = call.request.args.get("cursor")
    if cursor is not None and not jobs_cursor_ok(cursor):
        raise ApiError(400, "invalid_cursor", "cursor is not one this API issued", "cursor")
    rows = deps.store.query(
        Query(
            JOBS,
            where=[("userId", "==", call.user_id)],
            order_by="createdAt",
            descending=True,
            limit=limit + 1,
            start_after=job_path(cursor) if cursor else None,
        )
    )
    page = [JobDoc.from_document(data) for _, data in rows[:limit]]
    now = deps.now()
    return 200, JobList(
        jobs=[job_view(job, now, deps.storage) for job in page],
        next_cursor=page[-1].job_id if len(rows) > limit else None,
    )


def jobs_cursor_ok(cursor: str) -> bool:
    return cursor.startswith("job_") and cursor[4:].isalnum() and len(cursor) <= 64


def cancel_job(call: Call, deps: Deps) -> Reply:
    job = owned_job(deps, call.user_id, call.params["jobId"])
    now = deps.now()
    canceled = deps.store.decide(jobs.finish_paths(job, now), lambda docs: jobs.decide_finish(docs, job.job_id, jobs.Canceled(), now))
    status_changed(deps, job, canceled.status)
    if canceled.status is JobStatus.CANCELED:
        log.info("job canceled by its owner; credits refunded", extra={"job_id": job.job_id, "trace_id": job.trace_id, "user_id": job.user_id})
        announce(deps, JobCanceled(job_id=job.job_id, runpod_job_id=canceled.runpod_job_id, occurred_at=now, trace_id=job.trace_id))
    return 200, job_view(canceled, now)
