"""POST /jobs/create: validate, store the job as pending, announce it. Credits are reserved later."""

import hashlib
import json
import logging
import re
import secrets
import time
from dataclasses import dataclass

from functions.bootstrap import Deps
from functions.core import jobs
from functions.core.plans import clip_credits
from functions.core.errors import InputRejected
from functions.core.guards import check_image, check_quality, clean_prompt
from functions.core.paths import idempotency_path
from functions.handlers.image_url import check_image_url, fetch_image_url
from functions.http.body import json_object
from functions.http.endpoint import Call, Reply
from functions.http.errors import ApiError
from schemas.api import CreateJobRequest, CreateJobResponse, Shot
from schemas.documents import JobDoc, StatusChange
from schemas.events import JobRequested
from schemas.generation import ImageSource
from schemas.jobs import JobStatus, Quality, credits_for, segments_for

log = logging.getLogger(__name__)
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


@dataclass(frozen=True)
class Upload:
    data: bytes
    filename: str


def new_job_id() -> str:
    """Sortable by creation time, unguessable."""
    return f"job_{time.time_ns() // 1_000_000:012x}{secrets.token_hex(8)}"


def create_job(call: Call, deps: Deps) -> Reply:
    settings = deps.settings
    body, upload = _parse_body(call)
    shots = storyboard(body.shots, body.duration_sec, settings.blocked_terms) if body.shots else None
    if body.prompt is None and shots is None:
        raise InputRejected("invalid_request", "prompt: give a prompt (or, for a 10 or 15 s clip, shots)", "prompt")
    prompt = clean_prompt(body.prompt, settings.blocked_terms) if body.prompt else " / ".join(shots)
    negative = clean_prompt(body.negative_prompt, settings.blocked_terms, "negativePrompt") if body.negative_prompt else None
    check_quality(body.quality, settings.fast_weights_deployed)
    if body.image_url and upload:
        raise InputRejected("invalid_request", "give either an image upload or imageUrl, not both", "imageUrl")
    if body.image_url:
        check_image_url(deps, str(body.image_url))
    image_kind = check_image(upload.data, settings.image_max_bytes, settings.image_max_side_px) if upload else None
    if body.webhook_events and not body.webhook_url:
        raise InputRejected("invalid_request", "webhookEvents needs a webhookUrl", "webhookEvents")
    if body.webhook_url:
        from functions.handlers.webhook_targets import check_receiver

        check_receiver(deps, body.webhook_url, "webhookUrl")

    key = idempotency_key(call)
    fingerprint = request_hash({
        "prompt": prompt,
        "durationSec": body.duration_sec,
        "seed": body.seed,
        "imageUrl": str(body.image_url) if body.image_url else None,
        "image": hashlib.sha256(upload.data).hexdigest() if upload else None,
        "aspectRatio": body.aspect_ratio,
        "negativePrompt": negative,
        "quality": body.quality,
        **({"webhookUrl": body.webhook_url, "webhookEvents": sorted(body.webhook_events or [])} if body.webhook_url else {}),
        "shots": shots,
    })
    if key and (replay := replayed(deps, call.user_id, key, fingerprint)):
        return 202, replay

    if body.image_url:  # after the replay check: a retried request does not fetch again
        upload = Upload(fetch_image_url(deps, str(body.image_url)), "")
        image_kind = check_image(upload.data, settings.image_max_bytes, settings.image_max_side_px, "imageUrl")
    job_id = new_job_id()
    image = None
    if upload and image_kind:
        image = ImageSource(r2_key=f"inputs/{job_id}.{image_kind.extension}")
        deps.storage.put(image.r2_key, upload.data, image_kind.mime)
    job = new_job(call, deps, job_id, prompt=prompt, duration_sec=body.duration_sec, seed=body.seed, image=image,
                  aspect_ratio=body.aspect_ratio, negative_prompt=negative, quality=body.quality, shots=shots,
                  webhook_url=body.webhook_url, webhook_events=tuple(e.value for e in dict.fromkeys(body.webhook_events)) if body.webhook_events else None)
    return 202, commit_new_job(deps, job, key, fingerprint)


