"""The product's success metrics, folded from rollup shards and a few counts: pure functions.

Targets come from the product spec: a 5 s clip within a minute (and a longer clip in proportion),
at least 95 % of videos succeed, at least 20 % of users return in week 2, each plan earns its
markup over GPU cost, a cold worker is ready within 10 s, and nothing waits for an operator.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from functions.core import histogram
from functions.core.plans import Catalogue
from functions.core.pricing import GpuPrices
from functions.core.reports import MINOR_PER_UNIT
from functions.core.rollups import NO_PLAN
from schemas.metrics import (
    ColdStartFigures,
    DurationCost,
    FailureCode,
    GenerationTimes,
    GpuFigures,
    MetricsDay,
    PlanMargin,
    RetentionCohort,
    RetentionWeek,
    SuccessFigures,
    Target,
)
from schemas.rollups import CostTally, JobRollup

SECONDS_PER_VIDEO_SECOND = 12.0  # "a 5 s clip in at most a minute", for every length
P95_ALLOWANCE = 1.5  # the slow tail may take half as long again
SUCCESS_RATE_TARGET = 0.95
WEEK2_RETENTION_TARGET = 0.20
COLD_START_TARGET_S = 10.0
RETENTION_COHORTS = 8  # weekly cohorts shown, the newest ending with the window
RETENTION_MAX_WEEK = 6  # weeks 2..6 of each cohort


def p50_target_s(duration_sec: int) -> float:
    return SECONDS_PER_VIDEO_SECOND * duration_sec


def p95_target_s(duration_sec: int) -> float:
    return P95_ALLOWANCE * p50_target_s(duration_sec)


def _at_most(value: float | None, target: float) -> bool | None:
    return None if value is None else value <= target


def _at_least(value: float | None, target: float) -> bool | None:
    return None if value is None else value >= target


def _ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


# --- job figures, from the rollup shards ----------------------------------------------------------


def generation_times(rollups: Iterable[JobRollup]) -> list[GenerationTimes]:
    runs: dict[str, list] = {}
    for rollup in rollups:
        for key, tally in rollup.times.items():
            runs.setdefault(key, []).append(tally)
    rows = []
    for key, tallies in runs.items():
        duration, quality = key.split("s-", 1)
        run, total = histogram.merge(t.run for t in tallies), histogram.merge(t.total for t in tallies)
        d = int(duration)
        p50, p95 = histogram.percentile(total, 50), histogram.percentile(total, 95)
        ok = None if p50 is None else (p50 <= p50_target_s(d) and (p95 or 0) <= p95_target_s(d))
        rows.append(GenerationTimes(
            duration_sec=d, quality=quality, jobs=sum(t.jobs for t in tallies),
            run_p50_s=histogram.percentile(run, 50), run_p95_s=histogram.percentile(run, 95),
            total_p50_s=p50, total_p95_s=p95, target_p50_s=p50_target_s(d), target_p95_s=p95_target_s(d), ok=ok,
        ))
    return sorted(rows, key=lambda r: (r.duration_sec, r.quality))


def _merged_costs(tallies: Iterable[CostTally]) -> CostTally:
    tallies = list(tallies)
    return CostTally(
        jobs=sum(t.jobs for t in tallies), clips=sum(t.clips for t in tallies),
        gpu_seconds=round(sum(t.gpu_seconds for t in tallies), 3), cost_usd=round(sum(t.cost_usd for t in tallies), 6),
        run=histogram.merge(t.run for t in tallies),
    )


def _grouped(rollups: Iterable[JobRollup], field: str) -> dict[str, CostTally]:
    groups: dict[str, list[CostTally]] = {}
    for rollup in rollups:
        for key, tally in getattr(rollup, field).items():
            groups.setdefault(key, []).append(tally)
    return {key: _merged_costs(tallies) for key, tallies in groups.items()}


def by_gpu(rollups: Iterable[JobRollup], prices: GpuPrices) -> list[GpuFigures]:
    return [
        GpuFigures(
            gpu_type=gpu, jobs=t.jobs, clips=t.clips, gpu_seconds=t.gpu_seconds, cost_usd=t.cost_usd,
            price_per_second_usd=prices.price(gpu), run_p50_s=histogram.percentile(t.run, 50),
            run_p95_s=histogram.percentile(t.run, 95),
            cost_per_clip_usd=round(t.cost_usd / t.clips, 6) if t.clips else None,
        )
        for gpu, t in sorted(_grouped(rollups, "by_gpu").items())
    ]


def by_duration(rollups: Iterable[JobRollup]) -> list[DurationCost]:
    """GPU seconds and dollars per clip that ended done (the GPU time of failed runs included)."""
    return [
        DurationCost(
            duration_sec=int(duration), clips=t.clips,
            gpu_seconds_per_clip=round(t.gpu_seconds / t.clips, 3) if t.clips else None,
            cost_per_clip_usd=round(t.cost_usd / t.clips, 6) if t.clips else None,
        )
        for duration, t in sorted(_grouped(rollups, "by_duration").items(), key=lambda kv: int(kv[0]))
    ]


def _sum_counts(maps: Iterable[Mapping[str, int]]) -> dict[str, int]:
    return histogram.merge(maps)


def success(rollups: Iterable[JobRollup]) -> SuccessFigures:
    rollups = list(rollups)
    ended = _sum_counts(r.ended for r in rollups)
    codes = _sum_counts(r.failure_codes for r in rollups)
    done, failed = ended.get("done", 0), ended.get("failed", 0)
    return SuccessFigures(
        done=done, failed=failed, canceled=ended.get("canceled", 0), rejected=ended.get("rejected", 0),
        rate=_ratio(done, done + failed),
        failure_codes=[FailureCode(code=c, count=n) for c, n in sorted(codes.items(), key=lambda kv: (-kv[1], kv[0]))],
    )


def plan_margins(rollups: Iterable[JobRollup], catalogue: Catalogue, usd_per_unit: float) -> list[PlanMargin]:
    """Revenue is the credits a plan's users consumed at the plan's price per credit (top-ups at
    the top-up price); cost is the GPU time of every job they ran, failed ones included."""
    credits: dict[str, int] = {}
    costs: dict[str, float] = {}
    for rollup in rollups:
        for plan_id, tally in rollup.by_plan.items():
            credits[plan_id] = credits.get(plan_id, 0) + tally.credits
            costs[plan_id] = costs.get(plan_id, 0.0) + tally.cost_usd
    rows = []
    for plan in catalogue.plans:
        rows.append(_margin(plan.plan_id, plan.name, credits.get(plan.plan_id, 0), costs.get(plan.plan_id, 0.0),
                            plan.price_minor / plan.monthly_credits, usd_per_unit, plan.target_markup))
    if NO_PLAN in credits:
        rows.append(_margin(NO_PLAN, "No plan (top-ups)", credits[NO_PLAN], costs[NO_PLAN],
                            catalogue.extra_credit_price_minor, usd_per_unit, None))
    return rows


def _margin(plan_id: str, name: str, credits: int, cost: float, per_credit_minor: float, usd_per_unit: float,
            target: float | None) -> PlanMargin:
    revenue = round(credits * per_credit_minor / MINOR_PER_UNIT * usd_per_unit, 6)
    markup = round(revenue / cost - 1, 4) if cost else None
    margin = round((revenue - cost) / revenue, 4) if revenue else None
    return PlanMargin(plan_id=plan_id, name=name, credits=credits, revenue_usd=revenue, cost_usd=round(cost, 6),
                      markup=markup, margin=margin, target_markup=target,
                      ok=_at_least(markup, target) if target is not None else None)


def cold_starts(rollups: Iterable[JobRollup]) -> ColdStartFigures:
    tallies = [r.cold_starts for r in rollups]
    setup = histogram.merge(t.setup for t in tallies)
    return ColdStartFigures(
        jobs=sum(t.jobs for t in tallies), cold=sum(t.cold for t in tallies),
        setup_s_total=round(sum(t.setup_s for t in tallies), 3),
        p50_s=histogram.percentile(setup, 50), p95_s=histogram.percentile(setup, 95),
    )


def daily(days: list[date], rollups: Iterable[JobRollup]) -> list[MetricsDay]:
    """One row per day (oldest first): success rate, and generation times of every length together."""
    per_day: dict[str, list[JobRollup]] = {}
    for rollup in rollups:
        per_day.setdefault(rollup.day, []).append(rollup)
    rows = []
    for day in days:
        shards = per_day.get(day.isoformat(), [])
        ended = _sum_counts(r.ended for r in shards)
        run = histogram.merge(t.run for r in shards for t in r.times.values())
        total = histogram.merge(t.total for r in shards for t in r.times.values())
        done, failed = ended.get("done", 0), ended.get("failed", 0)
        rows.append(MetricsDay(
            day=day, done=done, failed=failed, success_rate=_ratio(done, done + failed),
            run_p50_s=histogram.percentile(run, 50), run_p95_s=histogram.percentile(run, 95),
            total_p50_s=histogram.percentile(total, 50), total_p95_s=histogram.percentile(total, 95),
        ))
    return rows


# --- retention, from counts of users ------------------------------------------------------------


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class CohortCount:
    """What the store is asked: users whose first job fell in [start, end), optionally with
    activity in ``week``."""

    start: datetime
    end: datetime
    week: int | None = None


def cohort_questions(end_day: date, now: datetime) -> list[tuple[date, list[CohortCount]]]:
    """For each cohort (signup) week, newest first: its size, then each week 2.. that has ended for
    every user whose first job fell in the cohort's week (the last of them started on its last day;
    a user whose first job came later is counted once their own week has passed)."""
    newest = week_start(end_day)
    out = []
    for n in range(RETENTION_COHORTS):
        monday = newest - timedelta(weeks=n)
        start = datetime(monday.year, monday.month, monday.day, tzinfo=UTC)
        end = start + timedelta(days=7)
        weeks = [w for w in range(2, RETENTION_MAX_WEEK + 1) if end + timedelta(days=7 * w) <= now]
        out.append((monday, [CohortCount(start, end)] + [CohortCount(start, end, w) for w in weeks]))
    return out


def cohorts(answers: list[tuple[date, list[tuple[CohortCount, int]]]]) -> list[RetentionCohort]:
    rows = []
    for monday, counted in answers:
        size = next(n for q, n in counted if q.week is None)
        weeks = [RetentionWeek(week=q.week, retained=n, rate=_ratio(n, size)) for q, n in counted if q.week is not None]
        rows.append(RetentionCohort(week_start=monday, users=size, weeks=weeks))
    return rows


def week2_retention(rows: list[RetentionCohort]) -> float | None:
    """Pooled over the cohorts whose week 2 has ended: returned in week 2 / cohort users."""
    users = retained = 0
    for row in rows:
        week2 = next((w for w in row.weeks if w.week == 2), None)
        if week2 is not None:
            users += row.users
            retained += week2.retained
    return _ratio(retained, users)


# --- the targets ------------------------------------------------------------------------------------


def targets(generation: list[GenerationTimes], success_figures: SuccessFigures, retention: float | None,
            plans: list[PlanMargin], cold: ColdStartFigures, dead_letters: int, operator_queue: int | None) -> list[Target]:
    five = next((g for g in generation if g.duration_sec == 5 and g.quality == "standard"), None)
    rows = [
        Target(key="generation_p50_5s", label="5 s clip, created to done, p50", unit="s",
               value=five.total_p50_s if five else None, target=p50_target_s(5), direction="at_most",
               ok=_at_most(five.total_p50_s if five else None, p50_target_s(5))),
        Target(key="generation_p95_5s", label="5 s clip, created to done, p95", unit="s",
               value=five.total_p95_s if five else None, target=p95_target_s(5), direction="at_most",
               ok=_at_most(five.total_p95_s if five else None, p95_target_s(5))),
        Target(key="success_rate", label="Video success rate", unit="ratio", value=success_figures.rate,
               target=SUCCESS_RATE_TARGET, direction="at_least", ok=_at_least(success_figures.rate, SUCCESS_RATE_TARGET)),
        Target(key="week2_retention", label="Week-2 retention", unit="ratio", value=retention,
               target=WEEK2_RETENTION_TARGET, direction="at_least", ok=_at_least(retention, WEEK2_RETENTION_TARGET)),
        Target(key="cold_start_p95", label="Cold start (model load), p95", unit="s", value=cold.p95_s,
               target=COLD_START_TARGET_S, direction="at_most", ok=_at_most(cold.p95_s, COLD_START_TARGET_S)),
    ]
    for plan in plans:
        if plan.target_markup is not None:
            rows.append(Target(key=f"markup_{plan.plan_id}", label=f"{plan.name} markup over GPU cost", unit="ratio",
                               value=plan.markup, target=plan.target_markup, direction="at_least", ok=plan.ok))
    rows.append(Target(key="dead_letters", label="Dead-lettered messages", unit="count", value=dead_letters, target=0,
                       direction="at_most", ok=dead_letters == 0))
    if operator_queue is not None:
        rows.append(Target(key="operator_queue", label="Paid but not applied (operator queue)", unit="count",
                           value=operator_queue, target=0, direction="at_most", ok=operator_queue == 0))
    return rows
