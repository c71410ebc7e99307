"""The stand-in's HTTP faces in process (Flask test client): auth, validation, the SDK's wire format."""

import json
import time
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient
from runpod_stack import wait_until

from devstack.runpod_standin.app import create_app
from devstack.runpod_standin.config import StandInConfig
from devstack.runpod_standin.faults import DeliveryPlan
from devstack.runpod_standin.service import StandIn
from devstack.runpod_standin.webhooks import DeliveryLog, DeliveryPolicy, WebhookSender

CONFIG = StandInConfig(endpoint_id="ep", api_key="client-key", worker_key="worker-key", poll_hold_s=0.05)
CLIENT_AUTH = {"Authorization": "Bearer client-key"}
WORKER_AUTH = {"Authorization": "worker-key"}
# What the runpod SDK sends to job-done: JSON labelled as a form (runpod/serverless/modules/rp_http.py).
SDK_POST = {**WORKER_AUTH, "Content-Type": "application/x-www-form-urlencoded", "charset": "utf-8"}


class RecordingSender(WebhookSender):
    def __init__(self) -> None:
        super().__init__(DeliveryPolicy(), DeliveryLog(time.time))
        self.sent: list[tuple[str, str, dict[str, Any], DeliveryPlan]] = []

    def send(self, job_id: str, url: str, body: dict[str, Any], plan: DeliveryPlan) -> None:
        self.sent.append((job_id, url, body, plan))


@pytest.fixture
def sender() -> RecordingSender:
    return RecordingSender()


@pytest.fixture
def http(sender: RecordingSender) -> FlaskClient:
    return create_app(StandIn(CONFIG, sender=sender)).test_client()


def run(http: FlaskClient, body: dict[str, Any] | None = None) -> str:
    body = body or {"input": {"prompt": "p"}, "webhook": "http://hook"}
    response = http.post("/v2/ep/run", json=body, headers=CLIENT_AUTH)
    assert response.status_code == 200, response.json
    assert response.json["status"] == "IN_QUEUE"
    return response.json["id"]


def take(http: FlaskClient, worker: str = "w1") -> Any:
    return http.get(f"/v2/ep/job-take/{worker}?gpu=H100&job_in_progress=0", headers=WORKER_AUTH)


def done(http: FlaskClient, job_id: str, body: dict[str, Any], worker: str = "w1") -> Any:
    return http.post(f"/v2/ep/job-done/{worker}/{job_id}?gpu=H100&isStream=false",
                     data=json.dumps(body), headers={**SDK_POST, "X-Request-ID": job_id})


@pytest.mark.parametrize("headers", [{}, {"Authorization": "client-key"}, {"Authorization": "Bearer nope"}])
def test_the_client_api_wants_the_bearer_key(http: FlaskClient, headers: dict[str, str]) -> None:
    for response in (http.post("/v2/ep/run", json={"input": {}}, headers=headers),
                     http.get("/v2/ep/status/x", headers=headers), http.get("/v2/ep/health", headers=headers)):
        assert response.status_code == 401


def test_the_worker_api_wants_the_raw_worker_key(http: FlaskClient) -> None:
    assert http.get("/v2/ep/job-take/w1?job_in_progress=0", headers=CLIENT_AUTH).status_code == 401
    assert http.get("/v2/ep/ping/w1", headers={"Authorization": "Bearer worker-key"}).status_code == 401
    assert http.get("/v2/ep/ping/w1", headers=WORKER_AUTH).status_code == 200


def test_another_endpoint_id_is_not_found(http: FlaskClient) -> None:
    assert http.get("/v2/other/health", headers=CLIENT_AUTH).status_code == 404


@pytest.mark.parametrize(("body", "fragment"), [
    ({"webhook": "http://hook"}, "input"),
    ({"input": {}, "policy": {"executionTimeout": 4999}}, "executionTimeout must be >= 5000"),
    ({"input": {}, "policy": {"ttl": 9999}}, "ttl must be >= 10000"),
])
def test_run_refuses_what_runpod_refuses(http: FlaskClient, body: dict[str, Any], fragment: str) -> None:
    response = http.post("/v2/ep/run", json=body, headers=CLIENT_AUTH)

    assert response.status_code == 400 and fragment in response.json["error"]


