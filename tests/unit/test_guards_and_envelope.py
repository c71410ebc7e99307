"""Prompt and image guards, and the Pub/Sub envelope."""

import base64
import io

import pytest
from PIL import Image

from functions.core.errors import InputRejected
from functions.core.guards import check_image, clean_prompt
from functions.events.envelope import PoisonMessage, consume, parse
from schemas.events import JobRequested


def _image(fmt: str, size=(32, 16)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size).save(buffer, format=fmt)
    return buffer.getvalue()


def test_prompts_are_trimmed_and_checked():
    assert clean_prompt("  a fox\n in snow \r\n", ()) == "a fox\n in snow"
    for bad, code in [("", "invalid_prompt"), ("a\x00b", "invalid_prompt"), ("zero\u200bwidth", "invalid_prompt"),
                      ("x" * 2001, "invalid_prompt"), ("Some BadWord here", "prompt_rejected")]:
        with pytest.raises(InputRejected) as caught:
            clean_prompt(bad, ("badword",))
        assert (caught.value.code, caught.value.field) == (code, "prompt")
    assert clean_prompt("badwordless is fine", ("badword",))


@pytest.mark.parametrize(("fmt", "mime"), [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")])
def test_images_are_recognised_by_content(fmt, mime):
    assert check_image(_image(fmt), 10_000_000, 4096).mime == mime


def test_image_limits_have_their_own_status_codes():
    with pytest.raises(InputRejected) as big:
        check_image(_image("PNG"), 10, 4096)
    with pytest.raises(InputRejected) as wide:
        check_image(_image("PNG", (64, 8)), 10_000_000, 32)
    with pytest.raises(InputRejected) as odd:
        check_image(b"BM" + b"\x00" * 64, 10_000_000, 4096)
    assert (big.value.status, wide.value.status, odd.value.status) == (413, 422, 415)


def _push(data: bytes | None) -> dict:
    message = {"messageId": "m1"}
    if data is not None:
        message["data"] = base64.b64encode(data).decode()
    return {"message": message}


def test_the_envelope_parses_typed_events_and_names_poison():
    event = parse(_push(b'{"schemaVersion": 1, "jobId": "job_1", "occurredAt": "2026-11-25T12:00:00Z"}'), JobRequested)
    assert event.job_id == "job_1" and event.idempotency_key == "job_1:requested"
    for bad in (None, b"not json", b'{"schemaVersion": 2, "jobId": "j", "occurredAt": "2026-11-25T12:00:00Z"}', b'{"jobId": 5}'):
        with pytest.raises(PoisonMessage):
            parse(_push(bad), JobRequested)


def test_poison_is_acknowledged_but_a_transient_failure_propagates_for_redelivery():
    handled = []
    consume(_push(b"garbage"), JobRequested, handled.append)
    assert handled == []
    good = _push(b'{"schemaVersion": 1, "jobId": "job_1", "occurredAt": "2026-11-25T12:00:00Z"}')

    def flaky(event):
        raise ConnectionError("firestore unavailable")

    with pytest.raises(ConnectionError):
        consume(good, JobRequested, flaky)
