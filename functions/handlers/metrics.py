"""GET /admin/metrics: the success metrics for the last ``days`` UTC days, each beside its target.

What it reads is bounded by the window, never by the number of jobs: the window's rollup shards
(days x ``rollups.SHARDS`` small documents, written by settlement), and server-side counts
(Firestore aggregation queries, one read per 1,000 index entries) of users per retention cohort
(the users who signed up in a week: their user record was created by their first request),
of dead-lettered messages and of the operator queue (payment issues, skipped tick records). ``documentsRead`` reports the cost.
"""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from functions.bootstrap import Deps
from functions.core import metrics, reports
from functions.core.paths import EVENT_FAILURES, PAYMENT_ISSUES, TICK_FAILURES, USERS
from functions.handlers.admin import REPORT_MAX_DAYS, rollups_since
from functions.http.params import int_param
from functions.handlers.outcomes import gpu_prices
from functions.handlers.payments import catalogue
from functions.http.endpoint import Call, Reply
from functions.store import Query
from functions.store.meter import ReadMeter
from schemas.metrics import MetricsReport, Queues

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_PARALLEL_COUNTS = 8  # the cohort counts are independent: ask them side by side


def admin_metrics(call: Call, deps: Deps) -> Reply:
    days = int_param(call, "days", default=14, low=1, high=REPORT_MAX_DAYS)
    store = ReadMeter(deps.store)
    now = deps.now()
    window = reports.window(reports.utc_day(now), days)  # newest first
    rollups = rollups_since(store, window[-1], window[0])
    cohorts = metrics.cohorts(_cohort_answers(store, metrics.cohort_questions(window[0], now)))
    dead_letters = store.aggregate(Query(EVENT_FAILURES)).count
    operator_queue = open_payment_issues(store)
    tick_failures = store.aggregate(Query(TICK_FAILURES)).count

    s = deps.settings
    generation = metrics.generation_times(rollups)
    success = metrics.success(rollups)
    plans = metrics.plan_margins(rollups, catalogue(deps), s.usd_per_billing_unit)
    cold = metrics.cold_starts(rollups)
    return 200, MetricsReport(
        start=window[-1], end=window[0], days=days,
        targets=metrics.targets(generation, success, metrics.week2_retention(cohorts), plans, cold, dead_letters,
                                operator_queue),
        generation=generation, by_gpu=metrics.by_gpu(rollups, gpu_prices(deps)), by_duration=metrics.by_duration(rollups),
        success=success, plans=plans, cold_starts=cold,
        refunds=sum(r.refunds for r in rollups), refunded_credits=sum(r.refunded_credits for r in rollups),
        queues=Queues(dead_letters=dead_letters, operator_queue=operator_queue, tick_failures=tick_failures),
        retention=cohorts,
        daily=metrics.daily(list(reversed(window)), rollups), usd_per_billing_unit=s.usd_per_billing_unit,
        documents_read=store.reads,
    )


def open_payment_issues(store: ReadMeter) -> int:
    """Payments that settled but bought nothing and no operator has resolved: all of them, less the
    resolved ones (a missing field cannot be queried; ``resolvedAt`` is set when one is handled)."""
    every = store.aggregate(Query(PAYMENT_ISSUES)).count
    return every - store.aggregate(Query(PAYMENT_ISSUES, where=[("resolvedAt", ">=", EPOCH)])).count


def _cohort_answers(store: ReadMeter, questions: list) -> list:
    def count(question: metrics.CohortCount) -> int:
        where = [("createdAt", ">=", question.start), ("createdAt", "<", question.end)]  # the signup week
        if question.week is not None:
            where.append(("activeWeeks", "array_contains", question.week))
        return store.aggregate(Query(USERS, where=where)).count

    flat = [q for _, qs in questions for q in qs]
    with ThreadPoolExecutor(_PARALLEL_COUNTS) as pool:
        answers = dict(zip(flat, pool.map(count, flat), strict=True))
    return [(monday, [(q, answers[q]) for q in qs]) for monday, qs in questions]
