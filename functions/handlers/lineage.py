"""POST /jobs/{id}/remix and /extend: a new clip made from a done one. The child is an ordinary job (reserved,
charged and settled like any), which names its parent; the parent's page lists its children.

Only a done, unexpired clip can be a parent: its seed and frame shape are then facts, and the
image it started from and its video (kept until the parent expires) are still in the bucket.

A remix re-renders the parent's clip with a new prompt. An extension continues the parent's video
from its last frame (the worker's segment chain, with the parent's frames first): it is charged
for the seconds it adds, and the video it makes is at most ``MAX_VIDEO_SECONDS`` long.
"""

from functions.bootstrap import Deps
from functions.core.errors import InputRejected
from functions.core.guards import check_quality, clean_prompt
from functions.handlers.create_job import commit_new_job, idempotency_key, new_job, new_job_id, replayed, request_hash
from functions.handlers.jobs_api import owned_job
from functions.handlers.views import aspect_ratio
from functions.http.body import json_object
from functions.http.endpoint import Call, Reply
from schemas.api import CreateJobResponse, ExtendRequest, RemixRequest
from schemas.documents import JobDoc
from schemas.generation import Continuation
from schemas.jobs import MAX_VIDEO_SECONDS, JobStatus


def remix_job(call: Call, deps: Deps) -> Reply:
    parent = owned_job(deps, call.user_id, call.params["jobId"])
    body = RemixRequest.model_validate(json_object(call.request))
    blocked = deps.settings.blocked_terms
    prompt = clean_prompt(body.prompt, blocked)
    negative = clean_prompt(body.negative_prompt, blocked, "negativePrompt") if body.negative_prompt else parent.negative_prompt
    usable_parent(parent, deps, "remixed")
    check_quality(parent.quality, deps.settings.fast_weights_deployed)
    if parent.continues:
        raise InputRejected("job_not_remixable", f"job {parent.job_id} is an extension; remix the clip it extends", "jobId", 409)
    seed = body.seed if body.seed is not None else parent.output.seed
    fingerprint = {"remixOf": parent.job_id, "prompt": prompt, "negativePrompt": negative, "seed": seed}
    return 202, _commit_child(call, deps, fingerprint, prompt=prompt, negative_prompt=negative, seed=seed,
                              duration_sec=parent.duration_sec, image=parent.image, aspect_ratio=aspect_ratio(parent),
                              parent_job_id=parent.job_id, lineage="remix", quality=parent.quality)


def extend_job(call: Call, deps: Deps) -> Reply:
    parent = owned_job(deps, call.user_id, call.params["jobId"])
    body = ExtendRequest.model_validate(json_object(call.request))
    own_prompt = parent.shots[-1] if parent.shots else parent.prompt  # a storyboard goes on from its last shot
    prompt = clean_prompt(body.prompt, deps.settings.blocked_terms) if body.prompt else own_prompt
    usable_parent(parent, deps, "extended")
    check_quality(parent.quality, deps.settings.fast_weights_deployed)
    seconds = parent.output.duration_sec
    if seconds + body.duration_sec > MAX_VIDEO_SECONDS:
        room = MAX_VIDEO_SECONDS - seconds
        more = f"at most {room} s more" if room >= 5 else "it cannot be extended again"
        raise InputRejected("video_too_long", f"an extended video is at most {MAX_VIDEO_SECONDS} s; this one is {seconds} s, "
                                              f"so {more}", "durationSec")
    continues = Continuation(video_key=parent.output.r2_key, frames=parent.output.frames, duration_sec=seconds)
    fingerprint = {"extends": parent.job_id, "durationSec": body.duration_sec, "prompt": prompt}
    return 202, _commit_child(call, deps, fingerprint, prompt=prompt, negative_prompt=parent.negative_prompt,
                              duration_sec=body.duration_sec, aspect_ratio=aspect_ratio(parent), continues=continues,
                              parent_job_id=parent.job_id, lineage="extend", quality=parent.quality)


def _commit_child(call: Call, deps: Deps, fingerprint: dict, **fields) -> CreateJobResponse:
    key = idempotency_key(call)
    digest = request_hash(fingerprint)
    if key and (replay := replayed(deps, call.user_id, key, digest)):
        return replay
    return commit_new_job(deps, new_job(call, deps, new_job_id(), **fields), key, digest)


def usable_parent(parent: JobDoc, deps: Deps, verb: str) -> None:
    """A done clip whose video still exists, or ``InputRejected`` (409) naming the job."""
    expired = parent.status is JobStatus.EXPIRED or (parent.expires_at is not None and parent.expires_at <= deps.now())
    if expired:
        raise InputRejected("job_expired", f"job {parent.job_id} has expired and its video was deleted; it cannot be {verb}",
                            "jobId", 409)
    if parent.status is not JobStatus.DONE or parent.output is None:
        raise InputRejected("job_not_done", f"job {parent.job_id} is {parent.status}; only a done clip can be {verb}",
                            "jobId", 409)
