"""Response bodies of the admin console's read endpoints (``/admin/...``, admin role only).

Money: GPU spend is in USD (what RunPod bills); revenue is in the billing currency, in minor
units (what users pay). ``marginUsd`` converts revenue at ``usdPerBillingUnit``.
"""

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from schemas.base import WireModel
from schemas.documents import JobError
from schemas.jobs import DurationSec, JobStatus
from schemas.payments import SubscriptionStatus

PROMPT_PREVIEW_CHARS = 140


class AdminJobView(WireModel):
    job_id: str
    user_id: str
    status: JobStatus
    prompt_preview: str = Field(max_length=PROMPT_PREVIEW_CHARS + 1)
    duration_sec: DurationSec
    credits: int
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None = None
    gpu_seconds: float | None = None
    cost_usd: float | None = None
    error: JobError | None = None
    trace_id: str | None = None
    model: str | None = None
    gpu_type: str | None = None


class AdminJobList(WireModel):
    jobs: list[AdminJobView]
    next_cursor: str | None = None


class AdminUserView(WireModel):
    user_id: str
    balance: int
    active_jobs: int
    created_at: datetime
    plan_id: str | None = None
    plan_name: str | None = None
    subscription_status: SubscriptionStatus | None = None
    renews_at: datetime | None = None


class AdminUserList(WireModel):
    users: list[AdminUserView]
    next_cursor: str | None = None


class SpendFigures(WireModel):
    jobs_done: int = 0
    jobs_failed: int = 0
    jobs_rejected: int = 0
    jobs_canceled: int = 0
    credits_burned: int = 0  # credits of the jobs that ended done: what users consumed
    gpu_seconds: float = 0.0
    gpu_cost_usd: float = 0.0
    credit_revenue_minor: int = 0  # credits burned x revenue per credit
    payments_minor: int = 0  # money that settled that day (top-ups and plans)
    margin_usd: float = 0.0  # credit revenue (in USD) - GPU cost


class DayStats(SpendFigures):
    """One UTC day, counted by when jobs finished and payments settled."""

    day: date


class DailyStats(WireModel):
    days: list[DayStats]  # newest first, one per day, empty days included
    totals: SpendFigures
    currency: str
    revenue_per_credit_minor: float  # the cheapest plan's price per credit: a conservative revenue
    revenue_basis: Literal["cheapest_plan_price_per_credit"] = "cheapest_plan_price_per_credit"
    usd_per_billing_unit: float
    gpu_price_per_second_usd: float  # the price of a GPU the table does not name
    gpu_prices_usd_per_second: dict[str, float] = Field(default_factory=dict)  # by GPU type
    truncated: bool = False  # kept for old clients: the report reads rollups now and never stops early
    documents_read: int = 0  # what building this report read, in Firestore's billing terms
