"""Rate limits and body limits through HTTP on the local stack."""

import socket
import time
from urllib.parse import urlsplit

import requests

from tests.conftest import TEST_FUNCTION_ENV

CREATES_PER_MINUTE = int(TEST_FUNCTION_ENV["RATE_LIMIT_CREATES_PER_MINUTE"])
RATE_HEADERS = {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"}


def test_past_the_create_limit_the_api_answers_429_with_retry_after(make_user):
    user = make_user()
    answers = []
    # A fixed window may turn over once while this runs: two windows' worth is the most that passes.
    for n in range(2 * CREATES_PER_MINUTE + 1):
        answer = user.client.request("POST", "/jobs/create", json={"prompt": f"clip {n}", "durationSec": 5})
        answers.append(answer)
        if answer.status_code == 429 and answer.json()["error"]["code"] == "rate_limited":
            break
    limited = answers[-1]
    assert limited.json()["error"]["code"] == "rate_limited", [a.status_code for a in answers]
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.headers["X-RateLimit-Limit"] == str(CREATES_PER_MINUTE) and limited.headers["X-RateLimit-Remaining"] == "0"
    assert all(RATE_HEADERS <= set(a.headers.keys()) for a in answers)
    assert user.client.request("GET", "/credits").status_code == 200  # reads keep their own budget


def test_every_answer_carries_the_rate_limit_headers(make_user, stack):
    user = make_user()
    answers = [
        user.client.request("GET", "/credits"),
        user.client.request("GET", "/jobs/job_0000000000000000000000000000"),  # 404
        requests.get(f"{stack.base_url}/credits", timeout=10),  # 401
        requests.get(f"{stack.base_url}/plans", timeout=10),  # public
        user.client.request("POST", "/jobs/create", data='{"prompt": "x", "durationSec": 5}',
                            headers={"Content-Type": "text/plain"}),  # 415
    ]
    assert [a.status_code for a in answers] == [200, 404, 401, 200, 415]
    for answer in answers:
        assert RATE_HEADERS <= set(answer.headers.keys()), (answer.status_code, dict(answer.headers))


def test_an_oversized_body_gets_413_without_the_server_reading_it_whole(make_user, stack):
    """Declares 200 MB, sends 1 KB: the answer comes back while the server still waits for the rest."""
    user = make_user()
    url = urlsplit(stack.base_url)
    with socket.create_connection((url.hostname, url.port), timeout=10) as conn:
        conn.sendall((f"POST /jobs/create HTTP/1.1\r\nHost: {url.netloc}\r\nAuthorization: Bearer {user.client.token}\r\n"
                      f"Content-Type: application/json\r\nContent-Length: {200 * 1024 * 1024}\r\n\r\n").encode() + b"{" * 1024)
        started = time.monotonic()
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = conn.recv(4096)
            assert chunk, "the server closed without an answer"
            head += chunk
    assert head.startswith(b"HTTP/1.1 413"), head[:200]
    assert time.monotonic() - started < 5
    assert b"x-ratelimit-limit" in head.lower()
