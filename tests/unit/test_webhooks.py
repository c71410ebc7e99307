"""Webhook delivery on the in-memory store, with a fake receiver behind our own outbound port."""

import json
import threading
from datetime import UTC, datetime

import flask
import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from functions.adapters.clerk import Principal
from functions.adapters.public_http import AddressRefused, DeadlineExceeded, PublicHttp, Response
from functions.core import jobs
from functions.core.paths import delivery_path, job_path, user_path
from functions.handlers import deliveries, webhooks_api
from functions.handlers.create_job import create_job
from functions.http.endpoint import serve
from functions.store import Decision
from schemas.documents import JobDoc, StatusChange, UserDoc
from schemas.events import JobStatusChanged
from schemas.jobs import JobStatus
from schemas.webhooks import WebhooksClockTicked
from tests.unit.fakes import created_job, make_deps, walk

USER = "user_hooks"
RECEIVER = "https://hooks.example.com/cineweave"


class FakeReceiver:
    """Our outbound port: records each POST and answers from a script (a status, or an error to raise)."""

    def __init__(self) -> None:
        self.script: list = []
        self.posts: list[dict] = []
        self.checked: list[str] = []
        self.lock = threading.Lock()

    def check(self, url: str, *, timeout_s: float) -> None:
        self.checked.append(url)

    def post(self, url: str, body: bytes, *, timeout_s: float, headers: dict) -> Response:
        with self.lock:
            self.posts.append({"url": url, "body": body.decode(), "headers": headers})
            answer = self.script.pop(0) if self.script else 200
        if isinstance(answer, Exception):
            raise answer
        return Response(answer, {}, b"")


@pytest.fixture
def deps():
    d = make_deps(webhook_retry_schedule_s=(5.0, 300.0), republish_after_s=60)
    d.__dict__["public_http"] = FakeReceiver()
    d.store.decide([user_path(USER)], lambda docs: Decision([jobs.put(user_path(USER), UserDoc(user_id=USER, balance=10, created_at=d.now()))]))
    return d


def call(deps, handler, method: str, path: str, body: dict | None = None, params: dict | None = None, function: str = "x"):
    request = flask.Request.from_values(path=path, method=method, json=body, headers={"Authorization": "Bearer t"})
    from functions.http import endpoint

    route = endpoint.route_for(function)
    response = serve(request, route.function, lambda c: handler(c, deps), authenticate=lambda _: Principal(USER, False), allowed_origins=())
    return response.status_code, json.loads(response.get_data())


def register(deps, events=None) -> dict:
    body = {"url": RECEIVER, **({"events": events} if events else {})}
    status, created = call(deps, webhooks_api.create_endpoint, "POST", "/webhooks/endpoints", body, function="create_webhook_endpoint")
    assert status == 201, created
    return created


def make_job(deps, job_id="job_1", **extra) -> JobDoc:
    return created_job(deps, USER, job_id, **extra)


def move(deps, job_id: str, *statuses: JobStatus) -> None:
    """Walk the job through ``statuses`` and announce each step, as the pipeline does."""
    walk(deps, job_id, *statuses, after=lambda status: deliveries.deliver_webhooks(
        JobStatusChanged(job_id=job_id, status=status, occurred_at=deps.now()), deps))


def make_job_doc(deps, job_id: str) -> JobDoc:
    return JobDoc.from_document(deps.store.get(job_path(job_id)))


def verified(post: dict, secret: str) -> dict:
    """The body, if one of the signatures is ``secret``'s (the fake clock is days off the verifier's
    five-minute window, so the signature is checked, not the freshness)."""
    headers = post["headers"]
    sent_at = datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC)
    expected = Webhook(secret).sign(headers["webhook-id"], sent_at, post["body"])
    if expected not in headers["webhook-signature"].split(" "):
        raise WebhookVerificationError("no matching signature")
    return json.loads(post["body"])


