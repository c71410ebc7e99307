"""The edge's limits through the real endpoint wrapper: rate limits and their headers, 413 before
a body is read, 415 for JSON not labelled as JSON."""

import io
import json

import flask
import pytest

from functions.adapters.clerk import InvalidToken, Principal
from functions.adapters.rate_counter import MemoryRateCounter
from functions.core.rate_limits import Rule
from functions.http.endpoint import serve
from functions.http.rate_limits import RateLimiter, rules_from
from functions.settings import Settings

RULES = rules_from(Settings(rate_limit_creates_per_minute=3, rate_limit_reads_per_second=5, rate_limit_anonymous_per_second=4))


class Clock:
    def __init__(self, now: float = 1_764_612_000.5) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def principal_of(token: str) -> Principal:
    if token.startswith("user:"):
        user, _, key = token.removeprefix("user:").partition(":")
        return Principal(user, is_admin=False, key_id=key or None)
    raise InvalidToken("no")


class Edge:
    def __init__(self, counter=None, trusted_proxies: int = 0) -> None:
        self.counter = counter or MemoryRateCounter()
        self.clock = Clock()
        self.limiter = RateLimiter(self.counter, RULES, trusted_proxies=trusted_proxies, clock=self.clock)
        self.handled = 0

    def call(self, function: str, path: str, method: str = "GET", token: str | None = "user:u1", upload_max_bytes=1024,
             **request_args) -> flask.Response:
        headers = {**({"Authorization": f"Bearer {token}"} if token else {}), **request_args.pop("headers", {})}
        request = flask.Request.from_values(path=path, method=method, headers=headers, **request_args)
        return self.serve(request, function, upload_max_bytes)

    def serve(self, request: flask.Request, function: str, upload_max_bytes: int = 1024) -> flask.Response:
        def handler(call):
            self.handled += 1
            if call.request.method == "POST" and call.request.mimetype != "multipart/form-data":
                from functions.http.body import json_object

                return 202, {"echo": json_object(call.request)}
            return 200, {"ok": True}

        return serve(request, function, handler, authenticate=principal_of, allowed_origins=(), limiter=self.limiter,
                     upload_max_bytes=upload_max_bytes)


def create(edge: Edge, token: str = "user:u1", **kwargs) -> flask.Response:
    return edge.call("create_job", "/jobs/create", "POST", token, json={"prompt": "x"}, **kwargs)


def test_past_the_create_limit_the_answer_is_429_with_retry_after():
    edge = Edge()
    answers = [create(edge) for _ in range(4)]
    assert [a.status_code for a in answers] == [202, 202, 202, 429]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert all(a.headers["X-RateLimit-Limit"] == "3" for a in answers)
    limited = answers[-1]
    assert json.loads(limited.get_data())["error"]["code"] == "rate_limited"
    assert limited.headers["Retry-After"] == limited.headers["X-RateLimit-Reset"] == "60"  # the minute's window
    assert edge.handled == 3
    edge.clock.now += 60  # the next window
    assert create(edge).status_code == 202


def test_a_user_and_each_of_its_keys_share_the_users_limit():
    edge = Edge()
    assert [create(edge, token).status_code for token in ("user:u1", "user:u1:key_a", "user:u1:key_b")] == [202] * 3
    assert create(edge, "user:u1:key_c").status_code == 429  # more keys never mean more calls
    assert create(edge, "user:u2").status_code == 202  # another user has a budget of its own


