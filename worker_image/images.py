"""The conditioning image: fetched, checked by content, then fitted to the video frame.

Checks run on the bytes, not on names or content types: PNG, JPEG or WebP magic numbers, at most
``IMAGE_MAX_BYTES``, at most ``IMAGE_MAX_SIDE_PX`` a side (read from the header, before the
pixels are decoded). Fitting keeps the aspect, as the official TI2V code does: scale to cover the
frame (LANCZOS), then crop the centre; diffusers alone would stretch.
"""

import io
import ipaddress
import math
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

import requests
from PIL import Image, ImageOps, UnidentifiedImageError

from schemas.generation import ImageSource
from worker_image.errors import InvalidInput

_MAGIC = {
    "png": lambda b: b.startswith(b"\x89PNG\r\n\x1a\n"),
    "jpeg": lambda b: b.startswith(b"\xff\xd8\xff"),
    "webp": lambda b: b[:4] == b"RIFF" and b[8:12] == b"WEBP",
}

ReadObject = Callable[[str, int], bytes]  # (key, max_bytes) -> bytes


def sniff_format(data: bytes) -> str:
    """``png``, ``jpeg`` or ``webp``, from the magic number; anything else is refused."""
    for name, matches in _MAGIC.items():
        if matches(data):
            return name
    raise InvalidInput("the image is not a PNG, JPEG or WebP file")


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
    """Reads the image bytes from our bucket (``r2Key``) or a URL (``url``) and decodes them."""

    def __init__(
        self,
        read_object: ReadObject,
        max_bytes: int,
        max_side: int,
        timeout_s: float,
        allow_http: bool,
        session: requests.Session | None = None,
    ):
        self._read_object = read_object
        self._max_bytes = max_bytes
        self._max_side = max_side
        self._timeout_s = timeout_s
        self._allow_http = allow_http
        self._session = session or requests.Session()

    def load(self, source: ImageSource) -> Image.Image:
        if source.r2_key is not None:
            data = self._read_object(source.r2_key, self._max_bytes)
        else:
            data = self._fetch(str(source.url))
        return decode_image(data, self._max_bytes, self._max_side)

    def _fetch(self, url: str) -> bytes:
        self._check_url(url)
        try:
            # No redirects: a redirect could lead to plain http or to a private address.
            with self._session.get(url, timeout=self._timeout_s, stream=True, allow_redirects=False) as response:
                if response.status_code != 200:
                    raise InvalidInput(f"the image URL answered HTTP {response.status_code}: {url}")
                return _read_capped(response, self._max_bytes)
        except requests.RequestException as exc:
            raise InvalidInput(f"the image URL could not be fetched ({type(exc).__name__}): {url}") from exc

    def _check_url(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme != "https" and not (self._allow_http and parts.scheme == "http"):
            raise InvalidInput(f"image URLs must use https: {url}")
        if not self._allow_http and not _is_public_host(parts.hostname or ""):
            raise InvalidInput(f"the image URL does not point to a public host: {url}")


def _read_capped(response: requests.Response, max_bytes: int) -> bytes:
    body = bytearray()
    for chunk in response.iter_content(chunk_size=64 * 1024):
        body += chunk
        if len(body) > max_bytes:
            raise InvalidInput(f"the image is larger than {max_bytes // (1024 * 1024)} MB")
    return bytes(body)


def _is_public_host(host: str) -> bool:
    """Production only fetches from the public internet, never from the worker's own network."""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (socket.gaierror, UnicodeError):
        return True  # unresolvable here: the fetch itself will fail with a clear message
    return all(ipaddress.ip_address(address.split("%")[0]).is_global for address in addresses)