def test_a_registered_endpoint_gets_each_event_signed_per_standard_webhooks(deps):
    secret = register(deps)["secret"]
    assert secret.startswith("whsec_")
    make_job(deps)
    move(deps, "job_1", JobStatus.RESERVED, JobStatus.QUEUED, JobStatus.RUNNING)
    posts = deps.public_http.posts
    assert [verified(p, secret)["status"] for p in posts] == ["queued", "running"]
    assert all(p["headers"]["webhook-id"].startswith("msg_") for p in posts)
    assert len({p["headers"]["webhook-id"] for p in posts}) == 2
    with pytest.raises(WebhookVerificationError):
        verified({**posts[0], "body": posts[0]["body"].replace("queued", "running")}, secret)


def test_a_job_webhook_url_is_signed_with_the_default_secret_and_filtered(deps):
    make_job(deps, webhook_url=RECEIVER, webhook_events=("job.succeeded", "job.failed"))
    move(deps, "job_1", JobStatus.RESERVED, JobStatus.QUEUED, JobStatus.RUNNING)
    assert deps.public_http.posts == []
    move(deps, "job_1", JobStatus.CANCELED)  # canceled is not in the filter
    assert deps.public_http.posts == []
    make_job(deps, "job_2", webhook_url=RECEIVER, webhook_events=("job.failed",))
    deps.store.decide(jobs.reserve_paths(make_job_doc(deps, "job_2"), deps.now()), lambda docs: jobs.decide_reserve(docs, "job_2", deps.now()))
    move(deps, "job_2", JobStatus.FAILED)
    status, body = call(deps, webhooks_api.get_secret, "GET", "/webhooks/secret", function="get_webhook_secret")
    (post,) = deps.public_http.posts
    assert verified(post, body["secret"])["status"] == "failed"


def test_a_retry_after_a_500_carries_the_same_id_and_body_and_waits_for_the_schedule(deps):
    secret = register(deps, events=["job.queued"])["secret"]
    make_job(deps)
    deps.public_http.script = [500, 200]
    move(deps, "job_1", JobStatus.RESERVED, JobStatus.QUEUED)
    (first,) = deps.public_http.posts
    deliveries.retry_webhooks(WebhooksClockTicked(), deps)
    assert len(deps.public_http.posts) == 1, "the retry waits for its turn (5 s)"
    deps.now.advance(seconds=5)
    deliveries.retry_webhooks(WebhooksClockTicked(), deps)
    first_retry = deps.public_http.posts[1]
    assert first_retry["headers"]["webhook-id"] == first["headers"]["webhook-id"]
    assert first_retry["body"] == first["body"]
    assert verified(first_retry, secret)["status"] == "queued"
    status, listed = call(deps, webhooks_api.list_deliveries, "GET", "/webhooks/deliveries", function="list_webhook_deliveries")
    (delivery,) = listed["deliveries"]
    assert delivery["status"] == "succeeded" and [a["statusCode"] for a in delivery["attempts"]] == [500, 200]
    assert delivery["id"] == first["headers"]["webhook-id"]


def test_timeouts_retry_until_the_schedule_ends_then_the_delivery_is_dead_lettered(deps):
    register(deps, events=["job.queued"])
    make_job(deps)
    deps.public_http.script = [DeadlineExceeded("no answer"), 503, 429]
    move(deps, "job_1", JobStatus.RESERVED, JobStatus.QUEUED)
    for wait_s in (5, 300):
        deps.now.advance(seconds=wait_s)
        deliveries.retry_webhooks(WebhooksClockTicked(), deps)
    deps.now.advance(days=2)
    deliveries.retry_webhooks(WebhooksClockTicked(), deps)
    _, listed = call(deps, webhooks_api.list_deliveries, "GET", "/webhooks/deliveries", function="list_webhook_deliveries")
    (delivery,) = listed["deliveries"]
    assert delivery["status"] == "failed" and len(delivery["attempts"]) == 3
    assert delivery["attempts"][0]["error"].startswith("DeadlineExceeded")
    assert [a.get("statusCode") for a in delivery["attempts"]] == [None, 503, 429]