def test_the_sdk_job_protocol_from_take_to_done(http: FlaskClient, sender: RecordingSender) -> None:
    job_id = run(http)

    taken = take(http)
    assert taken.status_code == 200 and taken.content_type == "application/json"
    assert taken.json == {"id": job_id, "input": {"prompt": "p"}}
    assert take(http, "w2").status_code == 204

    assert done(http, job_id, {"status": "IN_PROGRESS", "output": {"percent": 40}}).status_code == 200
    assert http.get(f"/v2/ep/status/{job_id}", headers=CLIENT_AUTH).json["output"] == {"percent": 40}
    assert sender.sent == []

    assert done(http, job_id, {"output": {"r2Key": "k"}}).status_code == 200
    status = http.get(f"/v2/ep/status/{job_id}", headers=CLIENT_AUTH).json
    assert (status["status"], status["output"]) == ("COMPLETED", {"r2Key": "k"})
    [(sent_id, url, body, plan)] = sender.sent
    assert (sent_id, url, plan) == (job_id, "http://hook", DeliveryPlan())
    assert body == {**status, "input": {"prompt": "p"}}


def test_job_done_for_an_unknown_job_is_not_found(http: FlaskClient) -> None:
    assert done(http, "nope", {"output": 1}).status_code == 404


def test_a_batch_take_hands_out_up_to_batch_size(http: FlaskClient) -> None:
    ids = [run(http) for _ in range(3)]

    response = http.get("/v2/ep/job-take-batch/w1?gpu=H100&batch_size=2&job_in_progress=0", headers=WORKER_AUTH)

    assert [job["id"] for job in response.json] == ids[:2]


def test_cancelling_a_running_job_puts_it_on_its_workers_stop_channel(http: FlaskClient) -> None:
    job_id = run(http)
    take(http)
    assert http.get("/v2/ep/job-stop/w1?gpu=H100", headers=WORKER_AUTH).status_code == 204

    assert http.post(f"/v2/ep/cancel/{job_id}", headers=CLIENT_AUTH).json["status"] == "CANCELLED"

    stop = http.get("/v2/ep/job-stop/w1?gpu=H100", headers=WORKER_AUTH)
    assert stop.json == {"jobsToStop": [job_id]}
    # A stop the SDK missed comes again while the worker still reports on the job.
    done(http, job_id, {"status": "IN_PROGRESS", "output": {}})
    assert http.get("/v2/ep/job-stop/w1?gpu=H100", headers=WORKER_AUTH).json == {"jobsToStop": [job_id]}


def test_an_injected_429_carries_retry_after(http: FlaskClient) -> None:
    http.post("/_control/run-errors", json={"status": 429, "retryAfterS": 2})

    response = http.post("/v2/ep/run", json={"input": {}}, headers=CLIENT_AUTH)

    assert response.status_code == 429 and response.headers["Retry-After"] == "2"
    assert http.get("/_control/runs").json[0]["statusCode"] == 429


def test_controls_validate_their_bodies(http: FlaskClient) -> None:
    assert http.post("/_control/webhooks/delay", json={}).status_code == 400
    assert http.post("/_control/run-errors", json={"status": 200}).status_code == 400
    assert http.post("/_control/jobs/lose", json={"jobId": "nope"}).status_code == 404


def test_health_counts_workers_seen_recently(http: FlaskClient) -> None:
    run(http)
    take(http, "w1")
    http.get("/v2/ep/ping/w2?job_id=&runpod_version=1.12.0", headers=WORKER_AUTH)

    health = http.get("/v2/ep/health", headers=CLIENT_AUTH).json

    assert health["jobs"]["inProgress"] == 1
    assert (health["workers"]["running"], health["workers"]["idle"]) == (1, 1)


def test_the_sender_retries_a_connection_error_then_gives_up() -> None:
    attempts: list[str] = []
    sleeps: list[float] = []

    def refuse(url: str, **_: Any) -> requests.Response:
        attempts.append(url)
        raise requests.ConnectionError("refused")

    log = DeliveryLog(time.time)
    sender = WebhookSender(DeliveryPolicy(retries=2, retry_delay_s=10.0), log, post=refuse, sleep=sleeps.append)

    sender.send("j1", "http://hook", {"id": "j1"}, DeliveryPlan(delay_s=3.0))

    wait_until(lambda: [e for e in log.entries() if e["outcome"] == "gave-up"])
    assert len(attempts) == 3 and sleeps == [3.0, 10.0, 10.0]
    assert all("ConnectionError" in e["error"] for e in log.entries() if e["outcome"] == "failed")
