"""Input guards for job creation: prompt text and uploaded images. Pure, no I/O."""

import io
import re
import unicodedata
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from functions.core.errors import InputRejected
from schemas.api import PROMPT_MAX_CHARS

_ALLOWED_CONTROLS = {"\n", "\t"}


def clean_prompt(prompt: str, blocked_terms: tuple[str, ...], field: str = "prompt") -> str:
    """The trimmed prompt, or ``InputRejected`` naming what is wrong with it. Every text that
    steers the model (prompt, negative prompt, a shot's prompt) passes here; ``field`` names it."""
    text = prompt.replace("\r\n", "\n").strip()
    if not text:
        raise InputRejected("invalid_prompt", f"{field} must not be empty", field)
    if len(text) > PROMPT_MAX_CHARS:
        raise InputRejected("invalid_prompt", f"{field} must be at most {PROMPT_MAX_CHARS} characters", field)
    if any(unicodedata.category(ch) in {"Cc", "Cf"} and ch not in _ALLOWED_CONTROLS for ch in text):
        raise InputRejected("invalid_prompt", f"{field} must not contain control characters", field)
    lowered = text.casefold()
    for term in blocked_terms:
        if re.search(rf"\b{re.escape(term.casefold())}\b", lowered):
            raise InputRejected("prompt_rejected", f"{field} was rejected by the content policy", field)
    return text


@dataclass(frozen=True)
class ImageKind:
    mime: str
    extension: str


def _sniff(data: bytes) -> ImageKind | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return ImageKind("image/png", "png")
    if data.startswith(b"\xff\xd8\xff"):
        return ImageKind("image/jpeg", "jpg")
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ImageKind("image/webp", "webp")
    return None


def check_image(data: bytes, max_bytes: int, max_side_px: int) -> ImageKind:
    """What the bytes are (by content, not name), or ``InputRejected`` (413, 415 or 422)."""
    if len(data) > max_bytes:
        raise InputRejected("image_too_large", f"image must be at most {max_bytes // (1024 * 1024)} MB", "image", 413)
    kind = _sniff(data)
    if kind is None:
        raise InputRejected("unsupported_image_type", "image must be a PNG, JPEG or WebP file", "image", 415)
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise InputRejected("invalid_image", f"image could not be read: {exc}", "image") from exc
    if max(width, height) > max_side_px:
        raise InputRejected("image_too_large", f"image sides must be at most {max_side_px} px", "image")
    return kind
