"""Subscribe, top up, webhooks and renewals through the handlers, on the in-memory store, with
the stand-in's signed webhooks and the production verifier: credits arrive once, and only for
money that moved."""

import threading
from datetime import timedelta

import pytest

from functions.core.paths import payment_path, subscription_path, truelayer_event_path
from functions.core.payments import NotRecordedYet
from schemas.payments import PaymentNotified, RenewalClockTicked
from tests.payments.flow import (
    assert_balanced,
    balance,
    call,
    deliver,
    drain,
    ledger,
    push,
    snapshot,
    webhooks_for,
)

PAYER = {"name": "Ada Lovelace", "email": "ada@example.com"}


def _settle(deps, standin, payment_id: str, copies: int = 1) -> None:
    for raw, headers in webhooks_for(standin, "payment", payment_id, "settle"):
        for _ in range(copies):
            assert deliver(deps, raw, headers) == 200
    drain(deps)


def _subscribe(deps, plan: str = "starter", **extra) -> dict:
    status, body = call(deps, "subscribe", {"planId": plan, "payer": PAYER, **extra})
    assert status == 201, body
    return body


def test_subscribe_then_settled_grants_the_plans_credits_once(deps, standin):
    checkout = _subscribe(deps)
    assert checkout["amountMinor"] == 1036 and checkout["currency"] == "GBP" and checkout["credits"] == 80
    assert checkout["link"].startswith("http://truelayer.test/hpp/payments#payment_id=" + checkout["paymentId"])
    assert deps.store.get(payment_path(checkout["paymentId"]))["state"] == "pending"
    assert balance(deps) == 0  # a link is not money
    _settle(deps, standin, checkout["paymentId"])
    assert balance(deps) == 80
    assert ledger(deps) == {"monthly:user_a:2026-11": 80}
    status, account = call(deps, "get_account")
    sub = account["subscription"]
    assert (sub["planId"], sub["status"], sub["monthlyCredits"]) == ("starter", "active", 80)
    assert sub["currentPeriodEnd"].startswith("2026-12-25") and sub["renewsAt"] == sub["currentPeriodEnd"]
    assert [(p["kind"], p["state"]) for p in account["payments"]] == [("plan", "settled")]
    assert "link" not in account["payments"][0]
    assert_balanced(deps)


def test_a_top_up_of_40_grants_40_once(deps, standin):
    status, checkout = call(deps, "topup", {"credits": 40, "payer": PAYER})
    assert status == 201 and checkout["amountMinor"] == 40 * 25
    _settle(deps, standin, checkout["paymentId"], copies=3)
    assert ledger(deps) == {f"grant:{checkout['paymentId']}": 40}
    # The second payment reuses TrueLayer's user: no payer needed now.
    status, second = call(deps, "topup", {"credits": 10})
    assert status == 201
    _settle(deps, standin, second["paymentId"])
    assert balance(deps) == 50
    assert_balanced(deps)


def test_the_same_webhook_concurrently_grants_once(deps, standin):
    _, checkout = call(deps, "topup", {"credits": 40, "payer": PAYER})
    executed, settled = webhooks_for(standin, "payment", checkout["paymentId"], "settle")
    assert deliver(deps, *executed) == 200
    assert deliver(deps, *settled) == 200
    event = next(e for e in deps.publisher.events if e.notification == "payment_settled")
    deps.publisher.events.clear()
    start, errors = threading.Barrier(8), []

    def apply():
        start.wait()
        try:
            push(deps, event)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=apply) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and balance(deps) == 40 and ledger(deps) == {f"grant:{checkout['paymentId']}": 40}
    assert deps.store.get(truelayer_event_path(event.event_id)) is not None
    assert deliver(deps, *settled) == 200 and deps.publisher.events == []  # an applied event is not published again


def test_payment_failed_grants_nothing_and_later_webhooks_cannot_revive_it(deps, standin):
    _, checkout = call(deps, "topup", {"credits": 40, "payer": PAYER})
    (raw, headers), = webhooks_for(standin, "payment", checkout["paymentId"], "fail", reason="insufficient_funds")
    assert deliver(deps, raw, headers) == 200
    drain(deps)
    payment = deps.store.get(payment_path(checkout["paymentId"]))
    assert payment["state"] == "failed" and payment["failureReason"] == "insufficient_funds"
    late = PaymentNotified(event_id="late-settled", notification="payment_settled", payment_id=checkout["paymentId"],
                           occurred_at=deps.now())
    push(deps, late)
    assert balance(deps) == 0 and ledger(deps) == {}
    assert deps.store.get(payment_path(checkout["paymentId"]))["state"] == "failed"


