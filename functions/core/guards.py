"""Input guards for job creation: prompt text and uploaded images. Pure, no I/O."""

import io
import unicodedata

from PIL import Image, UnidentifiedImageError

from functions.core import content_policy
from functions.core.errors import InputRejected
from schemas import image_formats
from schemas.image_formats import ImageKind
from schemas.api import PROMPT_MAX_CHARS
from schemas.jobs import Quality

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
    if content_policy.blocked(text, blocked_terms):
        raise InputRejected("prompt_rejected", f"{field} was rejected by the content policy", field)
    return text


def check_image(data: bytes, max_bytes: int, max_side_px: int, field: str = "image") -> ImageKind:
    """What the bytes are (by content, not name), or ``InputRejected`` (413, 415 or 422) naming
    ``field``: ``image`` for an upload, ``imageUrl`` for what that URL served."""
    what = "the image at imageUrl" if field == "imageUrl" else field
    if len(data) > max_bytes:
        raise InputRejected("image_too_large", f"{what} must be at most {max_bytes // (1024 * 1024)} MB", field, 413)
    kind = image_formats.sniff(data)
    if kind is None:
        raise InputRejected("unsupported_image_type", f"{what} must be {image_formats.DESCRIPTION}", field, 415)
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise InputRejected("invalid_image", f"{what} could not be read: {exc}", field) from exc
    if max(width, height) > max_side_px:
        raise InputRejected("image_too_large", f"{what} sides must be at most {max_side_px} px", field)
    return kind


def check_quality(quality: Quality, fast_weights_deployed: bool) -> None:
    """``fast`` only where its weights are deployed: refused here rather than failed on the GPU."""
    if quality is Quality.FAST and not fast_weights_deployed:
        raise InputRejected("quality_unavailable", "the fast profile is not available here; use quality standard",
                            "quality")
