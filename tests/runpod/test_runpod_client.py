"""RunPodClient against a scripted transport: wire format, retries, errors, secrecy."""

import json
import logging
from typing import Any

import pytest
import requests

from functions.adapters.runpod import (
    RunPodClient,
    RunPodJobNotFound,
    RunPodRejected,
    RunPodUnavailable,
)
from schemas.runpod import RunPodState

KEY = "rp-secret-key-123"
BASE = "https://rp.example/v2"


def answer(
    status: int, body: Any = None, headers: dict[str, str] | None = None, text: str | None = None
) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = (text if text is not None else json.dumps(body)).encode()
    response.headers.update(headers or {})
    return response


class ScriptedSession:
    """Answers each request with the next scripted response or exception."""

    def __init__(self, *answers: requests.Response | Exception) -> None:
        self.answers = list(answers)
        self.calls: list[dict[str, Any]] = []

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        self.calls.append({"method": method, "url": url, **kwargs})
        next_answer = self.answers.pop(0)
        if isinstance(next_answer, Exception):
            raise next_answer
        return next_answer


def client(session: ScriptedSession, sleeps: list[float] | None = None, **options: Any) -> RunPodClient:
    return RunPodClient(
        base_url=BASE,
        endpoint_id="ep1",
        api_key=KEY,
        session=session,  # type: ignore[arg-type]
        sleep=(sleeps if sleeps is not None else []).append,
        rand=lambda: 1.0,
        **{"max_retries": 3, **options},
    )


def test_run_posts_input_webhook_and_policy_with_a_bearer_key() -> None:
    session = ScriptedSession(answer(200, {"id": "rp-1", "status": "IN_QUEUE"}))

    job_id = client(session).run(
        {"prompt": "x"}, "https://hook/1?t=abc", execution_timeout_ms=900_000, ttl_ms=3_600_000
    )

    assert job_id == "rp-1"
    call = session.calls[0]
    assert (call["method"], call["url"]) == ("POST", f"{BASE}/ep1/run")
    assert call["headers"]["Authorization"] == f"Bearer {KEY}"
    assert call["json"] == {
        "input": {"prompt": "x"},
        "webhook": "https://hook/1?t=abc",
        "policy": {"executionTimeout": 900_000, "ttl": 3_600_000},
    }
    assert call["timeout"] == 10.0


def test_status_parses_runpods_payload_and_keeps_extra_fields() -> None:
    body = {"id": "rp-1", "status": "COMPLETED", "delayTime": 12, "executionTime": 3400,
            "output": {"r2Key": "videos/a.mp4"}, "workerId": "w-9"}
    session = ScriptedSession(answer(200, body))

    status = client(session).status("rp-1")

    assert session.calls[0]["url"] == f"{BASE}/ep1/status/rp-1"
    assert (status.status, status.delay_time, status.execution_time) == (RunPodState.COMPLETED, 12, 3400)
    assert status.status.is_final and status.output == {"r2Key": "videos/a.mp4"}
    assert status.to_wire()["workerId"] == "w-9"


def test_cancel_and_health_use_runpods_paths() -> None:
    session = ScriptedSession(
        answer(200, {"id": "rp-1", "status": "CANCELLED"}), answer(200, {"jobs": {}, "workers": {}})
    )
    rp = client(session)

    assert rp.cancel("rp-1").status == RunPodState.CANCELLED
    assert rp.health() == {"jobs": {}, "workers": {}}
    assert [(c["method"], c["url"]) for c in session.calls] == [
        ("POST", f"{BASE}/ep1/cancel/rp-1"), ("GET", f"{BASE}/ep1/health")
    ]


def test_5xx_and_network_errors_are_retried_with_growing_jittered_backoff() -> None:
    queued = answer(200, {"id": "rp-1", "status": "IN_QUEUE"})
    session = ScriptedSession(answer(503), requests.ConnectionError("refused"), answer(502), queued)
    sleeps: list[float] = []

    assert client(session, sleeps, backoff_base_s=0.5, backoff_max_s=1.5).run({}, "h", 1, 1) == "rp-1"

    assert sleeps == [0.5, 1.0, 1.5]  # rand() == 1.0: the top of each jitter window, capped


