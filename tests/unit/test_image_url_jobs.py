"""``imageUrl`` at create: fetched once under public_http's rules, stored in inputs/, or a 4xx naming it.

Every fetch here goes to a loopback HTTPS server with a test CA; the public addresses are the
injected resolver's answers, dialled through ``Dialled`` (tests/loopback_http.py).
"""

import json
import socket
import time

import flask
import pytest
import trustme

from functions.adapters.clerk import Principal
from functions.adapters.public_http import PublicHttp
from functions.core.paths import JOBS, user_path
from functions.handlers import create_job
from functions.handlers.submission import generation_input
from functions.http.endpoint import serve
from functions.store import Query
from schemas.documents import JobDoc
from tests.loopback_http import PUBLIC, Answers, Dialled, answer, tls_server, trickle, trusting
from tests.unit.fakes import make_deps
from tests.worker.helpers import image_bytes

USER = "user_images"
PNG = image_bytes(48, 32)


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


def deps_fetching(ca, server, resolver=None):
    """Deps whose public_http is production's (https, public addresses only), dialling ``server``."""
    dialled = Dialled(server)
    http = PublicHttp(resolver=resolver or Answers([PUBLIC]), connector=dialled, tls=trusting(ca))
    return make_deps({"public_http": http}, image_fetch_timeout_s=0.5), dialled


def create(deps, body: dict) -> tuple[int, dict]:
    request = flask.Request.from_values(path="/jobs/create", method="POST", headers={"Authorization": "Bearer t"},
                                        data=json.dumps(body), content_type="application/json")
    response = serve(request, "create_job", lambda c: create_job.create_job(c, deps),
                     authenticate=lambda token: Principal(USER, False), allowed_origins=())
    return response.status_code, json.loads(response.get_data())


def assert_nothing_written(deps) -> None:
    assert list(deps.store.query(Query(JOBS))) == []
    assert deps.storage.objects == {} and deps.publisher.events == []
    assert deps.store.get(user_path(USER)) is None  # no user document: nothing reserved, nothing charged


def test_an_image_url_is_fetched_at_create_and_the_worker_gets_only_our_bucket_key(ca):
    with tls_server(ca, answer(200, PNG, {"Content-Type": "image/png"})) as server:
        deps, dialled = deps_fetching(ca, server)

        status, body = create(deps, {"prompt": "a kite", "durationSec": 5, "imageUrl": f"https://images.example:{server.port}/k.png"})

    assert status == 202, body
    [(_, data)] = deps.store.query(Query(JOBS))
    job = JobDoc.from_document(data)
    assert job.image.r2_key == f"inputs/{job.job_id}.png" and deps.storage.objects[job.image.r2_key] == PNG
    assert generation_input(job).to_wire()["image"] == {"r2Key": job.image.r2_key}
    assert dialled.addresses == [PUBLIC]


def test_a_retried_create_with_the_same_idempotency_key_does_not_fetch_again(ca):
    with tls_server(ca, answer(200, PNG)) as server:
        deps, dialled = deps_fetching(ca, server)
        body = {"prompt": "a kite", "durationSec": 5, "imageUrl": f"https://images.example:{server.port}/k.png"}
        request = lambda: flask.Request.from_values(  # noqa: E731
            path="/jobs/create", method="POST", data=json.dumps(body), content_type="application/json",
            headers={"Authorization": "Bearer t", "Idempotency-Key": "k-1"})
        answers = [serve(request(), "create_job", lambda c: create_job.create_job(c, deps),
                         authenticate=lambda token: Principal(USER, False), allowed_origins=()) for _ in range(2)]

    assert [a.status_code for a in answers] == [202, 202]
    assert answers[0].get_json()["jobId"] == answers[1].get_json()["jobId"]
    assert len(server.requests) == 1


