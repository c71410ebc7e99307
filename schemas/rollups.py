"""Rollup documents: what settlement adds up as jobs end, so reports never read the jobs.

``job_rollups/{day}_{shard}``: one UTC day of ended jobs, spread over a few shards (Firestore
sustains about one write a second per document). A job's figures are added in the same commit as
its final state change, so they are counted exactly once. Histograms are ``functions.core.histogram``
bucket counts (bucket index -> samples).
"""

from pydantic import Field

from schemas.documents import Document


class TimeTally(Document):
    """Generation times of one slice of jobs that ended done."""

    jobs: int = 0
    run: dict[str, int] = Field(default_factory=dict)  # running -> done, seconds
    total: dict[str, int] = Field(default_factory=dict)  # created -> done, seconds


class CostTally(Document):
    jobs: int = 0  # jobs that ran on a GPU (done, or failed after running)
    clips: int = 0  # of which ended done
    gpu_seconds: float = 0.0
    cost_usd: float = 0.0
    run: dict[str, int] = Field(default_factory=dict)  # running -> done, seconds (done jobs)


class PlanTally(Document):
    credits: int = 0  # credits of done jobs: what the plan's users consumed
    cost_usd: float = 0.0  # GPU cost of every job they ran, failed ones included


class ColdStarts(Document):
    jobs: int = 0  # jobs the worker reported on (done, with timings)
    cold: int = 0
    setup_s: float = 0.0
    setup: dict[str, int] = Field(default_factory=dict)  # histogram of the cold ones' setup seconds


class JobRollup(Document):
    day: str  # YYYY-MM-DD (UTC), the day the jobs ended
    shard: int
    ended: dict[str, int] = Field(default_factory=dict)  # done, failed, canceled, rejected
    failure_codes: dict[str, int] = Field(default_factory=dict)
    credits_done: int = 0
    gpu_seconds: float = 0.0
    cost_usd: float = 0.0
    refunds: int = 0
    refunded_credits: int = 0
    times: dict[str, TimeTally] = Field(default_factory=dict)  # "{duration}s-{quality}" -> times
    by_gpu: dict[str, CostTally] = Field(default_factory=dict)  # GPU type -> cost and run times
    by_duration: dict[str, CostTally] = Field(default_factory=dict)  # "5", "10", "15"
    by_plan: dict[str, PlanTally] = Field(default_factory=dict)  # plan id, or "none" (top-ups only)
    cold_starts: ColdStarts = Field(default_factory=ColdStarts)
