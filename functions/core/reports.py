"""The admin console's spend report: a pure fold of rollup shards and payment sums into UTC days.

Cost is what RunPod bills us: each job's GPU seconds at its GPU type's price (``costUsd``,
recorded at settlement and added to the day's rollup shard). Revenue is counted two ways: the
credits users consumed times a price per credit (earned revenue, the figure the margin uses), and
the money that settled (cash in, for comparison). Nothing here reads a job document.
"""

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta

from functions.core.plans import Catalogue
from schemas.admin import DayStats, SpendFigures
from schemas.rollups import JobRollup

MINOR_PER_UNIT = 100  # GBP and EUR, the billing currencies, have two decimals


def utc_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def window(today: date, days: int) -> list[date]:
    """The last ``days`` UTC days up to ``today``, newest first."""
    return [today - timedelta(days=n) for n in range(days)]


def window_start(today: date, days: int) -> datetime:
    first = today - timedelta(days=days - 1)
    return datetime(first.year, first.month, first.day, tzinfo=UTC)


def revenue_per_credit_minor(catalogue: Catalogue) -> float:
    """The cheapest plan's price per credit: revenue is never overstated (top-ups pay more)."""
    return min(plan.price_minor / plan.monthly_credits for plan in catalogue.plans)


def daily_spend(
    days: list[date],
    rollups: Iterable[JobRollup],
    payments_minor: Mapping[date, int],
    per_credit_minor: float,
    usd_per_unit: float,
) -> tuple[list[DayStats], SpendFigures]:
    """One row per day in ``days`` (in that order) and the totals: jobs by the day they ended (from
    the rollup shards settlement writes), payments by the day they settled."""
    per_day: dict[str, list[JobRollup]] = {}
    for rollup in rollups:
        per_day.setdefault(rollup.day, []).append(rollup)
    rows = [DayStats(day=day, **_figures(per_day.get(day.isoformat(), []), payments_minor.get(day, 0),
                                         per_credit_minor, usd_per_unit)) for day in days]
    every = [r for day in days for r in per_day.get(day.isoformat(), [])]
    totals = SpendFigures(**_figures(every, sum(payments_minor.get(day, 0) for day in days), per_credit_minor, usd_per_unit))
    return rows, totals


def _figures(shards: list[JobRollup], payments: int, per_credit_minor: float, usd_per_unit: float) -> dict:
    ended = {kind: sum(r.ended.get(kind, 0) for r in shards) for kind in ("done", "failed", "rejected", "canceled")}
    credits = sum(r.credits_done for r in shards)
    cost = round(sum(r.cost_usd for r in shards), 6)
    revenue_minor = round(credits * per_credit_minor)
    return {
        "jobs_done": ended["done"], "jobs_failed": ended["failed"], "jobs_rejected": ended["rejected"],
        "jobs_canceled": ended["canceled"], "credits_burned": credits,
        "gpu_seconds": round(sum(r.gpu_seconds for r in shards), 3), "gpu_cost_usd": cost,
        "credit_revenue_minor": revenue_minor, "payments_minor": payments,
        "margin_usd": round(revenue_minor / MINOR_PER_UNIT * usd_per_unit - cost, 6),
    }