def storyboard(shots: list[Shot], duration_sec: int, blocked_terms: tuple[str, ...]) -> tuple[str, ...]:
    """One checked prompt per 5 s segment, or ``InputRejected`` naming the list or the shot."""
    wanted = segments_for(duration_sec)
    if wanted == 1:
        raise InputRejected("invalid_shots", "shots are for 10 and 15 s clips (one per 5 s); a 5 s clip takes a prompt", "shots")
    if len(shots) != wanted:
        raise InputRejected("invalid_shots", f"a {duration_sec} s clip takes exactly {wanted} shots (one per 5 s), got {len(shots)}",
                            "shots")
    return tuple(clean_prompt(shot.prompt, blocked_terms, f"shots.{n}.prompt") for n, shot in enumerate(shots))


def new_job(call: Call, deps: Deps, job_id: str, **fields) -> JobDoc:
    """A pending job of the caller's, charged for the seconds it generates (``durationSec``)."""
    now = deps.now()
    return JobDoc(
        job_id=job_id,
        user_id=call.user_id,
        status=JobStatus.PENDING,
        credits=clip_credits(fields["duration_sec"], fields.get("quality", Quality.STANDARD)),
        created_at=now,
        updated_at=now,
        trace_id=call.trace.trace_id,  # validated at the edge (functions/http/trace_context.py)
        history=(StatusChange(status=JobStatus.PENDING, at=now),),
        child_job_ids=(),
        **fields,
    )


def commit_new_job(deps: Deps, job: JobDoc, key: str | None, fingerprint: str) -> CreateJobResponse:
    """Store the job (or find the first one made with this Idempotency-Key) and announce it."""
    created = deps.store.decide(
        jobs.create_paths(job, key),
        lambda docs: jobs.decide_create(docs, job, key, fingerprint, deps.settings.max_active_jobs),
    )
    if created.outcome is jobs.CreateOutcome.CREATED:
        # Never the prompt at INFO: its length says enough to operate on.
        log.info("job created: %d s, %d prompt chars%s%s", job.duration_sec, len(job.prompt),
                 ", with an image" if job.image else "", f", {job.lineage} of {job.parent_job_id}" if job.lineage else "",
                 extra={"job_id": job.job_id, "trace_id": job.trace_id, "user_id": job.user_id})
        announce(deps, JobRequested(job_id=job.job_id, occurred_at=job.created_at, trace_id=job.trace_id))
    return CreateJobResponse(job_id=created.job_id, status=JobStatus.PENDING)


def announce(deps: Deps, event) -> None:
    """Publish after the commit. A lost publish is repaired by the reconciler, never by failing the request."""
    try:
        deps.publisher.publish(event)
    except Exception:  # noqa: BLE001 - the job is stored; the clock tick re-announces stuck jobs
        log.exception("could not publish %s; the reconciler will retry", event.idempotency_key)


def _parse_body(call: Call) -> tuple[CreateJobRequest, Upload | None]:
    request = call.request
    if request.mimetype == "multipart/form-data":
        fields: dict = {k: v for k, v in request.form.items() if v != ""}
        if shots := request.form.getlist("shots"):  # a storyboard in a form: the field once per shot
            fields["shots"] = [{"prompt": shot} for shot in shots]
        for name in ("durationSec", "seed"):
            # ASCII digits only (str.isdigit() takes "²", which int() refuses); a number too long
            # for int() stays a string and fails validation like any other non-number.
            if name in fields and (digits := fields[name].strip()).isascii() and digits.isdigit() and len(digits) <= 20:
                fields[name] = int(digits)
        if "webhookEvents" in fields:  # a form field holds one value: the events, comma-separated
            fields["webhookEvents"] = [e.strip() for e in fields["webhookEvents"].split(",") if e.strip()]
        file = request.files.get("image")
        upload = Upload(file.read(), file.filename or "") if file else None
        return CreateJobRequest.model_validate(fields), upload
    return CreateJobRequest.model_validate(json_object(request)), None


def idempotency_key(call: Call) -> str | None:
    key = call.request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not _IDEMPOTENCY_KEY.match(key):
        raise ApiError(400, "invalid_idempotency_key", "Idempotency-Key must be 1-255 printable ASCII characters", "Idempotency-Key")
    return key


def request_hash(canonical: dict) -> str:
    """What an Idempotency-Key is bound to: the request as it will be stored, not its bytes."""
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


def replayed(deps: Deps, user_id: str, key: str, fingerprint: str) -> CreateJobResponse | None:
    """The first response to this key, checked before any upload; the commit checks again."""
    first = jobs.replay(deps.store.get(idempotency_path(user_id, key)), fingerprint)
    return CreateJobResponse(job_id=first.job_id, status=JobStatus.PENDING) if first else None
