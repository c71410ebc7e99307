"""The admin console's read side: GET /admin/jobs, /admin/users, /admin/stats/daily.

The routes carry ``auth="admin"``, so the endpoint wrapper answers 403 to any other token before
a handler runs. Every query is bounded (a limit) and index-friendly: equalities plus one range on
the field it orders by (the composite indexes are listed in docs/web.md).
"""

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

from functions.bootstrap import Deps
from functions.core import reports
from functions.core.paths import JOB_ROLLUPS, JOBS, PAYMENTS, USERS, job_path, subscription_path, user_path
from functions.http.params import int_param
from functions.handlers.jobs_api import jobs_cursor_ok
from functions.handlers.payments import catalogue
from functions.http.endpoint import Call, Reply
from functions.http.errors import ApiError
from functions.store import Query, Store
from functions.store.meter import ReadMeter
from schemas.admin import PROMPT_PREVIEW_CHARS, AdminJobList, AdminJobView, AdminUserList, AdminUserView, DailyStats
from schemas.documents import JobDoc, UserDoc
from schemas.jobs import JobStatus
from schemas.payments import PaymentState, SubscriptionDoc
from schemas.rollups import JobRollup

USER_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
REPORT_MAX_DAYS = 90


def list_jobs(call: Call, deps: Deps) -> Reply:
    """Jobs across users, newest first; filters: status, userId, from/to (on createdAt)."""
    args = call.request.args
    limit = int_param(call, "limit", default=50, low=1, high=200)
    where: list = []
    if status := args.get("status"):
        if status not in {s.value for s in JobStatus}:
            raise ApiError(400, "invalid_parameter", f"status must be one of {', '.join(s.value for s in JobStatus)}", "status")
        where.append(("status", "==", status))
    if user_id := args.get("userId"):
        where.append(("userId", "==", _user_id(user_id)))
    if start := _moment(call, "from", end_of_day=False):
        where.append(("createdAt", ">=", start))
    if end := _moment(call, "to", end_of_day=True):
        where.append(("createdAt", "<", end))
    cursor = args.get("cursor")
    if cursor is not None and not jobs_cursor_ok(cursor):
        raise ApiError(400, "invalid_cursor", "cursor is not one this API issued", "cursor")
    rows = deps.store.query(Query(JOBS, where=where, order_by="createdAt", descending=True, limit=limit + 1,
                                  start_after=job_path(cursor) if cursor else None))
    page = [JobDoc.from_document(data) for _, data in rows[:limit]]
    return 200, AdminJobList(jobs=[admin_job_view(job) for job in page],
                             next_cursor=page[-1].job_id if len(rows) > limit else None)


def admin_job_view(job: JobDoc) -> AdminJobView:
    prompt = job.prompt if len(job.prompt) <= PROMPT_PREVIEW_CHARS else job.prompt[:PROMPT_PREVIEW_CHARS] + "…"
    return AdminJobView(
        job_id=job.job_id, user_id=job.user_id, status=job.status, prompt_preview=prompt, duration_sec=job.duration_sec,
        credits=job.credits, created_at=job.created_at, updated_at=job.updated_at, finished_at=job.finished_at,
        gpu_seconds=job.gpu_seconds, cost_usd=job.cost_usd, error=job.error, trace_id=job.trace_id,
        model=job.output.model if job.output else None, gpu_type=job.gpu_type,
    )


def list_users(call: Call, deps: Deps) -> Reply:
    """Users, newest first, with balance and plan; ``userId`` looks one up."""
    limit = int_param(call, "limit", default=50, low=1, high=200)
    if user_id := call.request.args.get("userId"):
        data = deps.store.get(user_path(_user_id(user_id)))
        rows = [(user_path(user_id), data)] if data else []
    else:
        cursor = call.request.args.get("cursor")
        if cursor is not None:
            _user_id(cursor, field="cursor")
        rows = deps.store.query(Query(USERS, order_by="createdAt", descending=True, limit=limit + 1,
                                      start_after=user_path(cursor) if cursor else None))
    page = [UserDoc.from_document(data) for _, data in rows[:limit]]
    subs = deps.store.get_many([subscription_path(user.user_id) for user in page]) if page else {}
    cat = catalogue(deps)
    users = []
    for user in page:
        found = subs.get(subscription_path(user.user_id))
        sub = SubscriptionDoc.from_document(found) if found else None
        plan = cat.plan(sub.plan_id) if sub else None
        users.append(AdminUserView(
            user_id=user.user_id, balance=user.balance, active_jobs=user.active_jobs, created_at=user.created_at,
            plan_id=sub.plan_id if sub else None, plan_name=plan.name if plan else None,
            subscription_status=sub.status if sub else None, renews_at=sub.renews_at if sub else None,
        ))
    return 200, AdminUserList(users=users, next_cursor=page[-1].user_id if len(rows) > limit else None)


def daily_stats(call: Call, deps: Deps) -> Reply:
    """Credit burn, GPU spend, revenue and margin for each of the last ``days`` UTC days: read from
    the rollup shards (jobs) and one sum aggregation per day (payments), never job by job."""
    days = int_param(call, "days", default=14, low=1, high=REPORT_MAX_DAYS)
    s = deps.settings
    store = ReadMeter(deps.store)
    window = reports.window(reports.utc_day(deps.now()), days)
    rollups = rollups_since(store, window[-1], window[0])
    per_credit = reports.revenue_per_credit_minor(catalogue(deps))
    rows, totals = reports.daily_spend(window, rollups, _settled_per_day(store, window), per_credit, s.usd_per_billing_unit)
    return 200, DailyStats(
        days=rows, totals=totals, currency=s.billing_currency, revenue_per_credit_minor=round(per_credit, 4),
        usd_per_billing_unit=s.usd_per_billing_unit, gpu_price_per_second_usd=s.gpu_price_per_second_usd,
        gpu_prices_usd_per_second=s.gpu_prices_usd_per_second, documents_read=store.reads,
    )


def rollups_since(store: Store | ReadMeter, first: date, last: date) -> list[JobRollup]:
    """The rollup shards of the days ``first``..``last``: at most days x SHARDS small documents."""
    rows = store.query(Query(JOB_ROLLUPS, where=[("day", ">=", first.isoformat()), ("day", "<=", last.isoformat())]))
    return [JobRollup.from_document(data) for _, data in rows]


def _settled_per_day(store: ReadMeter, days: list[date]) -> dict[date, int]:
    def settled(day: date) -> int:
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        query = Query(PAYMENTS, where=[("state", "==", PaymentState.SETTLED.value), ("updatedAt", ">=", start),
                                       ("updatedAt", "<", start + timedelta(days=1))])
        return int(store.aggregate(query, ["amountMinor"]).sums["amountMinor"])

    with ThreadPoolExecutor(8) as pool:
        return dict(zip(days, pool.map(settled, days), strict=True))


def _user_id(value: str, field: str = "userId") -> str:
    if not USER_ID.match(value):
        raise ApiError(400, "invalid_parameter", f"{field} is not a user id", field)
    return value


def _moment(call: Call, name: str, end_of_day: bool) -> datetime | None:
    """``YYYY-MM-DD`` (a UTC day; ``to`` includes the whole day) or an ISO 8601 date-time."""
    raw = call.request.args.get(name)
    if not raw:
        return None
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return start + timedelta(days=1) if end_of_day else start
        moment = datetime.fromisoformat(raw)
    except (ValueError, OverflowError) as exc:  # OverflowError: the day after 9999-12-31
        raise ApiError(400, "invalid_parameter", f"{name} must be a date (YYYY-MM-DD) or an ISO 8601 time", name) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