def test_jitter_spreads_the_delay_below_the_ceiling() -> None:
    session = ScriptedSession(answer(500), answer(200, {"id": "rp-1", "status": "IN_QUEUE"}))
    sleeps: list[float] = []
    rp = RunPodClient(endpoint_id="ep1", api_key=KEY, session=session, sleep=sleeps.append,  # type: ignore[arg-type]
                      backoff_base_s=2.0, rand=lambda: 0.25)

    rp.status("rp-1")

    assert sleeps == [0.5]


def test_retries_are_bounded_then_unavailable() -> None:
    session = ScriptedSession(*[answer(500)] * 3)

    with pytest.raises(RunPodUnavailable, match="3 attempts"):
        client(session, max_retries=2).status("rp-1")

    assert len(session.calls) == 3


def test_429_waits_at_least_retry_after_but_no_more_than_the_cap() -> None:
    session = ScriptedSession(
        answer(429, headers={"Retry-After": "4"}),
        answer(429, headers={"Retry-After": "999"}),
        answer(200, {"id": "rp-1", "status": "IN_QUEUE"}),
    )
    sleeps: list[float] = []

    client(session, sleeps, retry_after_max_s=30.0).run({}, "h", 1, 1)

    assert sleeps == [4.0, 30.0]


def test_a_read_timeout_on_run_is_not_retried_since_runpod_may_have_queued_the_job() -> None:
    session = ScriptedSession(requests.ReadTimeout("slow"), answer(200, {"id": "rp-2", "status": "IN_QUEUE"}))

    with pytest.raises(RunPodUnavailable):
        client(session).run({}, "h", 1, 1)

    assert len(session.calls) == 1


def test_a_read_timeout_on_status_is_retried() -> None:
    session = ScriptedSession(requests.ReadTimeout("slow"), answer(200, {"id": "rp-1", "status": "IN_PROGRESS"}))

    assert client(session).status("rp-1").status == RunPodState.IN_PROGRESS


@pytest.mark.parametrize(("status", "body", "message"), [
    (400, {"error": "input is required"}, "input is required"),
    (401, None, "Unauthorized"),
    (404, {"error": "endpoint not found"}, "endpoint not found"),
])
def test_permanent_refusals_are_rejected_at_once_with_runpods_message(status: int, body: Any, message: str) -> None:
    response = answer(status, body) if body is not None else answer(status, text=message)
    session = ScriptedSession(response)

    with pytest.raises(RunPodRejected) as rejected:
        client(session).run({}, "h", 1, 1)

    assert (rejected.value.status_code, rejected.value.message) == (status, message)
    assert len(session.calls) == 1


@pytest.mark.parametrize("method", ["status", "cancel"])
def test_404_on_a_job_means_runpod_no_longer_knows_it(method: str) -> None:
    session = ScriptedSession(answer(404, {"error": "request does not exist"}))

    with pytest.raises(RunPodJobNotFound) as missing:
        getattr(client(session), method)("rp-gone")

    assert missing.value.job_id == "rp-gone"


def test_a_body_that_is_not_runpods_is_unavailable() -> None:
    with pytest.raises(RunPodUnavailable):
        client(ScriptedSession(answer(200, text="<html>gateway</html>"))).status("rp-1")
    with pytest.raises(RunPodUnavailable):
        client(ScriptedSession(answer(200, {"unexpected": True}))).status("rp-1")


def test_the_api_key_never_shows_in_logs_errors_or_repr(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    session = ScriptedSession(answer(503), requests.ConnectionError("boom"), answer(401, {"error": "bad key"}))
    rp = client(session)

    with pytest.raises(RunPodRejected) as rejected:
        rp.status("rp-1")

    assert "retry 1/3" in caplog.text
    assert KEY not in caplog.text and KEY not in str(rejected.value) and KEY not in repr(rp)


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError):
        RunPodClient(endpoint_id="ep1", api_key=KEY, max_retries=-1)
