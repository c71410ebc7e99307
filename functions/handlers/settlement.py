"""runpod_webhook (HTTP) and settle_job (generation-finished).

RunPod's webhook is unsigned and its body is not trusted: the token in the URL proves only that
the call concerns this job; settle_job asks RunPod's /status before money moves.
"""

import logging

from functions.adapters.runpod import RunPodJobNotFound
from functions.bootstrap import Deps
from functions.core import webhook_token
from functions.core.paths import job_path
from functions.handlers.outcomes import apply_runpod_status, fail
from functions.handlers.submission import cancel_quietly
from functions.http.body import json_object
from functions.http.endpoint import Call, Reply
from functions.http.errors import ApiError
from schemas.documents import JobDoc
from schemas.events import GenerationFinished
from schemas.jobs import JobStatus
from schemas.runpod import RunPodWebhook

log = logging.getLogger(__name__)


class NotQueuedYet(Exception):
    """The webhook outran submit_job's own write; redelivery will find the job queued."""


def runpod_webhook(call: Call, deps: Deps) -> Reply:
    job_id = call.request.args.get("jobId", "")
    token = call.request.args.get("token", "")
    if not webhook_token.is_valid(deps.settings.runpod_webhook_secret.get_secret_value(), job_id, token):
        raise ApiError(401, "unauthorized", "the webhook token is not valid for this job")
    body = RunPodWebhook.model_validate(json_object(call.request, any_label=True))
    deps.publisher.publish(
        GenerationFinished(job_id=job_id, runpod_job_id=body.id, reported_status=body.status.value, occurred_at=deps.now())
    )
    return 200, {"received": True}


def settle_job(event: GenerationFinished, deps: Deps) -> None:
    data = deps.store.get(job_path(event.job_id))
    if data is None:
        log.error("webhook for unknown job %s", event.job_id)
        return
    job = JobDoc.from_document(data)
    if job.status.is_terminal:
        return  # late or duplicated: the job already ended
    if job.status in (JobStatus.PENDING, JobStatus.RESERVED):
        raise NotQueuedYet(f"job {job.job_id} is {job.status}")
    if job.runpod_job_id != event.runpod_job_id:
        # A second submission (a submitter that died after /run) ran too: stop paying for it.
        log.warning("job %s runs as %s; canceling orphan RunPod job %s", job.job_id, job.runpod_job_id, event.runpod_job_id,
                    extra={"job_id": job.job_id, "trace_id": job.trace_id})
        cancel_quietly(deps, event.runpod_job_id)
        return
    try:
        status = deps.runpod.status(event.runpod_job_id)
    except RunPodJobNotFound:
        fail(deps, job, "result_unavailable", "RunPod no longer knows this job; its result cannot be confirmed")
        return
    apply_runpod_status(deps, job, status)
