"""Paying for credits end to end: HTTP on the local stack, the TrueLayer stand-in's signed
webhooks, the production verifier, Pub/Sub and Firestore emulators."""

import concurrent.futures
import time
from datetime import datetime, timedelta

import pytest
import requests

from cli.api import ApiError
from functions.core.paths import truelayer_event_path
from schemas.payments import RenewalClockTicked
from tests.helpers import assert_ledger_balanced, ledger_of, wait_until

pytestmark = pytest.mark.e2e

PAYER = {"name": "Ada Lovelace", "email": "ada@example.com"}


def _deliveries(control, event_ids: list[str]) -> list[dict]:
    return [d for d in control.get("webhooks") if d["eventId"] in event_ids]


def _delivered(control, event_ids: list[str], copies: int = 1, status: int = 200) -> list[dict]:
    """Waits until every copy of every event got its final answer (``status``, retries included)."""
    def done():
        final = [d for d in _deliveries(control, event_ids) if d.get("statusCode") == status]
        return final if len(final) >= copies * len(event_ids) else None

    return wait_until(done, timeout_s=30, what=f"{copies} x {len(event_ids)} webhook deliveries answered {status}")


def _stays(condition, for_s: float = 1.5) -> None:
    """An absence check: nothing more happens (no late duplicate grant) for ``for_s``."""
    deadline = time.monotonic() + for_s
    while time.monotonic() < deadline:
        assert condition()
        time.sleep(0.1)


def _balance(user) -> int:
    return user.client.credits()["balance"]


def _settle(control, payment_id: str, **options) -> list[str]:
    return control.post(f"payments/{payment_id}/settle", **options)["eventIds"]


def test_subscribe_then_settled_grants_the_plans_credits_once(make_user, truelayer_control, store, stack):
    user = make_user()
    checkout = user.client.subscribe("starter", PAYER)
    assert checkout["credits"] == 80 and checkout["link"].startswith(f"{stack.truelayer_url}/hpp/payments#")
    assert user.client.account()["payments"][0]["state"] == "pending" and _balance(user) == 0
    events = _settle(truelayer_control, checkout["paymentId"])
    wait_until(lambda: _balance(user) == 80, what="the plan's credits")
    _delivered(truelayer_control, events)
    account = user.client.account()
    assert account["subscription"]["status"] == "active" and account["subscription"]["renewsAt"]
    assert account["payments"][0]["state"] == "settled"
    _stays(lambda: _balance(user) == 80)
    assert [e["entryId"] for e in ledger_of(store, user.user_id)] == [f"monthly:{user.user_id}:{account['payments'][0]['periodStart'][:7]}"]
    assert_ledger_balanced(store, user.user_id)


def test_a_top_up_of_40_grants_40_once(make_user, truelayer_control, store):
    user = make_user(credits=3)
    checkout = user.client.topup(40, PAYER)
    assert checkout["amountMinor"] == 1000
    events = _settle(truelayer_control, checkout["paymentId"])
    wait_until(lambda: _balance(user) == 43, what="the top-up")
    _delivered(truelayer_control, events)
    _stays(lambda: _balance(user) == 43)
    assert_ledger_balanced(store, user.user_id)


@pytest.mark.parametrize("concurrent", [False, True], ids=["in-turn", "concurrently"])
def test_the_same_webhook_three_times_grants_once(make_user, truelayer_control, store, concurrent):
    user = make_user()
    checkout = user.client.topup(40, PAYER)
    events = _settle(truelayer_control, checkout["paymentId"], copies=3, concurrent=concurrent)
    _delivered(truelayer_control, events, copies=3)
    wait_until(lambda: store.get(truelayer_event_path(events[-1])), what="the settled event to be applied")
    wait_until(lambda: _balance(user) == 40, what="the top-up")
    _stays(lambda: _balance(user) == 40 and len(ledger_of(store, user.user_id)) == 1)
    assert_ledger_balanced(store, user.user_id)


def test_payment_failed_grants_nothing(make_user, truelayer_control, store):
    user = make_user()
    checkout = user.client.topup(40, PAYER)
    events = truelayer_control.post(f"payments/{checkout['paymentId']}/fail", reason="insufficient_funds")["eventIds"]
    _delivered(truelayer_control, events)
    payment = wait_until(lambda: (p := user.client.account()["payments"][0])["state"] == "failed" and p, what="the failure")
    assert payment["failureReason"] == "insufficient_funds" and "link" not in payment
    assert _balance(user) == 0 and ledger_of(store, user.user_id) == []


@pytest.mark.parametrize("signature", ["corrupt", "foreign-jku", "missing"])
def test_unverified_webhooks_get_401_and_change_nothing(make_user, truelayer_control, store, signature):
    user = make_user()
    checkout = user.client.topup(40, PAYER)
    events = _settle(truelayer_control, checkout["paymentId"], signature=signature)
    answers = _delivered(truelayer_control, events, copies=3, status=401)  # the first try and two retries
    assert {a["statusCode"] for a in _deliveries(truelayer_control, events)} == {401} and len(answers) == 6
    assert user.client.account()["payments"][0]["state"] == "pending"
    assert _balance(user) == 0 and ledger_of(store, user.user_id) == []
    assert all(store.get(truelayer_event_path(e)) is None for e in events)