def test_states_only_move_forward(deps, standin):
    _, checkout = call(deps, "topup", {"credits": 40, "payer": PAYER})
    executed, settled = webhooks_for(standin, "payment", checkout["paymentId"], "settle")
    deliver(deps, *settled)  # out of order: settled first
    deliver(deps, *executed)
    drain(deps)
    assert deps.store.get(payment_path(checkout["paymentId"]))["state"] == "settled"
    assert balance(deps) == 40


@pytest.mark.parametrize("signature", ["missing", "corrupt", "foreign-jku"])
def test_unverified_webhooks_are_401_and_change_nothing(deps, standin, signature):
    _, checkout = call(deps, "topup", {"credits": 40, "payer": PAYER})
    before = snapshot(deps)
    for raw, headers in webhooks_for(standin, "payment", checkout["paymentId"], "settle", signature=signature):
        assert deliver(deps, raw, headers) == 401
    assert deps.publisher.events == [] and snapshot(deps) == before


def test_a_replayed_webhook_with_a_changed_amount_is_401(deps, standin):
    _, checkout = call(deps, "topup", {"credits": 40, "payer": PAYER})
    _, (raw, headers) = webhooks_for(standin, "payment", checkout["paymentId"], "settle")
    before = snapshot(deps)
    assert deliver(deps, raw.replace('"cineweave_credits":"40"', '"cineweave_credits":"1000"'), headers) == 401
    assert deps.publisher.events == [] and snapshot(deps) == before


def test_grant_on_payment_executed_for_external_accounts(make_payment_deps, standin):
    deps = make_payment_deps(truelayer_grant_on="payment_executed")
    _, checkout = call(deps, "topup", {"credits": 40, "payer": PAYER})
    executed, settled = webhooks_for(standin, "payment", checkout["paymentId"], "settle")
    deliver(deps, *executed)
    drain(deps)
    assert balance(deps) == 40
    deliver(deps, *settled)
    drain(deps)
    assert balance(deps) == 40 and deps.store.get(payment_path(checkout["paymentId"]))["state"] == "settled"


def test_checkout_input_is_checked(deps):
    assert call(deps, "topup", {"credits": 9, "payer": PAYER})[0] == 422
    assert call(deps, "topup", {"credits": 1001, "payer": PAYER})[0] == 422
    status, body = call(deps, "topup", {"credits": 40})
    assert status == 422 and body["error"]["code"] == "payer_required"
    status, body = call(deps, "subscribe", {"planId": "gold", "payer": PAYER})
    assert status == 422 and body["error"]["code"] == "unknown_plan"


def test_mandates_are_refused_where_commercial_vrp_is_unavailable(make_payment_deps):
    deps = make_payment_deps(truelayer_mandates_enabled=False)
    status, body = call(deps, "subscribe", {"planId": "starter", "renewWith": "mandate", "payer": PAYER})
    assert status == 422 and body["error"]["code"] == "mandates_unavailable"


def test_a_paid_subscription_cannot_be_bought_again_until_it_ends(deps, standin):
    _settle(deps, standin, _subscribe(deps)["paymentId"])
    status, body = call(deps, "subscribe", {"planId": "creator"})
    assert status == 409 and body["error"]["code"] == "already_subscribed"


def _tick(deps, at) -> None:
    push(deps, RenewalClockTicked(occurred_at=at))
    drain(deps)


def test_renewal_by_link_month_2_grants_once(deps, standin):
    _settle(deps, standin, _subscribe(deps)["paymentId"])
    sub = deps.store.get(subscription_path("user_a"))
    renews_at = sub["renewsAt"]
    _tick(deps, renews_at - timedelta(days=4))  # before the 72 h lead: nothing yet
    assert deps.store.get(subscription_path("user_a")).get("renewalPaymentId") is None
    _tick(deps, renews_at - timedelta(days=2))
    _tick(deps, renews_at - timedelta(days=1))  # a second tick finds the renewal open
    renewal_id = deps.store.get(subscription_path("user_a"))["renewalPaymentId"]
    status, account = call(deps, "get_account")
    assert account["subscription"]["renewal"]["link"].startswith("http://truelayer.test/hpp/payments#payment_id=" + renewal_id)
    assert len([p for p in account["payments"] if p["kind"] == "plan"]) == 2
    _settle(deps, standin, renewal_id, copies=3)
    assert ledger(deps) == {"monthly:user_a:2026-11": 80, "monthly:user_a:2026-12": 80}
    sub = deps.store.get(subscription_path("user_a"))
    assert sub["currentPeriodStart"] == renews_at and sub["currentPeriodEnd"].month == 1
    assert sub.get("renewalPaymentId") is None
    _tick(deps, renews_at + timedelta(hours=1))  # month 2 is paid: nothing is due
    assert balance(deps) == 160
    assert_balanced(deps)