def _refused(deps, url: str, status: int, code: str, message: str, within_s: float = 2.0) -> None:
    started = time.monotonic()
    answer_status, body = create(deps, {"prompt": "a kite", "durationSec": 5, "imageUrl": url})
    assert time.monotonic() - started < within_s
    assert answer_status == status, body
    assert (body["error"]["code"], body["error"]["field"]) == (code, "imageUrl")
    assert message in body["error"]["message"]
    assert_nothing_written(deps)


def test_an_answer_that_would_change_between_check_and_connect_is_looked_up_once(ca):
    # A rebinding resolver: the private second answer is never asked for, so it cannot be dialled.
    resolver = Answers([PUBLIC], ["169.254.169.254"])
    with tls_server(ca, answer(200, PNG)) as server:
        deps, dialled = deps_fetching(ca, server, resolver)
        status, _ = create(deps, {"prompt": "a kite", "durationSec": 5, "imageUrl": f"https://rebind.example:{server.port}/"})

    assert (status, resolver.calls, dialled.addresses) == (202, 1, [PUBLIC])


def test_a_host_resolving_to_a_private_address_is_refused_before_anything_is_written(ca):
    with tls_server(ca) as server:
        deps, dialled = deps_fetching(ca, server, Answers(["10.0.0.5"]))
        _refused(deps, "https://images.example/a.png", 422, "image_url_refused", "non-public")
    assert dialled.addresses == []


def test_a_redirect_to_a_private_address_is_refused_and_not_followed(ca):
    with tls_server(ca, answer(302, headers={"Location": "https://10.0.0.1/internal.png"})) as server:
        deps, dialled = deps_fetching(ca, server)
        _refused(deps, f"https://redirect.example:{server.port}/a.png", 422, "image_url_unreachable", "redirects are not followed")
    assert dialled.addresses == [PUBLIC] and len(server.requests) == 1


def test_a_host_that_does_not_resolve_is_refused(ca):
    with tls_server(ca) as server:
        deps, dialled = deps_fetching(ca, server, Answers(socket.gaierror(socket.EAI_NONAME, "unknown")))
        _refused(deps, "https://nowhere.example/a.png", 422, "image_url_unreachable", "could not be resolved")
    assert dialled.addresses == []


def test_a_server_that_trickles_bytes_is_cut_off_at_the_fetch_deadline(ca):
    with tls_server(ca, trickle(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + PNG, every_s=0.02)) as server:
        deps, _ = deps_fetching(ca, server)  # IMAGE_FETCH_TIMEOUT_S = 0.5
        _refused(deps, f"https://images.example:{server.port}/slow.png", 422, "image_url_unreachable", "within 0.5 s", within_s=1.5)


@pytest.mark.parametrize(("served", "status", "code"), [
    (answer(200, b"<html>not an image</html>", {"Content-Type": "image/png"}), 415, "unsupported_image_type"),
    (answer(200, PNG[:40]), 422, "invalid_image"),
    (answer(404), 422, "image_url_unreachable"),
    (answer(200, b"\x89PNG\r\n\x1a\n" + bytes(11 * 1024 * 1024)), 413, "image_too_large"),
], ids=["not-an-image", "truncated-png", "404", "over-10-mb"])
def test_what_the_url_serves_passes_the_same_checks_as_an_upload(ca, served, status, code):
    with tls_server(ca, served) as server:
        deps, _ = deps_fetching(ca, server)
        _refused(deps, f"https://images.example:{server.port}/a.png", status, code, "imageUrl")


@pytest.mark.parametrize("url", ["http://images.example/a.png", "https://user:secret@images.example/a.png"])
def test_urls_no_fetch_may_go_to_are_refused_without_a_lookup(ca, url):
    resolver = Answers([PUBLIC])
    with tls_server(ca) as server:
        deps, _ = deps_fetching(ca, server, resolver)
        _refused(deps, url, 422, "image_url_refused", "imageUrl is refused")
    assert resolver.calls == 0