def test_a_refusal_that_will_not_change_is_not_retried(deps):
    register(deps, events=["job.queued", "job.running"])
    make_job(deps)
    deps.public_http.script = [404, AddressRefused("now resolves to 10.0.0.1")]
    move(deps, "job_1", JobStatus.RESERVED, JobStatus.QUEUED, JobStatus.RUNNING)
    deps.now.advance(days=2)
    deliveries.retry_webhooks(WebhooksClockTicked(), deps)
    _, listed = call(deps, webhooks_api.list_deliveries, "GET", "/webhooks/deliveries", function="list_webhook_deliveries")
    assert [d["status"] for d in listed["deliveries"]] == ["failed", "failed"]
    assert len(deps.public_http.posts) == 2


def test_a_manual_redelivery_sends_the_same_message_again(deps):
    secret = register(deps, events=["job.queued"])["secret"]
    make_job(deps)
    deps.public_http.script = [400]
    move(deps, "job_1", JobStatus.RESERVED, JobStatus.QUEUED)
    webhook_id = deps.public_http.posts[0]["headers"]["webhook-id"]
    status, body = call(deps, webhooks_api.redeliver, "POST", f"/webhooks/deliveries/{webhook_id}/redeliver",
                        function="redeliver_webhook")
    assert status == 202 and body["status"] == "pending"
    (announced,) = [e for e in deps.publisher.events if isinstance(e, JobStatusChanged)]
    deliveries.deliver_webhooks(announced, deps)
    again = deps.public_http.posts[1]
    assert again["headers"]["webhook-id"] == webhook_id and verified(again, secret)["status"] == "queued"
    other = call(deps, webhooks_api.redeliver, "POST", "/webhooks/deliveries/msg_0000/redeliver", function="redeliver_webhook")
    assert other[0] == 404


def test_an_announcement_lost_after_the_commit_is_found_by_the_tick(deps):
    register(deps, events=["job.queued"])
    make_job(deps)
    deps.store.decide(jobs.reserve_paths(make_job_doc(deps, "job_1"), deps.now()), lambda docs: jobs.decide_reserve(docs, "job_1", deps.now()))
    deps.store.decide([job_path("job_1")], lambda docs: jobs.decide_move(docs, "job_1", JobStatus.QUEUED, deps.now()))
    deliveries.retry_webhooks(WebhooksClockTicked(), deps)  # too soon: the announcement may still come
    assert deps.public_http.posts == []
    deps.now.advance(seconds=61)
    deliveries.retry_webhooks(WebhooksClockTicked(), deps)
    assert len(deps.public_http.posts) == 1
    assert make_job_doc(deps, "job_1").webhooks_pending is False
    deliveries.retry_webhooks(WebhooksClockTicked(), deps)
    assert len(deps.public_http.posts) == 1


