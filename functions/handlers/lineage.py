"""POST /jobs/{id}/remix: a new clip made from a done one. The child is an ordinary job (reserved,
charged and settled like any), which names its parent; the parent's page lists its children.

Only a done, unexpired clip can be a parent: its seed and frame shape are then facts, and the
image it started from (kept until the parent expires) is still in the bucket.
"""

from functions.bootstrap import Deps
from functions.core.errors import InputRejected
from functions.core.guards import check_quality, clean_prompt
from functions.handlers.create_job import commit_new_job, idempotency_key, new_job, new_job_id, replayed, request_hash
from functions.handlers.jobs_api import owned_job
from functions.handlers.views import aspect_ratio
from functions.http.body import json_object
from functions.http.endpoint import Call, Reply
from schemas.api import RemixRequest
from schemas.documents import JobDoc
from schemas.jobs import JobStatus


def remix_job(call: Call, deps: Deps) -> Reply:
    parent = owned_job(deps, call.user_id, call.params["jobId"])
    body = RemixRequest.model_validate(json_object(call.request))
    blocked = deps.settings.blocked_terms
    prompt = clean_prompt(body.prompt, blocked)
    negative = clean_prompt(body.negative_prompt, blocked, "negativePrompt") if body.negative_prompt else parent.negative_prompt
    usable_parent(parent, deps, "remixed")
    check_quality(parent.quality, deps.settings.fast_weights_deployed)
    seed = body.seed if body.seed is not None else parent.output.seed
    key = idempotency_key(call)
    fingerprint = request_hash({"remixOf": parent.job_id, "prompt": prompt, "negativePrompt": negative, "seed": seed})
    if key and (replay := replayed(deps, call.user_id, key, fingerprint)):
        return 202, replay
    child = new_job(
        call, deps, new_job_id(), prompt=prompt, negative_prompt=negative, seed=seed, duration_sec=parent.duration_sec,
        image=parent.image, aspect_ratio=aspect_ratio(parent), parent_job_id=parent.job_id, lineage="remix",
        quality=parent.quality,
    )
    return 202, commit_new_job(deps, child, key, fingerprint)


def usable_parent(parent: JobDoc, deps: Deps, verb: str) -> None:
    """A done clip whose video still exists, or ``InputRejected`` (409) naming the job."""
    expired = parent.status is JobStatus.EXPIRED or (parent.expires_at is not None and parent.expires_at <= deps.now())
    if expired:
        raise InputRejected("job_expired", f"job {parent.job_id} has expired and its video was deleted; it cannot be {verb}",
                            "jobId", 409)
    if parent.status is not JobStatus.DONE or parent.output is None:
        raise InputRejected("job_not_done", f"job {parent.job_id} is {parent.status}; only a done clip can be {verb}",
                            "jobId", 409)
