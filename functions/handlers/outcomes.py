"""Ending a job from what RunPod says: shared by the webhook path and the reconciler."""

import json
import logging
import re
from datetime import timedelta

from pydantic import ValidationError

from functions.bootstrap import Deps
from functions.core import jobs, rollups
from functions.core.paths import job_path
from functions.core.pricing import UNKNOWN_GPU, GpuPrices
from functions.handlers.status_changes import status_changed
from schemas.documents import JobDoc, JobError
from schemas.generation import GenerationOutput, failure_code
from schemas.jobs import JobStatus
from schemas.runpod import RunPodState, RunPodStatus

log = logging.getLogger(__name__)

_FAILURE_CODES = {
    RunPodState.FAILED: "generation_failed",
    RunPodState.TIMED_OUT: "generation_timed_out",
    RunPodState.CANCELLED: "generation_canceled",
}


def finish(deps: Deps, job: JobDoc, outcome: jobs.Outcome) -> JobDoc:
    now = deps.now()
    ended = deps.store.decide(jobs.finish_paths(job, now), lambda docs: jobs.decide_finish(docs, job.job_id, outcome, now))
    context = {"job_id": job.job_id, "trace_id": job.trace_id, "user_id": job.user_id}
    if ended.status is job.status:
        return ended  # a late or repeated outcome: nothing changed
    log.info("job ended", extra={**context, "event": "job_ended", "job_status": ended.status.value,
                                 "generation_s": rollups.total_seconds(ended), "cost_usd": ended.cost_usd or 0.0,
                                 "gpu_type": ended.gpu_type})
    status_changed(deps, job, ended.status)
    if isinstance(outcome, jobs.Failed):
        log.warning("job settled as %s (refunded): %s: %s", ended.status, outcome.error.code, outcome.error.message, extra=context)
    else:
        log.info("job settled as %s: %.1f GPU s, $%.6f", ended.status, ended.gpu_seconds or 0, ended.cost_usd or 0, extra=context)
    return ended


def gpu_prices(deps: Deps) -> GpuPrices:
    s = deps.settings
    return GpuPrices(s.gpu_prices_usd_per_second, s.gpu_price_per_second_usd)


def fail(deps: Deps, job: JobDoc, code: str, message: str, gpu_seconds: float | None = None) -> JobDoc:
    # A failed run returns no output, so no GPU name: it is priced as the preferred type.
    prices = gpu_prices(deps)
    cost = prices.cost_usd(gpu_seconds, UNKNOWN_GPU) if gpu_seconds is not None else None
    gpu = UNKNOWN_GPU if gpu_seconds is not None else None
    return finish(deps, job, jobs.Failed(JobError(code=code, message=message[:1000]), gpu_seconds, cost, gpu))


def apply_runpod_status(deps: Deps, job: JobDoc, status: RunPodStatus) -> JobDoc:
    """Settle or refund a job whose RunPod outcome is confirmed; note progress if it is still going."""
    if status.status is RunPodState.COMPLETED:
        return finish(deps, job, _success(deps, job, status))
    if status.status in _FAILURE_CODES:
        if status.error:
            log.warning("RunPod job %s ended %s: %s", status.id, status.status, status.error, extra={"job_id": job.job_id})
        code, message = failure_code(user_message(status.error))
        code = code.value if code else _FAILURE_CODES[status.status]  # image_refused, output_refused ...
        return fail(deps, job, code, message or f"RunPod says {status.status}", _gpu_seconds(status))
    if status.status is RunPodState.IN_PROGRESS and job.status is JobStatus.QUEUED:
        now = deps.now()
        running = deps.store.decide(
            [job_path(job.job_id)], lambda docs: jobs.decide_move(docs, job.job_id, JobStatus.RUNNING, now, started_at=now)
        )
        status_changed(deps, job, running.status)
        return running
    return job


def user_message(error: object) -> str:
    """What the user sees of a worker's error. The SDK reports an uncaught exception as JSON with
    its traceback (our file paths, code lines): keep its type and message, the log keeps the rest."""
    if not error:
        return ""
    text = str(error)
    try:
        reported = json.loads(text)
    except ValueError:
        return text
    if not isinstance(reported, dict) or "error_message" not in reported:
        return text
    kind = re.sub(r"^<class '(?:[\w.]+\.)?(\w+)'>$", r"\1", str(reported.get("error_type", "")))
    return f"{kind}: {reported['error_message']}" if kind else str(reported["error_message"])


def _success(deps: Deps, job: JobDoc, status: RunPodStatus) -> jobs.Outcome:
    try:
        output = GenerationOutput.model_validate(status.output)
    except ValidationError as exc:
        return jobs.Failed(JobError(code="invalid_output", message=f"the worker returned no usable result: {exc.error_count()} errors"))
    if not deps.storage.exists(output.r2_key):
        return jobs.Failed(JobError(code="output_missing", message="the worker reported a video that is not in the bucket"))
    gpu_seconds = _gpu_seconds(status) or 0.0
    prices = gpu_prices(deps)
    gpu = prices.gpu_type(output.gpu_type)
    if output.gpu_type and gpu == UNKNOWN_GPU:
        log.warning("GPU %r is not in the price table: priced at the fallback", output.gpu_type, extra={"job_id": job.job_id})
    return jobs.Succeeded(
        output=output,
        expires_at=deps.now() + timedelta(hours=deps.settings.video_ttl_hours),
        gpu_seconds=gpu_seconds,
        cost_usd=prices.cost_usd(gpu_seconds, gpu),
        gpu_type=gpu,
    )


def _gpu_seconds(status: RunPodStatus) -> float | None:
    return status.execution_time / 1000 if status.execution_time is not None else None
