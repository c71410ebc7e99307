# Runs before test_faults.py on purpose: the emulator backs a push subscription off for minutes after
# its endpoint was down (the events host kill there), which would slow the dead-lettering here.
"""Messages that cannot be processed: poison is acknowledged and recorded (never redelivered
forever), a message whose consumer keeps failing is dead-lettered after the configured attempts
with its error recorded, and the operator command lists both and replays them, idempotently."""

import base64
import uuid
from datetime import UTC, datetime

import pytest
import requests
from google.cloud import pubsub_v1

from devstack.deadletters import DeadLetters
from devstack.pubsub_setup import subscription_name
from functions.core import jobs
from functions.core.paths import EVENT_FAILURES, job_path, user_path
from functions.store import Query
from functions.store.port import Decision, Put
from schemas.documents import JobDoc, StatusChange, UserDoc
from schemas.events import JobRequested
from schemas.jobs import JobStatus
from schemas.topics import DELIVERY, TOPICS
from tests.helpers import assert_ledger_balanced, wait_until

pytestmark = pytest.mark.e2e


def _now() -> datetime:
    return datetime.now(UTC)


def _push_body(stack, data: str | None, topic: str = "job-requested") -> dict:
    message = {"messageId": uuid.uuid4().hex, "publishTime": _now().isoformat(), "attributes": {"eventType": "JobRequested"}}
    if data is not None:
        message["data"] = data
    return {"message": message, "subscription": f"projects/{stack.project}/subscriptions/{topic}-push"}


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


POISON = {
    "garbage bytes": _b64(b"\x00\xffnot json at all"),
    "wrong schema version": _b64(b'{"schemaVersion": 2, "occurredAt": "2026-01-01T00:00:00Z", "jobId": "job_x"}'),
    "missing field": _b64(b'{"schemaVersion": 1, "occurredAt": "2026-01-01T00:00:00Z"}'),
    "empty data": "",
    "not base64": "%%%",
}


@pytest.fixture
def dead_letters(stack, store) -> DeadLetters:
    return DeadLetters(stack.project, store=store)


def test_poison_is_acknowledged_recorded_once_and_listed(stack, store, dead_letters):
    for kind, data in POISON.items():
        body = _push_body(stack, data)
        for _ in range(2):  # delivered twice: still one record, two attempts
            answer = requests.post(f"{stack.events_url}/reserve_credits", json=body, timeout=10)
            assert answer.status_code in (200, 204), (kind, answer.status_code)
    records = {data["data"]: data for _, data in store.query(Query(EVENT_FAILURES, where=[("kind", "==", "poison")]))}
    for kind, data in POISON.items():
        record = records[data]
        assert record["consumer"] == "reserve_credits" and record["attempts"] == 2, (kind, record)
        assert "not a valid JobRequested" in record["reason"], (kind, record)
    listed = {m.data for m in dead_letters.unprocessed() if m.source == "poison"}
    assert set(POISON.values()) <= listed


def test_a_push_without_data_is_refused_so_the_subscription_dead_letters_it(stack):
    answer = requests.post(f"{stack.events_url}/reserve_credits", json=_push_body(stack, None), timeout=10)
    assert 400 <= answer.status_code < 500  # never acknowledged: counted as a failed attempt
    subscriber = pubsub_v1.SubscriberClient()
    for topic in TOPICS:
        sub = subscriber.get_subscription(request={"subscription": subscriber.subscription_path(stack.project, subscription_name(topic.name))})
        assert sub.dead_letter_policy.max_delivery_attempts == DELIVERY.max_delivery_attempts, topic.name
        assert sub.dead_letter_policy.dead_letter_topic.endswith(f"/{topic.name}-dead-letter"), topic.name


def test_a_message_that_keeps_failing_is_dead_lettered_explained_and_replayed_once_fixed(stack, store, publisher, make_user,
                                                                                           dead_letters):
    user = make_user(credits=1)
    job_id = f"job_broken{uuid.uuid4().hex[:12]}"
    store.decide([job_path(job_id)], lambda docs: Decision([Put(job_path(job_id), {"jobId": job_id, "status": "bogus"})]))
    publisher.publish(JobRequested(job_id=job_id, occurred_at=_now()))

    def dead_lettered():
        return [m for m in dead_letters.unprocessed() if m.source == "dead-letter" and job_id in base64.b64decode(m.data).decode()]

    (letter,) = wait_until(dead_lettered, timeout_s=150, interval_s=2, what="the dead letter")
    assert letter.topic == "job-requested" and letter.attempts == DELIVERY.max_delivery_attempts
    assert f"reserve_credits failed {DELIVERY.max_delivery_attempts} times" in letter.why and "ValidationError" in letter.why

    _repair(store, user.user_id, job_id)  # the operator fixes the cause, then replays
    assert [m.message_id for m in dead_letters.replay(ids={letter.message_id})] == [letter.message_id]
    job = wait_until(lambda: (j := user.client.job(job_id))["status"] == "done" and j, timeout_s=60, what="the replayed job")
    assert not dead_lettered()
    assert dead_letters.replay(ids={letter.message_id}) == []  # gone from the hold: a second replay does nothing
    publisher.publish(JobRequested(job_id=job_id, occurred_at=_now()))  # and a second copy changes nothing
    wait_until(lambda: user.client.credits()["balance"] == 0, what="one charge")
    assert user.client.job(job_id)["history"] == job["history"]
    assert_ledger_balanced(store, user.user_id)


def _repair(store, user_id: str, job_id: str) -> None:
    now = _now()
    job = JobDoc(job_id=job_id, user_id=user_id, status=JobStatus.PENDING, prompt="repaired by the operator", duration_sec=5,
                 credits=1, created_at=now, updated_at=now, history=(StatusChange(status=JobStatus.PENDING, at=now),))

    def decide(docs):
        user = UserDoc.from_document(docs[user_path(user_id)])
        return Decision([jobs.put(job_path(job_id), job),
                         jobs.put(user_path(user_id), user.model_copy(update={"active_jobs": user.active_jobs + 1}))])

    store.decide([job_path(job_id), user_path(user_id)], decide)
