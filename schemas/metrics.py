"""GET /admin/metrics: the product's success metrics for a window of UTC days, each with its target.

Times are seconds, read from histograms whose buckets grow by 10 %: a percentile is the upper edge
of its bucket (at most 10 % above the true value, never below). Money: GPU cost in USD, revenue
converted to USD at ``usdPerBillingUnit``. ``ok`` is None where there is nothing to judge yet.
"""

from datetime import date
from typing import Literal

from pydantic import Field

from schemas.base import WireModel


class Target(WireModel):
    """One success metric beside its target: green (ok) or red."""

    key: str
    label: str
    value: float | None = None
    unit: Literal["s", "ratio", "count"]
    target: float
    direction: Literal["at_most", "at_least"]
    ok: bool | None = None


class GenerationTimes(WireModel):
    duration_sec: int
    quality: str
    jobs: int
    run_p50_s: float | None = None  # running -> done
    run_p95_s: float | None = None
    total_p50_s: float | None = None  # created -> done
    total_p95_s: float | None = None
    target_p50_s: float
    target_p95_s: float
    ok: bool | None = None


class GpuFigures(WireModel):
    gpu_type: str
    jobs: int
    clips: int
    gpu_seconds: float
    cost_usd: float
    price_per_second_usd: float
    run_p50_s: float | None = None
    run_p95_s: float | None = None
    cost_per_clip_usd: float | None = None


class DurationCost(WireModel):
    duration_sec: int
    clips: int
    gpu_seconds_per_clip: float | None = None
    cost_per_clip_usd: float | None = None


class FailureCode(WireModel):
    code: str
    count: int


class SuccessFigures(WireModel):
    done: int
    failed: int
    canceled: int
    rejected: int
    rate: float | None = None  # done / (done + failed)
    failure_codes: list[FailureCode]  # most frequent first


class PlanMargin(WireModel):
    plan_id: str
    name: str
    credits: int
    revenue_usd: float
    cost_usd: float
    markup: float | None = None  # revenue / cost - 1
    margin: float | None = None  # (revenue - cost) / revenue
    target_markup: float | None = None  # none for users without a plan (top-ups only)
    ok: bool | None = None


class ColdStartFigures(WireModel):
    jobs: int  # jobs whose worker reported how it started
    cold: int
    setup_s_total: float
    p50_s: float | None = None
    p95_s: float | None = None


class RetentionWeek(WireModel):
    week: int  # 2: a job created 7-14 days after the user's first
    retained: int
    rate: float | None = None


class RetentionCohort(WireModel):
    week_start: date  # Monday of the week of the users' first job
    users: int
    weeks: list[RetentionWeek]  # only the weeks that have ended for every user of the cohort


class MetricsDay(WireModel):
    day: date
    done: int
    failed: int
    success_rate: float | None = None
    run_p50_s: float | None = None
    run_p95_s: float | None = None
    total_p50_s: float | None = None
    total_p95_s: float | None = None


class Queues(WireModel):
    dead_letters: int  # event_failures records: messages a consumer could not process
    operator_queue: int | None = None  # open payment issues: settled payments that bought nothing, unresolved
    tick_failures: int = 0  # records a clock-tick step skipped (GET /admin/queue lists both)


class MetricsReport(WireModel):
    start: date
    end: date  # inclusive
    days: int
    targets: list[Target]
    generation: list[GenerationTimes]
    by_gpu: list[GpuFigures]
    by_duration: list[DurationCost]
    success: SuccessFigures
    plans: list[PlanMargin]
    cold_starts: ColdStartFigures
    refunds: int
    refunded_credits: int
    queues: Queues
    retention: list[RetentionCohort]  # newest cohort first
    daily: list[MetricsDay]  # oldest first, one per day, empty days included
    usd_per_billing_unit: float
    documents_read: int = Field(ge=0)  # what building this report read, in Firestore's billing terms
