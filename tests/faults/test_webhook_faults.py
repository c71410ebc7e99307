"""Webhook delivery under faults: the delivery function killed mid-attempt, a receiver that hangs."""

import signal

import pytest

from cineweave_client import Client, verify_webhook
from devstack import processes
from devstack import stack as devstack
from schemas.webhooks import WebhooksClockTicked
from tests.helpers import wait_until
from tests.webhook_receiver import headers_of

pytestmark = pytest.mark.e2e


@pytest.fixture
def client(stack, issuer, make_user):
    user = make_user(credits=1)
    return Client(stack.base_url, issuer.token_source(user.user_id, azp=stack.base_url))


def _tick_until(publisher, condition, what: str, timeout_s: float = 60):
    def ticked():
        publisher.publish(WebhooksClockTicked())
        return condition()

    return wait_until(ticked, timeout_s=timeout_s, interval_s=0.3, what=what)


def test_the_delivery_function_killed_mid_retry_loses_no_delivery(stack, client, receiver, publisher):
    receiver.script["*"] = [500, "hang", 200]  # refused, then hung while the function is killed, then taken
    endpoint = client.create_webhook_endpoint(receiver.url(), events=["job.succeeded"])
    client.create("a kite in the wind", 5)
    wait_until(lambda: len(receiver.requests) >= 1, timeout_s=60, what="the first attempt")
    _tick_until(publisher, lambda: len(receiver.requests) >= 2, "the retry to be in flight")
    processes.stop("events", stack.state_dir, signal.SIGKILL)  # every event function dies mid-attempt
    devstack.start_service(stack, "events")
    _tick_until(publisher, lambda: len(receiver.requests) >= 3, "the attempt after the claim ran out")

    ids = {r.header("webhook-id") for r in receiver.requests}
    assert len(ids) == 1, "one message, however many attempts"
    assert verify_webhook(receiver.requests[-1].body, headers_of(receiver.requests[-1]), endpoint.secret).status.value == "done"
    (delivery,) = wait_until(lambda: (d := client.list_webhook_deliveries().deliveries) and d[0].status.value == "succeeded" and d,
                             what="the delivery recorded as succeeded")
    # The killed attempt left no record (it never finished); the two that did are both there.
    assert [a.status_code for a in delivery.attempts] == [500, 200]


def test_a_receiver_that_hangs_holds_an_attempt_no_longer_than_the_deadline(stack, client, receiver, publisher):
    receiver.script["*"] = ["hang"]
    client.create_webhook_endpoint(receiver.url(), events=["job.succeeded"])
    client.create("a hung receiver", 5)
    (delivery,) = wait_until(lambda: (d := client.list_webhook_deliveries().deliveries) and d[0].attempts and d,
                             timeout_s=60, what="the first attempt to be recorded")
    (attempt,) = delivery.attempts
    assert attempt.status_code is None and attempt.error.startswith("DeadlineExceeded"), attempt
    assert 1900 <= attempt.latency_ms <= 2600, "WEBHOOK_TIMEOUT_S is 2: the attempt ends at the deadline, not later"
    assert delivery.status.value == "retrying" and delivery.next_attempt_at is not None