def test_the_same_announcement_twice_at_once_sends_once(deps):
    register(deps, events=["job.queued"])
    make_job(deps)
    deps.store.decide(jobs.reserve_paths(make_job_doc(deps, "job_1"), deps.now()), lambda docs: jobs.decide_reserve(docs, "job_1", deps.now()))
    deps.store.decide([job_path("job_1")], lambda docs: jobs.decide_move(docs, "job_1", JobStatus.QUEUED, deps.now()))
    event = JobStatusChanged(job_id="job_1", status=JobStatus.QUEUED, occurred_at=deps.now())
    threads = [threading.Thread(target=deliveries.deliver_webhooks, args=(event, deps)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(deps.public_http.posts) == 1


def test_a_rotated_secret_and_the_previous_one_both_verify_until_the_overlap_ends(deps):
    created = register(deps, events=["job.queued", "job.running"])
    status, rotated = call(deps, webhooks_api.rotate_secret, "POST", f"/webhooks/endpoints/{created['id']}/rotate",
                           {"overlapSeconds": 3600}, function="rotate_webhook_secret")
    assert status == 200 and rotated["secret"] != created["secret"] and rotated["previousSecretExpiresAt"]
    make_job(deps)
    move(deps, "job_1", JobStatus.RESERVED, JobStatus.QUEUED)
    assert verified(deps.public_http.posts[0], created["secret"]) and verified(deps.public_http.posts[0], rotated["secret"])
    deps.now.advance(seconds=3601)
    move(deps, "job_1", JobStatus.RUNNING)
    assert verified(deps.public_http.posts[1], rotated["secret"])
    with pytest.raises(WebhookVerificationError):
        verified(deps.public_http.posts[1], created["secret"])


def test_endpoints_are_listed_without_secrets_and_deleted(deps):
    created = register(deps)
    _, listed = call(deps, webhooks_api.list_endpoints, "GET", "/webhooks/endpoints", function="list_webhook_endpoints")
    assert [e["id"] for e in listed["endpoints"]] == [created["id"]] and "secret" not in listed["endpoints"][0]
    stored = json.dumps(deps.store.query(__import__("functions.store", fromlist=["Query"]).Query("webhook_endpoints")), default=str)
    assert created["secret"] not in stored, "secrets are sealed at rest"
    status, _ = call(deps, webhooks_api.delete_endpoint, "DELETE", f"/webhooks/endpoints/{created['id']}", function="delete_webhook_endpoint")
    assert status == 200
    _, listed = call(deps, webhooks_api.list_endpoints, "GET", "/webhooks/endpoints", function="list_webhook_endpoints")
    assert listed["endpoints"] == []


def private_resolver(host: str, port: int) -> list[str]:
    return {"hooks.example.com": ["93.184.215.14"], "internal.example.com": ["10.1.2.3"],
            "sneaky.example.com": ["93.184.215.14", "169.254.169.254"]}[host]


def never_connect(address: str, port: int, timeout_s: float):
    raise AssertionError(f"nothing may be sent: tried {address}:{port}")


@pytest.mark.parametrize("url", ["https://internal.example.com/hook", "https://sneaky.example.com/hook",
                                 "http://hooks.example.com/hook", "https://user:pw@hooks.example.com/hook",
                                 "https://127.0.0.1/hook", "ftp://hooks.example.com/x"])
def test_a_receiver_that_is_not_a_public_https_host_is_refused_at_registration_and_never_contacted(deps, url):
    deps.__dict__["public_http"] = PublicHttp(resolver=private_resolver, connector=never_connect)
    request = {"url": url}
    status, body = call(deps, webhooks_api.create_endpoint, "POST", "/webhooks/endpoints", request, function="create_webhook_endpoint")
    assert status == 422 and body["error"]["code"] == "webhook_url_refused" and body["error"]["field"] == "url"
    status, body = call(deps, create_job, "POST", "/jobs/create", {"prompt": "a kite", "durationSec": 5, "webhookUrl": url},
                        function="create_job")
    assert status == 422 and body["error"]["field"] == "webhookUrl"
    assert deps.store.query(__import__("functions.store", fromlist=["Query"]).Query("jobs")) == []


def test_a_public_receiver_is_accepted(deps):
    deps.__dict__["public_http"] = PublicHttp(resolver=private_resolver, connector=never_connect)
    status, body = call(deps, webhooks_api.create_endpoint, "POST", "/webhooks/endpoints", {"url": RECEIVER},
                        function="create_webhook_endpoint")
    assert status == 201, body


def test_a_deleted_endpoint_gives_up_its_pending_deliveries(deps):
    created = register(deps, events=["job.queued"])
    make_job(deps)
    deps.public_http.script = [500]
    move(deps, "job_1", JobStatus.RESERVED, JobStatus.QUEUED)
    call(deps, webhooks_api.delete_endpoint, "DELETE", f"/webhooks/endpoints/{created['id']}", function="delete_webhook_endpoint")
    deps.now.advance(seconds=5)
    deliveries.retry_webhooks(WebhooksClockTicked(), deps)
    webhook_id = deps.public_http.posts[0]["headers"]["webhook-id"]
    assert deps.store.get(delivery_path(webhook_id))["status"] == "failed"
    assert len(deps.public_http.posts) == 1
