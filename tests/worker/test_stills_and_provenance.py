"""Posters and previews taken from streamed frames; C2PA Content Credentials signed and read back."""

import io
from datetime import UTC, datetime
from fractions import Fraction

import numpy as np
import pytest
from PIL import Image

from worker_image import provenance
from worker_image.encode import Mp4Writer, VideoFacts, verify
from worker_image.stills import PREVIEW_MAX_BYTES, Stills


def chunks(total: int, width: int, height: int, noise: bool = True):
    """Frames as the decoder streams them (1, then 4 at a time): noise (the worst case for size),
    or flat grey frames whose value is their index (to tell which frame a still was taken from)."""
    rng = np.random.default_rng(0)
    index = 0
    while index < total:
        n = 1 if index == 0 else min(4, total - index)
        if noise:
            block = rng.integers(0, 255, (n, height, width, 3), dtype=np.uint8)
        else:
            block = np.broadcast_to(np.arange(index, index + n, dtype=np.uint8)[:, None, None, None], (n, height, width, 3)).copy()
        index += n
        yield block


def test_tap_passes_every_frame_through_and_keeps_the_middle_frame_at_full_size():
    stills = Stills(total_frames=121)
    passed = list(stills.tap(chunks(121, 96, 64, noise=False)))
    assert [int(frame[0, 0, 0]) for frame in np.concatenate(passed)] == list(range(121))
    poster = Image.open(io.BytesIO(stills.poster_jpeg()))
    assert poster.format == "JPEG" and poster.size == (96, 64)
    assert abs(float(np.asarray(poster).mean()) - 60) < 1.5  # frame 60 of 0..120


@pytest.mark.parametrize("width, height", [(1280, 704), (704, 1280)])
def test_the_preview_is_a_looping_animated_webp_under_the_budget_even_for_noise(width, height):
    stills = Stills(total_frames=121)
    for _ in stills.tap(chunks(121, width, height)):
        pass
    data = stills.preview_webp()
    preview = Image.open(io.BytesIO(data))
    assert preview.format == "WEBP" and preview.is_animated and preview.n_frames >= 6
    assert len(data) <= PREVIEW_MAX_BYTES
    assert max(preview.size) <= 320 and (preview.width > preview.height) == (width > height)  # the clip's shape


def test_a_tight_budget_shrinks_the_preview_rather_than_failing():
    stills = Stills(total_frames=49)
    for _ in stills.tap(chunks(49, 320, 176)):
        pass
    assert len(stills.preview_webp(max_bytes=40 * 1024)) <= 40 * 1024


def test_a_poster_is_refused_when_its_frame_never_came():
    stills = Stills(total_frames=121)
    for _ in stills.tap(chunks(10, 32, 32)):
        pass
    with pytest.raises(ValueError, match="poster frame 60 never came"):
        stills.poster_jpeg()


@pytest.fixture(scope="module")
def credentials(tmp_path_factory):
    return provenance.make_test_credentials(tmp_path_factory.mktemp("c2pa"))


@pytest.fixture(scope="module")
def mp4(tmp_path_factory):
    path = tmp_path_factory.mktemp("video") / "video.mp4"
    with Mp4Writer(path, 64, 32, 24, preset="ultrafast") as writer:
        for block in chunks(25, 64, 32):
            writer.write(block)
    return path


def test_a_signed_video_says_it_is_ai_made_by_the_model_and_validates_against_the_local_ca(credentials, mp4, tmp_path):
    signing, ca_pem = credentials
    signed = tmp_path / "signed.mp4"
    made = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    provenance.sign_video(mp4, signed, signing, "tiny random Wan 2.2 (noise, not a real model)", made)

    found = provenance.read_video(signed, trust_anchors_pem=ca_pem)
    assert found.state == "Trusted"
    assert found.digital_source_type == "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
    assert found.software_agent == "tiny random Wan 2.2 (noise, not a real model)"
    assert found.when == "2026-12-01T12:00:00+00:00"
    verify(signed, VideoFacts(frames=25, width=64, height=32, fps=Fraction(24)))  # still the same video


def test_the_manifest_carries_no_user_data():
    text = str(provenance.manifest("Wan2.2-TI2V-5B", datetime(2026, 1, 1, tzinfo=UTC)))
    assert "prompt" not in text.lower() and "user" not in text.lower()


def test_another_ca_does_not_vouch_for_the_signature(credentials, mp4, tmp_path):
    signing, _ = credentials
    _, other_ca = provenance.make_test_credentials(tmp_path / "other")
    signed = tmp_path / "signed.mp4"
    provenance.sign_video(mp4, signed, signing, "Wan2.2-TI2V-5B", datetime.now(UTC))
    assert provenance.read_video(signed, trust_anchors_pem=other_ca).state != "Trusted"


def test_a_tampered_video_fails_validation(credentials, mp4, tmp_path):
    signing, ca_pem = credentials
    signed = tmp_path / "signed.mp4"
    provenance.sign_video(mp4, signed, signing, "Wan2.2-TI2V-5B", datetime.now(UTC))
    data = bytearray(signed.read_bytes())
    mdat = data.index(b"mdat")
    data[mdat + 64] ^= 0xFF  # one byte of the picture data
    signed.write_bytes(bytes(data))
    assert provenance.read_video(signed, trust_anchors_pem=ca_pem).state == "Invalid"


def test_a_bad_key_is_a_provenance_failure_not_a_crash(credentials, mp4, tmp_path):
    signing, _ = credentials
    broken = provenance.SigningCredentials(signing.cert_chain_pem, b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    with pytest.raises(provenance.ProvenanceFailed):
        provenance.sign_video(mp4, tmp_path / "x.mp4", broken, "Wan2.2-TI2V-5B", datetime.now(UTC))
