"""Security checks on the local stack: authorization on every route of the routing table, presigned
URLs that expire when they should, uploads that lie about their type, and no secret anywhere
(logs, job documents, RunPod inputs) after the traffic the suite has sent."""

import io
import re
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from PIL import Image

from cli.api import TERMINAL
from devstack.soak import scan_for_secrets
from functions.core.paths import JOBS
from functions.http.routes import ROUTES
from functions.store import Query
from schemas.events import ClockTicked
from tests.helpers import assert_ledger_balanced, wait_until

pytestmark = pytest.mark.e2e

USER_ROUTES_WITH_IDS = [r for r in ROUTES if r.auth == "user" and r.pattern.groupindex]
ADMIN_ROUTES = [r for r in ROUTES if r.auth == "admin"]
PRIVATE_ROUTES = [r for r in ROUTES if r.auth != "public"]


def _call(stack, route, token: str | None, **params: str) -> requests.Response:
    path = re.sub(r"\{(\w+)\}", lambda m: params.get(m[1], "job_doesnotexist"), route.path)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = {"json": {}} if route.method == "POST" else {}
    return requests.request(route.method, stack.base_url + path, headers=headers, timeout=30, **body)


def _done(user, job_id: str) -> dict:
    return wait_until(lambda: (j := user.client.job(job_id))["status"] in TERMINAL and j, what=f"job {job_id} to end")


@pytest.mark.parametrize("route", USER_ROUTES_WITH_IDS, ids=lambda r: f"{r.method} {r.path}")
def test_another_users_job_is_a_404_on_every_user_scoped_path(stack, make_user, store, route):
    owner, stranger = make_user(credits=1), make_user(credits=1)
    job_id = owner.client.create_job("mine, not yours [slow:2]", 5)["jobId"]
    answer = _call(stack, route, stranger.client.token, jobId=job_id)
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found", answer.text
    missing = _call(stack, route, stranger.client.token, jobId="job_0000000000000000000000000000")
    assert answer.text.replace(job_id, "ID") == missing.text.replace("job_0000000000000000000000000000", "ID")  # indistinguishable
    assert _done(owner, job_id)["status"] == "done"  # the stranger's cancel changed nothing
    assert all(j["jobId"] != job_id for j in stranger.client.jobs()["jobs"])
    assert stranger.client.credits()["balance"] == 1 and owner.client.credits()["balance"] == 0
    assert_ledger_balanced(store, owner.user_id)


@pytest.mark.parametrize("route", ADMIN_ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_admin_paths_are_403_for_a_user(stack, make_user, route):
    answer = _call(stack, route, make_user().client.token)
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "forbidden", answer.text


@pytest.mark.parametrize("route", PRIVATE_ROUTES, ids=lambda r: f"{r.method} {r.path}")
@pytest.mark.parametrize("token", [None, "not-a-jwt", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1c2VyX3gifQ."], ids=["none", "garbage", "alg-none"])
def test_every_private_path_is_401_without_a_valid_token(stack, route, token):
    answer = _call(stack, route, token)
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "unauthorized", answer.text


def test_a_videos_presigned_url_expires_with_the_video(make_user, publisher):
    user = make_user(credits=1)
    job = _done(user, user.client.create_job("a short-lived video", 5)["jobId"])
    video = job["video"]
    expires_at = datetime.fromisoformat(video["urlExpiresAt"])
    assert expires_at <= datetime.fromisoformat(job["expiresAt"])  # never outlives the video (VIDEO_TTL_HOURS)
    query = parse_qs(urlsplit(video["url"]).query)
    signed_at = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    lifetime = int(query["X-Amz-Expires"][0])
    assert 0 < lifetime <= 11  # the test stack's videos live 10.8 s: the signature says so too
    assert abs((signed_at + timedelta(seconds=lifetime) - expires_at).total_seconds()) <= 2
    assert requests.get(video["url"], timeout=10).status_code == 200
    # R2 refuses a presigned URL past X-Amz-Expires; moto does not check, so locally what stops the
    # URL is the expiry itself: the clock tick expires the job and deletes its video.
    def expired():
        publisher.publish(ClockTicked())
        return user.client.job(job["jobId"])["status"] == "expired"

    wait_until(expired, timeout_s=30, interval_s=0.5, what="the video to expire")
    assert time.time() >= expires_at.timestamp() - 2
    assert requests.get(video["url"], timeout=10).status_code in (403, 404)
    assert "video" not in user.client.job(job["jobId"])


PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 10, 10)).save(buffer, "PNG")
    return buffer.getvalue()


def _gif() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, "GIF")
    return buffer.getvalue()


LIES = {  # name, declared content type, bytes -> the status the API must answer
    "html named .png": ("photo.png", "image/png", b"<html><script>alert(1)</script></html>", 415),
    "svg as image/png": ("photo.png", "image/png", b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>', 415),
    "gif named .jpg": ("photo.jpg", "image/jpeg", _gif(), 415),
    "png magic, junk after": ("photo.png", "image/png", PNG_MAGIC + b"\x00" * 64, 422),
    "jpeg magic, junk after": ("photo.jpg", "image/jpeg", b"\xff\xd8\xff\xe0" + b"junk" * 32, 422),
    "webp header, png body": ("photo.webp", "image/webp", b"RIFF\x00\x00\x00\x00WEBP" + _png(), 422),
    "truncated png": ("photo.png", "image/png", _png()[:40], 422),
    "exe named .png": ("photo.png", "image/png", b"MZ\x90\x00" + b"\x00" * 64, 415),
}


@pytest.mark.parametrize("name", LIES)
def test_an_upload_that_lies_about_its_type_is_refused(stack, make_user, name):
    filename, declared, data, status = LIES[name]
    user = make_user(credits=1)
    answer = user.client.request("POST", "/jobs/create", data={"prompt": "animate this", "durationSec": "5"},
                                 files={"image": (filename, data, declared)})
    assert answer.status_code == status and answer.json()["error"]["field"] == "image", answer.text
    assert user.client.jobs()["jobs"] == []


def test_zz_no_secret_in_logs_job_documents_or_runpod_inputs_after_the_suite(stack, store):
    """Named to run last in this folder: it scans what every test before it left behind."""
    jobs = [data for _, data in store.query(Query(JOBS))]
    assert jobs, "nothing to scan"
    assert scan_for_secrets(stack, jobs) == []
