"""The conditioning-image formats CineWeave accepts, told apart by their bytes (never by name).

The one sniffer: the API's checks (functions/core/guards.py) and the worker's decoder
(worker_image/images.py) both ask it, so both refuse exactly the same files.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class ImageKind:
    mime: str
    extension: str


PNG = ImageKind("image/png", "png")
JPEG = ImageKind("image/jpeg", "jpg")
WEBP = ImageKind("image/webp", "webp")
ACCEPTED = (PNG, JPEG, WEBP)
DESCRIPTION = "a PNG, JPEG or WebP file"


def sniff(data: bytes) -> ImageKind | None:
    """The format the magic number says, or ``None``: anything else is refused."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    return None