def test_reads_have_their_own_per_second_budget_and_every_answer_carries_the_headers():
    edge = Edge()
    answers = [edge.call("get_credits", "/credits") for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    missing = edge.call("get_job", "/jobs/job_nothing/../x")  # no such path: 404, counted per address
    unauthenticated = edge.call("get_credits", "/credits", token="bogus")
    for answer in (*answers, missing, unauthenticated):
        assert {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} <= set(answer.headers.keys()), answer.status_code


def test_anonymous_callers_are_limited_per_address_and_refusals_count_against_it():
    edge = Edge()
    from_a = dict(environ_base={"REMOTE_ADDR": "203.0.113.7"})
    statuses = [edge.call("list_plans", "/plans", token=None, **from_a).status_code for _ in range(2)]
    statuses += [edge.call("get_credits", "/credits", token="forged", **from_a).status_code for _ in range(3)]
    assert statuses == [200, 200, 401, 401, 429]  # four per second per address, 401s included
    assert edge.call("list_plans", "/plans", token=None, environ_base={"REMOTE_ADDR": "203.0.113.8"}).status_code == 200


def test_behind_trusted_proxies_the_address_is_the_one_they_saw_not_one_the_caller_wrote():
    edge = Edge(trusted_proxies=2)
    spoofed = {"X-Forwarded-For": "1.2.3.4, 198.51.100.9, 10.0.0.1"}  # caller wrote 1.2.3.4; proxies added the rest
    request = flask.Request.from_values(path="/plans", headers=spoofed, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert edge.limiter.client_address(request) == "198.51.100.9"
    assert edge.limiter.client_address(flask.Request.from_values(path="/plans", headers={"X-Forwarded-For": "junk"})) == "unknown"


def test_past_the_limit_an_instance_answers_from_memory_without_writing():
    edge = Edge()
    for _ in range(4):
        create(edge)
    writes = sum(edge.counter.counts.values())
    assert [create(edge).status_code for _ in range(50)] == [429] * 50
    assert sum(edge.counter.counts.values()) == writes  # a flood costs no more writes


def test_unreachable_counters_serve_the_request_unlimited():
    class Down:
        def add(self, increments):
            raise ConnectionError("firestore is down")

    edge = Edge(counter=Down())
    answer = create(edge)
    assert answer.status_code == 202 and "X-RateLimit-Limit" not in answer.headers


def test_a_declared_body_over_the_limit_is_413_without_reading_a_byte():
    class Untouchable(io.RawIOBase):
        def readinto(self, buffer):
            raise AssertionError("the body was read")

    edge = Edge()
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/jobs/create", "CONTENT_TYPE": "application/json",
               "CONTENT_LENGTH": str(50 * 1024 * 1024), "wsgi.input": Untouchable(), "SERVER_NAME": "api",
               "SERVER_PORT": "443", "wsgi.url_scheme": "https", "HTTP_AUTHORIZATION": "Bearer user:u1"}
    answer = edge.serve(flask.Request(environ), "create_job", upload_max_bytes=1024)
    assert answer.status_code == 413 and json.loads(answer.get_data())["error"]["code"] == "body_too_large"
    assert edge.handled == 0


class Counting(io.BytesIO):
    def __init__(self, body: bytes) -> None:
        super().__init__(body)
        self.taken = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.taken += len(chunk)
        return chunk

    def readinto(self, buffer) -> int:
        n = super().readinto(buffer)
        self.taken += n
        return n


def _chunked(body: bytes) -> flask.Request:
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/keys", "CONTENT_TYPE": "application/json",
               "HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True, "wsgi.input": Counting(body),
               "SERVER_NAME": "api", "SERVER_PORT": "443", "wsgi.url_scheme": "https",
               "HTTP_AUTHORIZATION": "Bearer user:u1"}
    return flask.Request(environ)


def test_a_chunked_body_is_cut_off_one_byte_past_the_limit():
    edge = Edge()
    stream_body = b'{"name": "' + b"x" * (64 * 1024) + b'"}'
    request = _chunked(stream_body)
    answer = edge.serve(request, "create_key")
    assert answer.status_code == 413
    assert request.environ["wsgi.input"].taken <= 16 * 1024 + 1  # of a 64 KiB body
    small = edge.serve(_chunked(b'{"name": "ci"}'), "create_key")
    assert (small.status_code, json.loads(small.get_data())) == (202, {"echo": {"name": "ci"}})


@pytest.mark.parametrize(("function", "path", "limit"), [("runpod_webhook", "/webhooks/runpod", 256 * 1024),
                                                         ("truelayer_webhook", "/webhooks/truelayer", 64 * 1024),
                                                         ("get_credits", "/credits", 0)])
def test_webhooks_and_reads_have_body_limits_too(function, path, limit):
    method = "GET" if function == "get_credits" else "POST"
    answer = Edge().call(function, path, method, data=b"x" * (limit + 1), headers={"Content-Type": "application/json"})
    assert answer.status_code == 413


@pytest.mark.parametrize("label", ["text/plain", "application/x-www-form-urlencoded", None])
def test_json_not_labelled_as_json_is_415(label):
    edge = Edge()
    headers = {"Content-Type": label} if label else {}
    answer = edge.call("create_key", "/keys", "POST", data=b'{"name": "x"}', headers=headers)
    assert (answer.status_code, json.loads(answer.get_data())["error"]["code"]) == (415, "unsupported_media_type")


def test_the_rules_follow_the_settings():
    rules = rules_from(Settings(rate_limit_payment_links_per_hour=7))
    assert rules["payment"] == Rule("payment", 7, 3600) and rules["create"].window_s == 60 and rules["read"].window_s == 1
