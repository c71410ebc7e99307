"""The spend report's fold, on documents built in the test."""

from datetime import UTC, datetime, timedelta

from functions.core import reports
from functions.core.plans import priced
from schemas.documents import JobDoc
from schemas.jobs import JobStatus
from schemas.payments import PaymentDoc, PaymentKind, PaymentState

NOW = datetime(2026, 11, 25, 23, 30, tzinfo=UTC)


def payment(payment_id: str, state: PaymentState, at: datetime, amount: int) -> PaymentDoc:
    return PaymentDoc(payment_id=payment_id, user_id="user_a", kind=PaymentKind.TOPUP, state=state, amount_minor=amount,
                      currency="GBP", credits=10, created_at=at, updated_at=at)


def test_settled_payments_count_on_the_day_they_settled_and_nothing_else_does():
    days = reports.window(NOW.date(), 2)
    payments = [payment("p1", PaymentState.SETTLED, NOW, 250), payment("p2", PaymentState.PENDING, NOW, 999),
                payment("p3", PaymentState.SETTLED, NOW - timedelta(days=1), 1036),
                payment("p4", PaymentState.SETTLED, NOW - timedelta(days=5), 5950)]
    rows, totals = reports.daily_spend(days, [], payments, 12.0, 1.0, 0.00116)
    assert [r.payments_minor for r in rows] == [250, 1036] and totals.payments_minor == 1286


def test_a_job_without_a_recorded_cost_is_priced_from_its_gpu_seconds():
    job = JobDoc(job_id="job_1", user_id="user_a", status=JobStatus.DONE, prompt="p", duration_sec=5, credits=1,
                 created_at=NOW, updated_at=NOW, finished_at=NOW, gpu_seconds=10.0)
    rows, _ = reports.daily_spend([NOW.date()], [job], [], 12.0, 1.0, 0.00116)
    assert rows[0].gpu_cost_usd == 0.0116 and rows[0].margin_usd == round(0.12 - 0.0116, 6)


def test_a_day_is_a_utc_day_and_revenue_per_credit_is_the_cheapest_plans():
    late_evening_in_new_york = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    assert reports.utc_day(late_evening_in_new_york).isoformat() == "2026-11-26"
    assert reports.revenue_per_credit_minor(priced("GBP", {}, 25)) == 5950 / 500
