"""submit_job (job-reserved -> RunPod /run -> queued) and cancel_generation (job-canceled -> /cancel).

RunPod's /run has no idempotency key, so a redelivered or concurrent job-reserved must not call
it twice: the submitter first *claims* the job (a lease on the job document), and only the
claimant calls RunPod. A claimant that crashed leaves a lease that expires; the reconciler
re-announces the job.
"""

import logging
import secrets
from datetime import timedelta
from urllib.parse import urlencode

from functions.adapters.runpod import RunPodJobNotFound, RunPodRejected, RunPodUnavailable
from functions.bootstrap import Deps
from functions.core import jobs, webhook_token
from functions.core.paths import job_path
from functions.handlers.outcomes import fail
from functions.handlers.status_changes import status_changed
from functions.store.port import Decision, Docs
from schemas.documents import JobDoc
from schemas.events import JobCanceled, JobReserved
from schemas.generation import GenerationInput, Segment
from schemas.jobs import JobStatus

log = logging.getLogger(__name__)


class SubmissionRetry(Exception):
    """RunPod could not take the job now; let Pub/Sub redeliver job-reserved."""


def submit_job(event: JobReserved, deps: Deps) -> None:
    settings = deps.settings
    now = deps.now()
    token = secrets.token_hex(8)
    claimed: JobDoc | None = deps.store.decide(
        [job_path(event.job_id)],
        lambda docs: _decide_claim(docs, event.job_id, token, now, timedelta(seconds=settings.submit_claim_s)),
    )
    if claimed is None:
        return  # not reserved any more, or someone else is submitting it right now
    if claimed.submit_attempts > settings.submit_max_attempts:
        fail(deps, claimed, "runpod_unavailable", f"RunPod did not accept the job after {settings.submit_max_attempts} attempts")
        return
    try:
        runpod_job_id = deps.runpod.run(
            generation_input(claimed).to_wire(),
            webhook=webhook_url(deps, claimed.job_id),
            execution_timeout_ms=settings.runpod_execution_timeout_s * 1000,
            ttl_ms=settings.runpod_ttl_s * 1000,
        )
    except RunPodRejected as exc:
        fail(deps, claimed, "runpod_rejected", f"RunPod refused the job: {exc}")
        return
    except RunPodUnavailable as exc:
        deps.store.decide(
            [job_path(claimed.job_id)],
            lambda docs: jobs.decide_update(docs, claimed.job_id, JobStatus.RESERVED, deps.now(), submit_claim=None, submit_claim_until=None),
        )
        raise SubmissionRetry(f"RunPod unavailable (attempt {claimed.submit_attempts}): {exc}") from exc
    _record_queued(deps, claimed, runpod_job_id)


def _decide_claim(docs: Docs, job_id: str, token: str, now, lease: timedelta) -> Decision[JobDoc | None]:
    job = jobs.load_job(docs, job_id)
    if job.status is not JobStatus.RESERVED or (job.submit_claim_until and job.submit_claim_until > now):
        return Decision(result=None)
    claimed = job.model_copy(
        update={"submit_claim": token, "submit_claim_until": now + lease, "submit_attempts": job.submit_attempts + 1, "updated_at": now}
    )
    return Decision([jobs.put(job_path(job_id), claimed)], claimed)


def _record_queued(deps: Deps, claimed: JobDoc, runpod_job_id: str) -> None:
    now = deps.now()
    job = deps.store.decide(
        [job_path(claimed.job_id)],
        lambda docs: jobs.decide_move(
            docs, claimed.job_id, JobStatus.QUEUED, now,
            runpod_job_id=runpod_job_id, submitted_at=now, submit_claim=None, submit_claim_until=None,
        ),
    )
    status_changed(deps, claimed, job.status)
    log.info("submitted to RunPod as %s (attempt %d)", runpod_job_id, claimed.submit_attempts,
             extra={"job_id": claimed.job_id, "trace_id": claimed.trace_id, "user_id": claimed.user_id})
    if job.runpod_job_id != runpod_job_id:
        # Canceled while we were submitting, or another submitter won: this RunPod job is an orphan.
        log.warning("job %s is %s; canceling orphan RunPod job %s", job.job_id, job.status, runpod_job_id)
        if not cancel_quietly(deps, runpod_job_id) and job.status is JobStatus.CANCELED:
            # Not stopped, and nobody else knows of it: the canceled job keeps it until the tick's
            # re-announced JobCanceled stops it (as for a cancel whose announcement was lost).
            deps.store.decide([job_path(job.job_id)], lambda docs: _decide_orphan(docs, job.job_id, runpod_job_id, deps.now()))


def generation_input(job: JobDoc) -> GenerationInput:
    """What RunPod receives. It echoes this in webhooks and logs: never put a secret here."""
    return GenerationInput(
        job_id=job.job_id,
        prompt=job.shots[0] if job.shots else job.prompt,
        segments=[Segment(prompt=shot) for shot in job.shots] if job.shots else None,
        continues=job.continues,
        duration_sec=job.duration_sec,
        seed=job.seed,
        image=job.image,
        output_key=f"videos/{job.job_id}.mp4",
        aspect_ratio=job.aspect_ratio,
        negative_prompt=job.negative_prompt,
        quality=job.quality,
    )


def webhook_url(deps: Deps, job_id: str) -> str:
    secret = deps.settings.runpod_webhook_secret.get_secret_value()
    query = urlencode({"jobId": job_id, "token": webhook_token.token_for(secret, job_id)})
    return f"{deps.settings.public_api_base_url.rstrip('/')}/webhooks/runpod?{query}"


def cancel_generation(event: JobCanceled, deps: Deps) -> None:
    """Stop the canceled job's RunPod job, then clear the job's flag (the tick re-announces until then)."""
    if event.runpod_job_id:
        try:
            deps.runpod.cancel(event.runpod_job_id)
        except RunPodJobNotFound:
            pass  # already ended and forgotten: nothing left to stop
        except RunPodRejected as exc:
            log.error("RunPod refused to cancel %s: %s", event.runpod_job_id, exc, extra={"job_id": event.job_id})
    now = deps.now()
    deps.store.decide([job_path(event.job_id)], lambda docs: _decide_stopped(docs, event.job_id, now))


def _decide_stopped(docs: Docs, job_id: str, now) -> Decision[None]:
    if docs[job_path(job_id)] is None:
        return Decision()
    job = jobs.load_job(docs, job_id)
    if not job.runpod_cancel_pending:
        return Decision()
    return Decision([jobs.put(job_path(job_id), job.model_copy(update={"runpod_cancel_pending": False, "updated_at": now}))])


def cancel_quietly(deps: Deps, runpod_job_id: str) -> bool:
    """Stop a RunPod job nobody will settle (an orphan); false (and logged) if it may still run."""
    try:
        deps.runpod.cancel(runpod_job_id)
    except RunPodJobNotFound:
        return True  # ended and forgotten already
    except (RunPodRejected, RunPodUnavailable) as exc:
        log.warning("could not cancel orphan RunPod job %s: %s", runpod_job_id, exc)
        return False
    return True


def _decide_orphan(docs: Docs, job_id: str, runpod_job_id: str, now) -> Decision[None]:
    job = jobs.load_job(docs, job_id)
    if job.status is not JobStatus.CANCELED or job.runpod_job_id is not None:
        return Decision()
    flagged = job.model_copy(update={"runpod_job_id": runpod_job_id, "runpod_cancel_pending": True, "updated_at": now})
    return Decision([jobs.put(job_path(job_id), flagged)])