def test_a_replayed_body_with_a_changed_amount_gets_401(make_user, truelayer_control, store, stack):
    user = make_user()
    checkout = user.client.topup(40, PAYER)
    events = _settle(truelayer_control, checkout["paymentId"])
    wait_until(lambda: _balance(user) == 40, what="the top-up")
    settled = next(d for d in _delivered(truelayer_control, events) if d["type"] == "payment_settled")
    forged = settled["body"].replace('"cineweave_credits":"40"', '"cineweave_credits":"1000"')
    forged = forged.replace(settled["eventId"], "11111111-2222-3333-4444-555555555555")
    assert forged != settled["body"]
    url = f"{stack.base_url}/webhooks/truelayer"
    answer = requests.post(url, data=forged.encode(), headers=settled["headers"], timeout=10)
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "unauthorized"
    assert requests.post(url, data=b'{"type":"payment_settled"}', headers={"Content-Type": "application/json"},
                         timeout=10).status_code == 401
    _stays(lambda: _balance(user) == 40)
    assert_ledger_balanced(store, user.user_id)


def test_a_rotated_webhook_key_is_accepted_at_once(make_user, truelayer_control):
    user = make_user()
    truelayer_control.post("keys/rotate")
    checkout = user.client.topup(10, PAYER)
    _settle(truelayer_control, checkout["paymentId"])
    wait_until(lambda: _balance(user) == 10, what="a webhook signed with the new key")


def test_renewal_by_link_month_2_grants_once(make_user, truelayer_control, store, publisher, stack):
    user = make_user()
    _settle(truelayer_control, user.client.subscribe("creator", PAYER)["paymentId"])
    wait_until(lambda: _balance(user) == 250, what="month 1")
    renews_at = user.client.account()["subscription"]["renewsAt"]
    due = datetime.fromisoformat(renews_at) - timedelta(days=1)  # a tick inside the 72 h lead: links go out early
    with concurrent.futures.ThreadPoolExecutor(3) as pool:  # the scheduler's tick, delivered three times at once
        list(pool.map(lambda _: publisher.publish(RenewalClockTicked(occurred_at=due)), range(3)))
    renewal = wait_until(lambda: user.client.account()["subscription"].get("renewal"), what="the renewal link")
    assert renewal["state"] == "pending" and renewal["link"].startswith(f"{stack.truelayer_url}/hpp/payments#")
    _settle(truelayer_control, renewal["paymentId"], copies=2, concurrent=True)
    wait_until(lambda: _balance(user) == 500, what="month 2")
    sub = user.client.account()["subscription"]
    assert sub["currentPeriodStart"] == renews_at and "renewal" not in sub
    publisher.publish(RenewalClockTicked(occurred_at=due))  # month 2 is paid: nothing is due any more
    _stays(lambda: _balance(user) == 500 and len(user.client.account()["payments"]) == 2)
    months = sorted(e["entryId"] for e in ledger_of(store, user.user_id))
    assert len(months) == 2 and months[1].endswith(renews_at[:7])
    assert_ledger_balanced(store, user.user_id)


def test_subscription_by_mandate_is_charged_without_a_link_and_revocation_stops_it(make_user, truelayer_control, store, publisher, stack):
    user = make_user()
    checkout = user.client.subscribe("starter", PAYER, renew_with="mandate")
    assert checkout["link"].startswith(f"{stack.truelayer_url}/hpp/mandates#mandate_id={checkout['mandateId']}")
    truelayer_control.post(f"mandates/{checkout['mandateId']}/authorize")

    def charge():
        return next((p for p in truelayer_control.get("payments")
                     if p.get("payment_method", {}).get("mandate_id") == checkout["mandateId"]), None)

    first = wait_until(charge, what="the first charge on the mandate")
    wait_until(lambda: any(p["paymentId"] == first["id"] for p in user.client.account()["payments"]), what="its record")
    _settle(truelayer_control, first["id"])
    wait_until(lambda: _balance(user) == 80, what="month 1 on the mandate")
    events = truelayer_control.post(f"mandates/{checkout['mandateId']}/revoke")["eventIds"]
    _delivered(truelayer_control, events)
    sub = wait_until(lambda: (s := user.client.account()["subscription"])["mandateStatus"] == "revoked" and s, what="revocation")
    assert "renewsAt" not in sub and sub["status"] == "active"
    assert_ledger_balanced(store, user.user_id)


def test_account_and_subscribe_need_a_session(stack):
    assert requests.get(f"{stack.base_url}/account", timeout=10).status_code == 401
    assert requests.post(f"{stack.base_url}/subscribe", json={"planId": "starter"}, timeout=10).status_code == 401


def test_a_paid_plan_cannot_be_bought_twice(make_user, truelayer_control):
    user = make_user()
    _settle(truelayer_control, user.client.subscribe("starter", PAYER)["paymentId"])
    wait_until(lambda: _balance(user) == 80, what="month 1")
    with pytest.raises(ApiError) as refused:
        user.client.subscribe("studio")
    assert refused.value.status == 409

