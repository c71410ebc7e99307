"""Adding an ended job to its day's rollup shard: a pure step of the decision that ends the job.

The shard is chosen from the job id, so every retry of that decision writes the same document;
the job's own state change in the same commit makes a second count impossible (a redelivered
outcome finds the job already ended and writes nothing).
"""

import zlib
from datetime import UTC, datetime

from functions.core import histogram
from functions.core.paths import job_rollup_path
from schemas.documents import JobDoc
from schemas.jobs import JobStatus
from schemas.rollups import ColdStarts, CostTally, JobRollup, PlanTally, TimeTally

SHARDS = 8  # ~8 sustained writes a second per day: 690,000 ended jobs a day before a shard queues
NO_PLAN = "none"
_ENDED = {JobStatus.DONE: "done", JobStatus.FAILED: "failed", JobStatus.CANCELED: "canceled",
          JobStatus.REJECTED: "rejected"}


def day_of(moment: datetime) -> str:
    """The UTC day, as the shard's name spells it."""
    return moment.astimezone(UTC).date().isoformat()


def shard_path(job_id: str, ended_at: datetime) -> str:
    return job_rollup_path(day_of(ended_at), zlib.crc32(job_id.encode()) % SHARDS)


def times_key(duration_sec: int, quality: str) -> str:
    return f"{duration_sec}s-{quality}"


def run_seconds(job: JobDoc) -> float | None:
    """Running -> done from the job's history; a job never seen running (its webhook came first)
    falls back to RunPod's execution time."""
    running = next((c.at for c in reversed(job.history) if c.status is JobStatus.RUNNING), None)
    done = next((c.at for c in reversed(job.history) if c.status is JobStatus.DONE), None)
    if running and done:
        return max(0.0, (done - running).total_seconds())
    return job.gpu_seconds


def total_seconds(job: JobDoc) -> float | None:
    done = next((c.at for c in reversed(job.history) if c.status is JobStatus.DONE), None)
    return max(0.0, (done - job.created_at).total_seconds()) if done else None


def add_job(current: JobRollup | dict | None, job: JobDoc, ended_at: datetime, plan_id: str | None,
            refunded: bool) -> JobRollup:
    """The shard after counting ``job``, which has just ended (done, failed, canceled, rejected)."""
    if isinstance(current, dict):
        current = JobRollup.from_document(current)
    path = shard_path(job.job_id, ended_at)
    rollup = current or JobRollup(day=day_of(ended_at), shard=int(path.rsplit("_", 1)[1]))
    kind = _ENDED[job.status]
    update: dict = {"ended": _plus(rollup.ended, kind, 1)}
    if job.error and kind == "failed":
        update["failure_codes"] = _plus(rollup.failure_codes, job.error.code, 1)
    if refunded:
        update |= {"refunds": rollup.refunds + 1, "refunded_credits": rollup.refunded_credits + job.credits}
    gpu_seconds, cost = job.gpu_seconds or 0.0, job.cost_usd or 0.0
    update |= {"gpu_seconds": round(rollup.gpu_seconds + gpu_seconds, 3), "cost_usd": round(rollup.cost_usd + cost, 6)}
    done = kind == "done"
    run = run_seconds(job) if done else None
    if job.gpu_seconds is not None:
        gpu = job.gpu_type or "unknown"
        update["by_gpu"] = {**rollup.by_gpu, gpu: _cost(rollup.by_gpu.get(gpu), job, done, run)}
        duration = str(job.duration_sec)
        update["by_duration"] = {**rollup.by_duration, duration: _cost(rollup.by_duration.get(duration), job, done, run)}
    plan = plan_id or NO_PLAN
    held = rollup.by_plan.get(plan) or PlanTally()
    update["by_plan"] = {**rollup.by_plan, plan: held.model_copy(update={
        "credits": held.credits + (job.credits if done else 0), "cost_usd": round(held.cost_usd + cost, 6)})}
    if done:
        update["credits_done"] = rollup.credits_done + job.credits
        key = times_key(job.duration_sec, job.quality.value)  # standard for jobs from before profiles (JobDoc's default)
        tally = rollup.times.get(key) or TimeTally()
        total = total_seconds(job)
        update["times"] = {**rollup.times, key: tally.model_copy(update={
            "jobs": tally.jobs + 1,
            "run": histogram.record(tally.run, run) if run is not None else tally.run,
            "total": histogram.record(tally.total, total) if total is not None else tally.total,
        })}
        if job.output is not None:
            update["cold_starts"] = _cold(rollup.cold_starts, job)
    return rollup.model_copy(update=update)


def _plus(counts: dict[str, int], key: str, n: int) -> dict[str, int]:
    return {**counts, key: counts.get(key, 0) + n}


def _cost(tally: CostTally | None, job: JobDoc, done: bool, run: float | None) -> CostTally:
    tally = tally or CostTally()
    return tally.model_copy(update={
        "jobs": tally.jobs + 1,
        "clips": tally.clips + (1 if done else 0),
        "gpu_seconds": round(tally.gpu_seconds + (job.gpu_seconds or 0.0), 3),
        "cost_usd": round(tally.cost_usd + (job.cost_usd or 0.0), 6),
        "run": histogram.record(tally.run, run) if run is not None else tally.run,
    })


def _cold(tally: ColdStarts, job: JobDoc) -> ColdStarts:
    output = job.output
    cold = output.cold_start
    setup = output.setup_s or 0.0
    return tally.model_copy(update={
        "jobs": tally.jobs + 1,
        "cold": tally.cold + (1 if cold else 0),
        "setup_s": round(tally.setup_s + (setup if cold else 0.0), 3),
        "setup": histogram.record(tally.setup, setup) if cold else tally.setup,
    })
