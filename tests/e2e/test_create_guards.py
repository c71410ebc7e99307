"""Bad input to POST /jobs/create gets a clear 4xx naming the problem, and writes nothing."""

import concurrent.futures
import io
import time

import boto3
import pytest
from PIL import Image

from tests.loopback_http import LoopbackServer, answer, trickle


def _png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 90)).save(buffer, format="PNG")
    return buffer.getvalue()


BAD_JSON_BODIES = [
    ({"prompt": "", "durationSec": 5}, 422, "invalid_request", "prompt"),
    ({"prompt": "   ", "durationSec": 5}, 422, "invalid_prompt", "prompt"),
    ({"prompt": "x" * 2001, "durationSec": 5}, 422, "invalid_request", "prompt"),
    ({"prompt": "bell\x07", "durationSec": 5}, 422, "invalid_prompt", "prompt"),
    ({"prompt": "a Forbiddenword here", "durationSec": 5}, 422, "prompt_rejected", "prompt"),
    ({"prompt": "ok", "durationSec": 7}, 422, "invalid_request", "durationSec"),
    ({"prompt": "ok", "durationSec": "5"}, 422, "invalid_request", "durationSec"),
    ({"prompt": "ok", "durationSec": 5, "seed": -1}, 422, "invalid_request", "seed"),
    ({"prompt": "ok", "durationSec": 5, "imageUrl": "not a url"}, 422, "invalid_request", "imageUrl"),
    ({"prompt": "ok", "durationSec": 5, "extra": 1}, 422, "invalid_request", "extra"),
    ({"durationSec": 5}, 422, "invalid_request", "prompt"),
]


@pytest.mark.parametrize(("body", "status", "code", "field"), BAD_JSON_BODIES)
def test_bad_json_bodies_are_refused_with_the_field_named(make_user, body, status, code, field):
    user = make_user(credits=5)
    response = user.client.request("POST", "/jobs/create", json=body)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert (error["code"], error.get("field")) == (code, field)
    assert error["message"]
    assert user.client.jobs()["jobs"] == []


@pytest.mark.parametrize("raw", [b"{", b"[1, 2]", b"\xff\xfe", b""])
def test_a_body_that_is_not_a_json_object_is_a_400(make_user, raw):
    user = make_user()
    response = user.client.request("POST", "/jobs/create", data=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (b"GIF89a" + b"\x00" * 100, 415, "unsupported_image_type"),
        (b"%PDF-1.7 pretending", 415, "unsupported_image_type"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, 422, "invalid_image"),
        (_png(4097, 16), 422, "image_too_large"),
        (b"\xff\xd8\xff" + b"\x00" * (10 * 1024 * 1024), 413, "image_too_large"),
    ],
)
def test_bad_images_are_refused_by_content(make_user, data, status, code):
    user = make_user(credits=5)
    response = user.client.request(
        "POST", "/jobs/create", data={"prompt": "animate this", "durationSec": "5"}, files={"image": ("photo.png", data)}
    )
    assert response.status_code == status, response.text
    assert response.json()["error"] == {**response.json()["error"], "code": code, "field": "image"}
    assert user.client.jobs()["jobs"] == []


def _bucket(stack):
    return boto3.client("s3", endpoint_url=stack.s3_url, aws_access_key_id=stack.s3_access_key,
                        aws_secret_access_key=stack.s3_secret_key, region_name="us-east-1")


def test_an_uploaded_image_is_stored_under_inputs(make_user, stack):
    user = make_user(credits=1)
    job_id = user.client.request(
        "POST", "/jobs/create", data={"prompt": "animate this", "durationSec": "5"}, files={"image": ("x.bin", _png(64, 48))}
    ).json()["jobId"]
    head = _bucket(stack).head_object(Bucket=stack.bucket, Key=f"inputs/{job_id}.png")
    assert head["ContentType"] == "image/png"


def test_an_image_url_is_fetched_by_create_and_stored_under_inputs_like_an_upload(make_user, stack):
    user = make_user(credits=1)
    png = _png(64, 48)
    with LoopbackServer(answer(200, png, {"Content-Type": "image/png"})) as images:
        created = user.client.request("POST", "/jobs/create", json={"prompt": "animate this", "durationSec": 5,
                                                                   "imageUrl": images.url("/photo.png")})
    assert created.status_code == 202, created.text
    stored = _bucket(stack).get_object(Bucket=stack.bucket, Key=f"inputs/{created.json()['jobId']}.png")
    assert stored["Body"].read() == png and len(images.requests) == 1


@pytest.mark.parametrize(("behaviour", "message"), [
    (trickle(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + b"x" * 5000, every_s=0.05), "did not answer within 1 s"),
    (answer(302, headers={"Location": "http://10.0.0.1/internal.png"}), "redirects are not followed"),
], ids=["trickling-server", "redirect-to-a-private-address"])
def test_a_bad_image_url_is_refused_at_create_with_nothing_charged(make_user, behaviour, message):
    user = make_user(credits=1)
    with LoopbackServer(behaviour) as images:
        started = time.monotonic()
        response = user.client.request("POST", "/jobs/create", json={"prompt": "animate this", "durationSec": 5,
                                                                    "imageUrl": images.url("/a.png")})
        took = time.monotonic() - started
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("image_url_unreachable", "imageUrl") and message in error["message"]
    assert took < 5  # IMAGE_FETCH_TIMEOUT_S is 1 s here
    assert user.client.jobs()["jobs"] == [] and user.client.credits()["balance"] == 1


def test_the_local_stack_never_looks_up_a_public_name(make_user):
    user = make_user(credits=1)
    response = user.client.request("POST", "/jobs/create", json={"prompt": "animate this", "durationSec": 5,
                                                                "imageUrl": "https://images.example/a.png"})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "imageUrl" and "resolved" in response.json()["error"]["message"]


def test_the_same_idempotency_key_returns_the_first_job_and_refuses_another_body(make_user):
    user = make_user(credits=5)
    first = user.client.create_job("a cat", 5, idempotency_key="key-1")
    again = user.client.create_job("a cat", 5, idempotency_key="key-1")
    assert again == first
    conflict = user.client.request("POST", "/jobs/create", json={"prompt": "a dog", "durationSec": 5}, headers={"Idempotency-Key": "key-1"})
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "idempotency_key_reused"
    assert len(user.client.jobs()["jobs"]) == 1


def test_concurrent_creates_with_one_idempotency_key_make_one_job(make_user):
    user = make_user(credits=5)
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: user.client.create_job("same", 5, idempotency_key="burst"), range(4)))
    assert len({r["jobId"] for r in results}) == 1
    assert len(user.client.jobs()["jobs"]) == 1


def test_the_sixth_active_job_is_refused_with_429(make_user):
    held = make_user(credits=20)
    ids = [held.client.create_job(f"slow {n} [slow:20]", 5)["jobId"] for n in range(5)]
    response = held.client.request("POST", "/jobs/create", json={"prompt": "one more", "durationSec": 5})
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "too_many_active_jobs"
    for job_id in ids:
        held.client.cancel(job_id)
    assert held.client.request("POST", "/jobs/create", json={"prompt": "now fine", "durationSec": 5}).status_code == 202
