"""Pub/Sub delivers at least once, out of order, sometimes twice at once: every consumer is idempotent.

Events are published for real to the emulator and pushed to the real functions.
"""

import base64
import concurrent.futures
import uuid
from datetime import UTC, datetime

import requests

from cli.api import TERMINAL
from functions.core.paths import job_path
from schemas.events import GenerationFinished, JobCanceled, JobRequested, JobReserved
from schemas.topics import topic_for
from tests.helpers import assert_ledger_balanced, ledger_of, wait_until


def _now() -> datetime:
    return datetime.now(UTC)


def _publish_at_once(publisher, events) -> None:
    with concurrent.futures.ThreadPoolExecutor(len(events)) as pool:
        list(pool.map(publisher.publish, events))


def _done(user, job_id: str) -> dict:
    return wait_until(lambda: (j := user.client.job(job_id))["status"] in TERMINAL and j, what=f"job {job_id} to end")


def push(stack, event, message_id: str | None = None) -> int:
    """Deliver ``event`` the way a Pub/Sub push subscription does; returns once it is processed."""
    topic = topic_for(type(event))
    body = {
        "message": {
            "data": base64.b64encode(event.model_dump_json(by_alias=True).encode()).decode(),
            "attributes": {"eventType": type(event).__name__},
            "messageId": message_id or uuid.uuid4().hex,
            "publishTime": _now().isoformat(),
        },
        "subscription": f"projects/{stack.project}/subscriptions/{topic.name}-push",
    }
    return requests.post(f"{stack.events_url}/{topic.consumer}", json=body, timeout=30).status_code


def _quiet(stack, store, user, job_id: str, events) -> None:
    """Deliver each of ``events`` twice at once to a finished job; assert nothing changed."""
    # deliver_webhooks clears the job's webhooksPending once it has fanned the last change out
    wait_until(lambda: not store.get(job_path(job_id)).get("webhooksPending"), what="the last change to be announced")
    before = (store.get(job_path(job_id)), ledger_of(store, user.user_id))
    with concurrent.futures.ThreadPoolExecutor(2 * len(events)) as pool:
        codes = list(pool.map(lambda event: push(stack, event), [e for e in events for _ in range(2)]))
    assert all(200 <= code < 300 for code in codes), codes
    assert (store.get(job_path(job_id)), ledger_of(store, user.user_id)) == before


def test_duplicate_job_requested_concurrently_reserves_once(make_user, store, publisher):
    user = make_user(credits=5)
    job_id = user.client.create_job("reserve me once", 5)["jobId"]
    _publish_at_once(publisher, [JobRequested(job_id=job_id, occurred_at=_now()) for _ in range(4)])
    assert _done(user, job_id)["status"] == "done"
    assert [e["entryId"] for e in ledger_of(store, user.user_id) if e["kind"] == "reserve"] == [f"reserve:{job_id}"]
    assert user.client.credits()["balance"] == 4
    assert_ledger_balanced(store, user.user_id)


def test_duplicate_job_reserved_concurrently_submits_to_runpod_once(make_user, store, publisher, runpod_control):
    user = make_user(credits=5)
    job_id = user.client.create_job("submit me once [slow:1]", 5)["jobId"]
    wait_until(lambda: user.client.job(job_id)["status"] != "pending", what="the reservation")
    _publish_at_once(publisher, [JobReserved(job_id=job_id, occurred_at=_now()) for _ in range(4)])
    assert _done(user, job_id)["status"] == "done"
    runs = [r for r in runpod_control.get("runs") if r["body"]["input"]["jobId"] == job_id]
    assert len(runs) == 1, runs
    assert_ledger_balanced(store, user.user_id)


def test_late_and_duplicate_events_change_nothing_once_a_job_is_final(make_user, store, stack):
    user = make_user(credits=5)
    job_id = user.client.create_job("finished business", 5)["jobId"]
    job = _done(user, job_id)
    runpod_job_id = store.get(job_path(job_id))["runpodJobId"]
    late = [
        JobRequested(job_id=job_id, occurred_at=_now()),
        JobReserved(job_id=job_id, occurred_at=_now()),
        GenerationFinished(job_id=job_id, runpod_job_id=runpod_job_id, reported_status="FAILED", occurred_at=_now()),
        JobCanceled(job_id=job_id, runpod_job_id=runpod_job_id, occurred_at=_now()),
    ]
    _quiet(stack, store, user, job_id, late)
    assert user.client.job(job_id)["status"] == job["status"] == "done"
    assert_ledger_balanced(store, user.user_id)


def test_a_poison_message_is_acknowledged_not_redelivered_forever(stack):
    topic = "job-requested"
    for data in ("bm90IGpzb24=", base64.b64encode(b'{"schemaVersion": 9, "jobId": "x"}').decode()):
        body = {"message": {"data": data, "messageId": uuid.uuid4().hex, "publishTime": _now().isoformat()},
                "subscription": f"projects/{stack.project}/subscriptions/{topic}-push"}
        assert requests.post(f"{stack.events_url}/reserve_credits", json=body, timeout=10).status_code in (200, 204)


def test_an_event_for_an_unknown_job_is_acknowledged(stack):
    assert push(stack, JobRequested(job_id="job_doesnotexist", occurred_at=_now())) in (200, 204)
