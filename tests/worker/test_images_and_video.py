"""Conditioning images are checked by content and fitted without stretching; MP4s are checked."""

import io
from fractions import Fraction

import numpy as np
import pytest
from PIL import Image

from tests.worker.helpers import image_bytes
from worker_image.encode import Mp4Writer, VideoCheckFailed, VideoFacts, probe, verify
from worker_image.errors import InvalidInput
from worker_image.images import decode_image, fit, is_portrait, sniff_format

MB = 1024 * 1024


@pytest.mark.parametrize(("fmt", "mime"), [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")])
def test_png_jpeg_and_webp_are_recognised_by_their_bytes(fmt, mime):
    assert sniff_format(image_bytes(40, 30, fmt)).mime == mime


@pytest.mark.parametrize("data", [b"GIF89a" + bytes(40), b"%PDF-1.7", b"", b"RIFF\x00\x00\x00\x00WAVE"])
def test_other_content_is_refused_whatever_it_is_called(data):
    with pytest.raises(InvalidInput, match="not a PNG, JPEG or WebP"):
        sniff_format(data)


def test_an_image_over_the_byte_limit_is_refused():
    with pytest.raises(InvalidInput, match="larger than 1 MB"):
        decode_image(image_bytes(40, 30) + bytes(MB), max_bytes=MB, max_side=4096)


def test_an_image_over_the_side_limit_is_refused_before_decoding():
    with pytest.raises(InvalidInput, match="is 300x20; at most 256 px a side"):
        decode_image(image_bytes(300, 20), max_bytes=MB, max_side=256)


def test_a_truncated_image_is_refused():
    with pytest.raises(InvalidInput, match="could not be decoded"):
        decode_image(image_bytes(64, 64, "PNG")[:60], max_bytes=MB, max_side=4096)


def test_the_exif_orientation_decides_portrait():
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90 degrees: a landscape sensor image of a portrait photo
    Image.new("RGB", (80, 60)).save(buffer, format="JPEG", exif=exif)

    image = decode_image(buffer.getvalue(), max_bytes=MB, max_side=4096)

    assert image.size == (60, 80) and is_portrait(image)


def test_fit_crops_the_centre_and_never_stretches():
    # Three vertical bands, red | green | blue, in a 300x100 image; the target is square.
    pixels = np.zeros((100, 300, 3), np.uint8)
    pixels[:, :100, 0] = pixels[:, 100:200, 1] = pixels[:, 200:, 2] = 255

    fitted = np.asarray(fit(Image.fromarray(pixels), 64, 64))

    assert fitted.shape == (64, 64, 3)
    assert fitted[:, 4:-4, 1].min() > 250 and fitted[:, 4:-4, [0, 2]].max() < 5  # only the green centre


def test_fit_scales_up_a_small_image_to_cover_the_frame():
    fitted = fit(Image.new("RGB", (20, 40), "white"), 128, 64)

    assert fitted.size == (128, 64)


def _top_level_boxes(data: bytes) -> list[bytes]:
    boxes, offset = [], 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset : offset + 4], "big")
        boxes.append(data[offset + 4 : offset + 8])
        offset += size if size >= 8 else len(data)
    return boxes


def _write(path, frames, fps=24):
    with Mp4Writer(path, frames.shape[2], frames.shape[1], fps, preset="ultrafast") as writer:
        for chunk in np.array_split(frames, 3):
            writer.write(chunk)


def test_the_mp4_holds_exactly_the_frames_written_at_24_fps_and_starts_with_its_index(tmp_path):
    frames = np.random.default_rng(0).integers(0, 256, (9, 32, 48, 3), dtype=np.uint8)
    path = tmp_path / "clip.mp4"

    _write(path, frames)

    assert probe(path) == VideoFacts(frames=9, width=48, height=32, fps=Fraction(24))
    boxes = _top_level_boxes(path.read_bytes())
    assert boxes.index(b"moov") < boxes.index(b"mdat")  # +faststart: the index comes first
    verify(path, VideoFacts(9, 48, 32, Fraction(24)))


def test_verify_rejects_a_file_that_is_not_what_was_asked(tmp_path):
    path = tmp_path / "clip.mp4"
    _write(path, np.zeros((5, 32, 32, 3), np.uint8))

    with pytest.raises(VideoCheckFailed, match="expected"):
        verify(path, VideoFacts(frames=6, width=32, height=32, fps=Fraction(24)))
    (tmp_path / "junk.mp4").write_bytes(b"not a video")
    with pytest.raises(VideoCheckFailed, match="does not decode"):
        verify(tmp_path / "junk.mp4", VideoFacts(frames=5, width=32, height=32, fps=Fraction(24)))
