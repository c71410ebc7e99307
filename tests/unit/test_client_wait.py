"""cineweave_client's wait: the event stream, resumed where it broke, and polling when it cannot be had."""

import json

import pytest
import requests

from cineweave_client.events import follow
from schemas.api import JobView

NOW = "2026-12-01T12:00:00Z"


def view(status: str, percent: int | None = None) -> dict:
    body = {"jobId": "job_1", "status": status, "prompt": "p", "durationSec": 5, "credits": 1, "createdAt": NOW, "updatedAt": NOW}
    return {**body, **({"progress": {"stage": "denoising", "percent": percent}} if percent is not None else {})}


class Answer:
    def __init__(self, status_code: int, events: list[tuple[str, dict]] = (), body: dict | None = None):
        self.status_code, self.headers = status_code, {}
        self.content = json.dumps(body).encode() if body else b""
        self._lines = [line for event_id, data in events for line in (f"id: {event_id}", f"data: {json.dumps(data)}", "")]

    def json(self):
        return json.loads(self.content)

    def iter_lines(self, decode_unicode: bool = False):
        yield ": keep-alive"
        yield ""
        yield from self._lines

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class Transport:
    """Answers each stream request from a script; records the Last-Event-ID of each."""

    def __init__(self, *answers):
        self.answers, self.resumed_from = list(answers), []

    def request(self, method, path, headers=None, **kwargs):
        assert path == "/jobs/job_1/events" and headers["Accept"] == "text/event-stream"
        self.resumed_from.append(headers.get("Last-Event-ID"))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def ended(job: JobView) -> bool:
    return job.status.value in ("done", "failed")


def test_a_stream_that_ends_early_is_resumed_from_the_last_event_id():
    transport = Transport(Answer(200, [("1.a", view("queued")), ("2.b", view("running", 10))]),
                          Answer(200, [("2.c", view("running", 60)), ("3.d", view("done"))]))
    seen = []
    job = follow(transport, "job_1", lambda: pytest.fail("no polling while the stream works"), ended, timeout_s=5,
                 on_update=lambda j: seen.append((j.status.value, j.progress.percent if j.progress else None)))
    assert job.status.value == "done"
    assert seen == [("queued", None), ("running", 10), ("running", 60), ("done", None)]
    assert transport.resumed_from == [None, "2.b"]


@pytest.mark.parametrize("failure", [requests.ConnectionError("refused"), Answer(404, body={"error": {"code": "not_found"}}),
                                     Answer(503, body={"error": {"code": "unavailable"}})])
def test_a_stream_that_cannot_be_had_falls_back_to_polling(failure):
    transport = Transport(failure, failure, failure)
    polls = iter([view("running", 50), view("done")])
    job = follow(transport, "job_1", lambda: JobView.model_validate(next(polls)), ended, timeout_s=5, poll_interval_s=0.01)
    assert job.status.value == "done" and len(transport.resumed_from) == 3


def test_a_refused_credential_is_not_hidden_behind_polling():
    from cineweave_client import ApiError

    transport = Transport(Answer(401, body={"error": {"code": "unauthorized"}}))
    with pytest.raises(ApiError) as refused:
        follow(transport, "job_1", lambda: pytest.fail("no polling"), ended, timeout_s=5)
    assert refused.value.status == 401


def test_streams_that_end_without_an_event_count_as_failures():
    transport = Transport(Answer(200), Answer(200), Answer(200))
    job = follow(transport, "job_1", lambda: JobView.model_validate(view("done")), ended, timeout_s=5, poll_interval_s=0.01)
    assert job.status.value == "done" and len(transport.resumed_from) == 3