def test_an_unpaid_renewal_lapses_after_the_grace_period(deps, standin):
    _settle(deps, standin, _subscribe(deps)["paymentId"])
    renews_at = deps.store.get(subscription_path("user_a"))["renewsAt"]
    _tick(deps, renews_at - timedelta(days=1))
    _tick(deps, renews_at + timedelta(days=8))
    sub = deps.store.get(subscription_path("user_a"))
    assert sub["status"] == "lapsed" and "renewsAt" not in sub
    assert balance(deps) == 80


def test_mandate_subscription_first_month_renewal_and_revocation(deps, standin):
    checkout = _subscribe(deps, "creator", renewWith="mandate")
    assert checkout["mandateId"] and "paymentId" not in checkout
    assert checkout["link"].startswith("http://truelayer.test/hpp/mandates#mandate_id=" + checkout["mandateId"])
    for raw, headers in webhooks_for(standin, "mandate", checkout["mandateId"], "authorize"):
        assert deliver(deps, raw, headers) == 200
    drain(deps)  # mandate_authorized -> first charge on the mandate
    first_id = deps.store.get(subscription_path("user_a"))["renewalPaymentId"]
    assert standin.state.get("payment", first_id).payment_method == {"type": "mandate", "mandate_id": checkout["mandateId"]}
    assert deps.store.get(payment_path(first_id)).get("link") is None  # nobody has to authorise it
    _settle(deps, standin, first_id)
    assert balance(deps) == 250
    renews_at = deps.store.get(subscription_path("user_a"))["renewsAt"]
    _tick(deps, renews_at - timedelta(days=2))  # mandates are charged on the day, not ahead
    assert deps.store.get(subscription_path("user_a")).get("renewalPaymentId") is None
    _tick(deps, renews_at)
    second_id = deps.store.get(subscription_path("user_a"))["renewalPaymentId"]
    _settle(deps, standin, second_id, copies=2)
    assert balance(deps) == 500 and len(ledger(deps)) == 2
    for raw, headers in webhooks_for(standin, "mandate", checkout["mandateId"], "revoke"):
        deliver(deps, raw, headers)
    drain(deps)
    sub = deps.store.get(subscription_path("user_a"))
    assert sub["mandateStatus"] == "revoked" and "renewsAt" not in sub
    _tick(deps, sub["currentPeriodEnd"])
    assert deps.publisher.events == [] and balance(deps) == 500
    assert_balanced(deps)


def test_a_refused_mandate_charge_falls_back_to_a_payment_link(deps, standin):
    checkout = _subscribe(deps, "starter", renewWith="mandate")
    for raw, headers in webhooks_for(standin, "mandate", checkout["mandateId"], "authorize"):
        deliver(deps, raw, headers)
    drain(deps)
    _settle(deps, standin, deps.store.get(subscription_path("user_a"))["renewalPaymentId"])
    standin.state.resources[checkout["mandateId"]].status = "revoked"  # the bank revoked it; we were not told yet
    renews_at = deps.store.get(subscription_path("user_a"))["renewsAt"]
    _tick(deps, renews_at)
    renewal = deps.store.get(payment_path(deps.store.get(subscription_path("user_a"))["renewalPaymentId"]))
    assert renewal.get("mandateId") is None and renewal["link"].startswith("http://truelayer.test/hpp/payments#")


def test_a_webhook_for_a_payment_not_recorded_yet_is_retried(deps):
    event = PaymentNotified(event_id="e-early", notification="payment_executed", payment_id="not-yet", occurred_at=deps.now())
    with pytest.raises(NotRecordedYet):
        push(deps, event)
    assert deps.store.get(truelayer_event_path("e-early")) is None
