"""The admin console's spend report: a pure fold of job and payment documents into UTC days.

Cost is what RunPod bills us: the GPU seconds recorded on each finished job times the configured
price (``costUsd``, recorded at settlement). Revenue is counted two ways: the credits users
consumed times a price per credit (earned revenue, the figure the margin uses), and the money
that settled (cash in, for comparison).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from functions.core.plans import Catalogue
from schemas.admin import DayStats, SpendFigures
from schemas.documents import JobDoc
from schemas.jobs import JobStatus
from schemas.payments import PaymentDoc, PaymentState

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


def job_cost_usd(job: JobDoc, gpu_price_per_second_usd: float) -> float:
    if job.cost_usd is not None:
        return job.cost_usd
    return (job.gpu_seconds or 0.0) * gpu_price_per_second_usd


@dataclass
class _Tally:
    counts: dict[str, int] = field(default_factory=lambda: {"done": 0, "failed": 0, "rejected": 0, "canceled": 0})
    credits: int = 0
    gpu_seconds: float = 0.0
    cost_usd: float = 0.0
    payments_minor: int = 0

    def figures(self, per_credit_minor: float, usd_per_unit: float) -> dict:
        revenue_minor = round(self.credits * per_credit_minor)
        return {
            "jobs_done": self.counts["done"],
            "jobs_failed": self.counts["failed"],
            "jobs_rejected": self.counts["rejected"],
            "jobs_canceled": self.counts["canceled"],
            "credits_burned": self.credits,
            "gpu_seconds": round(self.gpu_seconds, 3),
            "gpu_cost_usd": round(self.cost_usd, 6),
            "credit_revenue_minor": revenue_minor,
            "payments_minor": self.payments_minor,
            "margin_usd": round(revenue_minor / MINOR_PER_UNIT * usd_per_unit - self.cost_usd, 6),
        }

    def add(self, other: "_Tally") -> None:
        for key, value in other.counts.items():
            self.counts[key] += value
        self.credits += other.credits
        self.gpu_seconds += other.gpu_seconds
        self.cost_usd += other.cost_usd
        self.payments_minor += other.payments_minor


_ENDED = {JobStatus.DONE: "done", JobStatus.EXPIRED: "done", JobStatus.FAILED: "failed",
          JobStatus.REJECTED: "rejected", JobStatus.CANCELED: "canceled"}


def daily_spend(
    days: list[date],
    jobs: Iterable[JobDoc],
    payments: Iterable[PaymentDoc],
    per_credit_minor: float,
    usd_per_unit: float,
    gpu_price_per_second_usd: float,
) -> tuple[list[DayStats], SpendFigures]:
    """One row per day in ``days`` (in that order) and the totals; jobs by when they finished."""
    tallies = {day: _Tally() for day in days}
    for job in jobs:
        tally = tallies.get(utc_day(job.finished_at)) if job.finished_at else None
        kind = _ENDED.get(job.status)
        if tally is None or kind is None:
            continue
        tally.counts[kind] += 1
        tally.gpu_seconds += job.gpu_seconds or 0.0
        tally.cost_usd += job_cost_usd(job, gpu_price_per_second_usd)
        if kind == "done":
            tally.credits += job.credits
    for payment in payments:
        tally = tallies.get(utc_day(payment.updated_at))
        if tally is not None and payment.state is PaymentState.SETTLED:
            tally.payments_minor += payment.amount_minor
    total = _Tally()
    for tally in tallies.values():
        total.add(tally)
    rows = [DayStats(day=day, **tallies[day].figures(per_credit_minor, usd_per_unit)) for day in days]
    return rows, SpendFigures(**total.figures(per_credit_minor, usd_per_unit))
