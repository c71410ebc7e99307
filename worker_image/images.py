"""The conditioning image: read from our bucket, checked by content, then fitted to the video frame.

The image is always an object under ``inputs/`` that create_job stored (an upload, or what an
``imageUrl`` served, fetched and checked there): the worker never fetches a URL, so a GPU never
waits on a stranger's server. The checks run again on the bytes, with the same sniffer as the API
(``schemas.image_formats``): PNG, JPEG or WebP magic numbers, at most
``IMAGE_MAX_BYTES``, at most ``IMAGE_MAX_SIDE_PX`` a side (read from the header, before the
pixels are decoded). Fitting keeps the aspect, as the official TI2V code does: scale to cover the
frame (LANCZOS), then crop the centre; diffusers alone would stretch.
"""

import io
import math
from collections.abc import Callable

from PIL import Image, ImageOps, UnidentifiedImageError

from schemas import image_formats
from schemas.generation import ImageSource
from worker_image.errors import InvalidInput

ReadObject = Callable[[str, int], bytes]  # (key, max_bytes) -> bytes


def sniff_format(data: bytes) -> image_formats.ImageKind:
    """The format the magic number says; anything else is refused."""
    kind = image_formats.sniff(data)
    if kind is None:
        raise InvalidInput(f"the image is not {image_formats.DESCRIPTION}")
    return kind


def decode_image(data: bytes, max_bytes: int, max_side: int) -> Image.Image:
    """Validated bytes -> an RGB image, upright (EXIF orientation applied)."""
    if len(data) > max_bytes:
        raise InvalidInput(f"the image is larger than {max_bytes // (1024 * 1024)} MB")
    sniff_format(data)
    try:
        image = Image.open(io.BytesIO(data))
        if max(image.size) > max_side:
            raise InvalidInput(f"the image is {image.width}x{image.height}; at most {max_side} px a side")
        image.load()
        return ImageOps.exif_transpose(image).convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise InvalidInput(f"the image could not be decoded: {exc}") from exc


def is_portrait(image: Image.Image) -> bool:
    return image.height > image.width


def fit(image: Image.Image, width: int, height: int) -> Image.Image:
    """Scale to cover ``width`` x ``height`` (LANCZOS), then crop the centre: never stretch."""
    scale = max(width / image.width, height / image.height)
    scaled = (max(width, math.ceil(image.width * scale)), max(height, math.ceil(image.height * scale)))
    resized = image.resize(scaled, Image.Resampling.LANCZOS)
    left, top = (scaled[0] - width) // 2, (scaled[1] - height) // 2
    return resized.crop((left, top, left + width, top + height))


class ImageLoader:
    """Reads the image bytes from our bucket (``r2Key``) and decodes them."""

    def __init__(self, read_object: ReadObject, max_bytes: int, max_side: int):
        self._read_object = read_object
        self._max_bytes = max_bytes
        self._max_side = max_side

    def load(self, source: ImageSource) -> Image.Image:
        return decode_image(self._read_object(source.r2_key, self._max_bytes), self._max_bytes, self._max_side)
