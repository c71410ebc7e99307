"""GET /jobs/{id}/events and the queue estimate, on the in-memory store."""

import json
import threading
from datetime import timedelta

import flask
import pytest

from functions.adapters.clerk import Principal
from functions.adapters.queue_stats import QueueStats
from functions.core import jobs
from functions.core.paths import job_path, user_path
from functions.handlers import event_stream
from functions.http.endpoint import serve
from functions.store import Decision
from schemas.documents import JobDoc, StatusChange, UserDoc
from schemas.jobs import JobStatus
from tests.unit.fakes import created_job, make_deps, walk

USER = "user_sse"


@pytest.fixture
def deps():
    d = make_deps(job_events_poll_s=0.01, job_events_keepalive_s=0.05, job_events_max_s=5)
    d.store.decide([user_path(USER)], lambda docs: Decision([jobs.put(user_path(USER), UserDoc(user_id=USER, balance=10, created_at=d.now()))]))
    return d


def add_job(deps, job_id: str = "job_1", **extra) -> JobDoc:
    return created_job(deps, USER, job_id, **extra)


def stream(deps, job_id: str = "job_1", last_event_id: str | None = None, user: str = USER):
    headers = {"Authorization": "Bearer t", **({"Last-Event-ID": last_event_id} if last_event_id else {})}
    request = flask.Request.from_values(path=f"/jobs/{job_id}/events", method="GET", headers=headers)
    return serve(request, "job_events", lambda call: event_stream.stream_job(call, deps),
                 authenticate=lambda _: Principal(user, False), allowed_origins=())


def events(response) -> list[dict]:
    found = []
    for block in b"".join(response.response).decode().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if "data" in fields:
            found.append({"id": fields["id"], **json.loads(fields["data"])})
    return found


def test_a_finished_job_streams_every_status_in_order_then_the_stream_ends(deps):
    add_job(deps)
    walk(deps, "job_1", JobStatus.RESERVED, JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.CANCELED)
    response = stream(deps)
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    got = events(response)
    assert [e["status"] for e in got] == ["pending", "reserved", "queued", "running", "canceled"]
    assert [e["id"].split(".")[0] for e in got] == ["1", "2", "3", "4", "5"]


def test_a_reconnect_with_last_event_id_gets_only_what_it_missed(deps):
    add_job(deps)
    walk(deps, "job_1", JobStatus.RESERVED, JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.CANCELED)
    assert [e["status"] for e in events(stream(deps, last_event_id="3"))] == ["running", "canceled"]
    last = events(stream(deps))[-1]["id"]
    assert events(stream(deps, last_event_id=last)) == []


def test_a_live_job_streams_each_change_as_it_happens_and_keeps_the_connection_alive(deps):
    add_job(deps)
    response = stream(deps)
    chunks = iter(response.response)
    seen = []

    def read_until(status: str) -> None:
        for chunk in chunks:
            seen.append(chunk.decode())
            if f'"status":"{status}"' in chunk.decode():
                return
        raise AssertionError(f"stream ended before {status}")

    read_until("pending")
    walk(deps, "job_1", JobStatus.RESERVED)
    read_until("reserved")
    keepalive = next(chunks).decode()
    assert keepalive == ": keep-alive\n\n"
    walk(deps, "job_1", JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.FAILED)
    read_until("failed")
    assert list(chunks) == [], "the stream closes after the terminal status"
    statuses = [json.loads(c.split("data: ", 1)[1])["status"] for c in seen if "data: " in c]
    assert statuses == ["pending", "reserved", "queued", "running", "failed"]


def test_another_users_job_is_a_json_404_not_a_stream(deps):
    add_job(deps)
    response = stream(deps, user="user_other")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_a_stream_ends_after_its_longest_life_so_the_client_reconnects(deps):
    deps = make_deps(job_events_poll_s=0.01, job_events_max_s=0.05)
    deps.store.decide([user_path(USER)], lambda docs: Decision([jobs.put(user_path(USER), UserDoc(user_id=USER, balance=1, created_at=deps.now()))]))
    add_job(deps)
    got = events(stream(deps))  # returns: the job never ends, the stream does
    assert [e["status"] for e in got] == ["pending"]


class Health:
    def __init__(self, answer):
        self.answer, self.calls = answer, 0

    def __call__(self):
        self.calls += 1
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def queued(deps, job_id: str, minutes_ago: int) -> JobDoc:
    now = deps.now()
    job = JobDoc(job_id=job_id, user_id=USER, status=JobStatus.QUEUED, prompt="p", duration_sec=5, credits=1, created_at=now,
                 updated_at=now, submitted_at=now - timedelta(minutes=minutes_ago))
    deps.store.decide([job_path(job_id)], lambda docs: Decision([jobs.put(job_path(job_id), job)]))
    return job


def done(deps, job_id: str, gpu_seconds: float, duration_sec: int = 5) -> None:
    now = deps.now()
    job = JobDoc(job_id=job_id, user_id=USER, status=JobStatus.DONE, prompt="p", duration_sec=duration_sec, credits=1,
                 created_at=now, updated_at=now, finished_at=now, gpu_seconds=gpu_seconds)
    deps.store.decide([job_path(job_id)], lambda docs: Decision([jobs.put(job_path(job_id), job)]))


def test_a_queued_job_knows_how_many_are_ahead_and_when_it_should_be_done(deps):
    for n, minutes in enumerate((9, 8, 7)):
        queued(deps, f"job_a{n}", minutes)
    mine = queued(deps, "job_mine", 5)
    queued(deps, "job_later", 1)
    for n, seconds in enumerate((40.0, 60.0, 50.0)):
        done(deps, f"job_d{n}", seconds)
    done(deps, "job_long", 500.0, duration_sec=15)  # another length: not in the median
    health = Health({"jobs": {"inQueue": 5}, "workers": {"running": 1, "idle": 0}})
    stats = QueueStats(deps.store, health, health_ttl_s=60)
    assert stats.estimate(mine) == (3, 200)  # 3 ahead on one worker: four rounds of the 50 s median
    health.answer = {"jobs": {"inQueue": 2}, "workers": {"running": 2}}
    assert QueueStats(deps.store, health, 60).estimate(mine) == (1, 50)  # RunPod holds only one other
    assert QueueStats(deps.store, Health(RuntimeError("down")), 60).estimate(mine) == (3, 200)
    running = mine.model_copy(update={"status": JobStatus.RUNNING})
    assert stats.estimate(running) == (None, None)
    stats.estimate(mine)
    assert health.calls == 2, "RunPod's health is cached"


def test_the_job_view_carries_the_queue_position_while_queued(deps):
    queued(deps, "job_ahead", 9)
    queued(deps, "job_1", 5)
    (first, *_) = events(stream(deps))
    assert first["status"] == "queued" and first["queuePosition"] == 1 and "etaSeconds" not in first
