"""Webhooks to clients and the job event stream, end to end on the local stack: a receiver on
loopback, verified with the Standard Webhooks library, and the typed client's ``wait``."""

import time

import pytest

from cineweave_client import ApiError, Client, InvalidWebhook, verify_webhook
from schemas.webhooks import WebhooksClockTicked
from tests.helpers import wait_until
from tests.webhook_receiver import headers_of

pytestmark = pytest.mark.e2e


@pytest.fixture
def client_for(stack, issuer):
    return lambda user: Client(stack.base_url, issuer.token_source(user.user_id, azp=stack.base_url))


def statuses_received(receiver, secret) -> list[tuple[str, str]]:
    """(webhook-id, status) of every request, each verified as a Standard Webhooks message."""
    return [(r.header("webhook-id"), verify_webhook(r.body, headers_of(r), secret).status.value) for r in receiver.requests]


def test_a_job_streams_its_statuses_in_order_and_a_receiver_gets_each_event_signed(make_user, client_for, receiver, publisher):
    user = make_user(credits=1)
    client = client_for(user)
    endpoint = client.create_webhook_endpoint(receiver.url())
    assert endpoint.secret.startswith("whsec_")
    seen, arrived = [], []
    job = client.create("a paper boat on a pond [slow:1.5]", 5)
    done = client.wait(job.job_id, timeout_s=60, on_update=lambda j: (seen.append(j.status.value), arrived.append(time.time())))
    assert done.status.value == "done" and done.video is not None
    # The gateway streams (it does not buffer the answer until it ends): the first events came
    # while the job was still rendering, well before it was done.
    assert arrived[0] < done.history[-1].at.timestamp() - 1.0, (arrived[0], done.history[-1].at)
    statuses = [s for n, s in enumerate(seen) if n == 0 or seen[n - 1] != s]  # progress events repeat a status
    assert statuses == ["pending", "reserved", "queued", "running", "done"], seen  # every status, in order, ending there
    assert len(seen) > len(statuses), "progress reached the stream as it happened"

    received = wait_until(lambda: (got := statuses_received(receiver, endpoint.secret)) and len(got) >= 3 and got,
                          timeout_s=30, what="three events at the receiver")
    # Each status once; deliveries run concurrently (Pub/Sub keeps no order), so not necessarily in order.
    assert sorted(status for _, status in received) == ["done", "queued", "running"]
    assert len({webhook_id for webhook_id, _ in received}) == 3
    with pytest.raises(InvalidWebhook):
        verify_webhook(receiver.requests[0].body, headers_of(receiver.requests[0]), client.webhook_secret())


def test_a_retry_after_a_500_carries_the_same_webhook_id_and_the_attempts_are_listed(make_user, client_for, receiver, publisher):
    user = make_user(credits=1)
    client = client_for(user)
    receiver.script["*"] = [500, 200]  # every message: refused once, then taken
    secret = client.webhook_secret()
    job = client.create("a lantern", 5, webhook_url=receiver.url("/job-hook"), webhook_events=["job.succeeded"])

    def retried():
        publisher.publish(WebhooksClockTicked())
        return len(receiver.requests) >= 2

    wait_until(retried, timeout_s=60, interval_s=0.5, what="the retry of job.succeeded")
    first, retry = receiver.requests[:2]
    assert first.header("webhook-id") == retry.header("webhook-id")
    assert first.body == retry.body
    assert verify_webhook(retry.body, headers_of(retry), secret).status.value == "done"

    deliveries = wait_until(lambda: (d := client.list_webhook_deliveries(job_id=job.job_id).deliveries)
                            and d[0].status.value == "succeeded" and d, what="the delivery to be recorded")
    (delivery,) = deliveries
    assert delivery.id == first.header("webhook-id") and delivery.event.value == "job.succeeded"
    assert [a.status_code for a in delivery.attempts] == [500, 200]
    assert all(a.latency_ms >= 0 for a in delivery.attempts)

    again = client.redeliver_webhook(delivery.id)
    assert again.status.value == "pending"
    wait_until(lambda: len(receiver.requests) >= 3, what="the manual redelivery")
    assert receiver.requests[2].header("webhook-id") == delivery.id


@pytest.mark.parametrize("url", ["https://10.1.2.3/hook", "http://169.254.169.254/latest/meta-data", "https://[fd00::1]/hook",
                                 "http://192.168.0.10/hook"])
def test_a_receiver_on_a_private_address_is_refused_at_registration(make_user, client_for, url):
    client = client_for(make_user(credits=1))
    with pytest.raises(ApiError) as refused:
        client.create_webhook_endpoint(url)
    assert refused.value.status == 422 and refused.value.code == "webhook_url_refused" and refused.value.field == "url"
    with pytest.raises(ApiError) as refused:
        client.create("a kite", 5, webhook_url=url)
    assert refused.value.status == 422 and refused.value.field == "webhookUrl"
    assert client.list_webhook_endpoints().endpoints == [] and client.list().jobs == []
