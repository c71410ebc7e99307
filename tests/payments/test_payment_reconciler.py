"""The payments reconciler on the clock tick, through the production TrueLayer client against the
stand-in's status endpoints: a payment or mandate whose webhook was lost is applied as the
webhook would have been, exactly once, even when the late webhook arrives too; a payment that
settled but bought nothing lands in the operator queue."""

from datetime import timedelta

from functions.core.paths import PAYMENT_ISSUES, ledger_path, mandate_path, payment_path, user_path
from functions.core import jobs
from functions.handlers import expiry
from functions.store import Decision, Query
from schemas.documents import LedgerEntry, LedgerKind, UserDoc
from schemas.events import ClockTicked
from schemas.payments import PaymentNotified, RenewalRequested
from tests.payments.flow import assert_balanced, balance, call, deliver, drain, ledger, webhooks_for

PAYER = {"name": "Ada Lovelace", "email": "ada@example.com"}


def _tick(deps) -> dict:
    return {s.step: s for s in expiry.expire_jobs(ClockTicked(occurred_at=deps.now()), deps)}


def _status_requests(session, resource_id: str) -> int:
    return sum(1 for r in session.sent if r["method"] == "GET" and r["url"].endswith(resource_id))


def test_a_settled_top_up_whose_webhook_was_lost_is_granted_once_even_when_the_webhook_comes_late(deps, standin, session):
    status, checkout = call(deps, "topup", {"credits": 40, "payer": PAYER})
    payment_id = checkout["paymentId"]
    lost = webhooks_for(standin, "payment", payment_id, "settle")  # TrueLayer settled it; its webhooks never arrive

    _tick(deps)  # too soon to ask: the webhook may be on its way
    assert deps.publisher.events == [] and _status_requests(session, payment_id) == 0
    deps.now.advance(seconds=deps.settings.payment_reconcile_after_s + 1)
    swept = _tick(deps)

    assert swept["reconcile_payments"].handled == 1 and _status_requests(session, payment_id) == 1
    (notified,) = deps.publisher.events
    assert isinstance(notified, PaymentNotified)
    assert (notified.notification, notified.payment_id) == ("payment_settled", payment_id)
    drain(deps)
    assert ledger(deps) == {f"grant:{payment_id}": 40}

    for raw, headers in lost:  # TrueLayer's retry finally gets through
        assert deliver(deps, raw, headers) == 200
    drain(deps)
    assert balance(deps) == 40 and ledger(deps) == {f"grant:{payment_id}": 40}
    assert "checkAfter" not in deps.store.get(payment_path(payment_id))  # settled: never asked about again
    deps.now.advance(hours=2)
    _tick(deps)
    assert deps.publisher.events == [] and _status_requests(session, payment_id) == 1
    assert_balanced(deps)
    answer = deps.truelayer.payment(payment_id)  # what the reconciler read: the stand-in answers in TrueLayer's shape
    assert answer.status == "settled" and {"executed_at", "settled_at"} <= set(answer.model_extra)


def test_two_ticks_finding_the_same_settlement_grant_once(deps, standin):
    _, checkout = call(deps, "topup", {"credits": 10, "payer": PAYER})
    webhooks_for(standin, "payment", checkout["paymentId"], "settle")
    deps.now.advance(seconds=deps.settings.payment_reconcile_after_s + 1)
    _tick(deps)
    first = list(deps.publisher.events)
    deps.store.decide([payment_path(checkout["paymentId"])], lambda docs: Decision(  # a second tick racing the first
        [jobs.put(payment_path(checkout["paymentId"]), _doc(docs, checkout["paymentId"], checkAfter=deps.now()))]))
    _tick(deps)
    assert [e.event_id for e in deps.publisher.events] == [e.event_id for e in first] * 2  # the same event id
    drain(deps)
    assert ledger(deps) == {f"grant:{checkout['paymentId']}": 10}


def _doc(docs, payment_id, **changes):
    from schemas.payments import PaymentDoc

    return PaymentDoc.from_document({**docs[payment_path(payment_id)], **changes})


def test_a_payment_still_awaiting_the_user_is_asked_about_again_later_with_backoff(deps, standin, session):
    _, checkout = call(deps, "topup", {"credits": 10, "payer": PAYER})
    after = deps.settings.payment_reconcile_after_s
    deps.now.advance(seconds=after + 1)
    _tick(deps)
    deps.now.advance(seconds=after + 1)
    _tick(deps)  # backoff: the second ask is 2x later
    assert _status_requests(session, checkout["paymentId"]) == 1 and deps.publisher.events == []
    deps.now.advance(seconds=after)
    _tick(deps)
    assert _status_requests(session, checkout["paymentId"]) == 2
    assert deps.store.get(payment_path(checkout["paymentId"]))["state"] == "pending"


def test_a_failed_payment_whose_webhook_was_lost_is_recorded_failed_and_grants_nothing(deps, standin):
    _, checkout = call(deps, "topup", {"credits": 10, "payer": PAYER})
    webhooks_for(standin, "payment", checkout["paymentId"], "fail", reason="provider_rejected")
    deps.now.advance(seconds=deps.settings.payment_reconcile_after_s + 1)
    _tick(deps)
    drain(deps)
    payment = deps.store.get(payment_path(checkout["paymentId"]))
    assert (payment["state"], payment["failureReason"]) == ("failed", "provider_rejected") and balance(deps) == 0


def test_a_mandate_authorised_without_its_webhook_is_reconciled_and_charges_the_first_month(deps, standin):
    status, checkout = call(deps, "subscribe", {"planId": "creator", "renewWith": "mandate", "payer": PAYER})
    webhooks_for(standin, "mandate", checkout["mandateId"], "authorize")  # lost
    deps.now.advance(seconds=deps.settings.payment_reconcile_after_s + 1)
    _tick(deps)
    assert [e.notification for e in deps.publisher.events] == ["mandate_authorized"]
    done = drain(deps)
    assert deps.store.get(mandate_path(checkout["mandateId"]))["status"] == "authorized"
    assert any(isinstance(e, RenewalRequested) for e in done)  # the first month is charged on the mandate


def test_a_settled_payment_that_bought_nothing_goes_to_the_operator_queue(deps, standin):
    _, checkout = call(deps, "topup", {"credits": 10, "payer": PAYER})
    payment_id, now = checkout["paymentId"], deps.now()
    entry = LedgerEntry(entry_id=f"grant:{payment_id}", kind=LedgerKind.GRANT, amount=10, balance_after=10, created_at=now,
                        payment_id=payment_id)  # already there (a restored backup, an operator's hand grant...)
    user = UserDoc(user_id="user_a", balance=10, created_at=now)
    deps.store.decide([user_path("user_a"), ledger_path("user_a", entry.entry_id)], lambda docs: Decision(
        [jobs.put(user_path("user_a"), user), jobs.put(ledger_path("user_a", entry.entry_id), entry)]))
    for raw, headers in webhooks_for(standin, "payment", payment_id, "settle"):
        deliver(deps, raw, headers)
    drain(deps)
    (issue,) = [data for _, data in deps.store.query(Query(PAYMENT_ISSUES))]
    assert (issue["paymentId"], issue["kind"], issue["credits"], issue["amountMinor"]) == (payment_id, "entry_exists", 10, 250)
    assert balance(deps) == 10 and deps.store.get(payment_path(payment_id))["state"] == "settled"
