"""The poster and the preview of a clip, taken from its frames as they stream to the encoder.

``Stills.tap(chunks)`` passes every chunk through unchanged and keeps what it needs on the way:
one full-size frame for the poster (the middle one: past the first frame, which may be the user's
own image, and away from the last) and a small copy of a few evenly spaced frames for the preview.
Memory stays small whatever the clip's length: one full frame plus ``PREVIEW_FRAMES`` thumbnails.

``poster_jpeg`` is a JPEG of the clip's size; ``preview_webp`` an animated WebP that loops,
kept under ``max_bytes`` (it steps quality, then frame count, then size down until it fits).
"""

import io
from collections.abc import Iterator

import numpy as np
from PIL import Image

PREVIEW_FRAMES = 24  # evenly spaced over the clip, played at PREVIEW_FPS: a few seconds of loop
PREVIEW_FPS = 8
PREVIEW_SIDE = 320  # the longer side of the preview, in pixels
PREVIEW_MAX_BYTES = 300 * 1024
POSTER_QUALITY = 88
_QUALITIES = (60, 45, 30)


class Stills:
    def __init__(self, total_frames: int, preview_frames: int = PREVIEW_FRAMES, preview_side: int = PREVIEW_SIDE):
        self.total_frames = total_frames
        self.poster_index = total_frames // 2
        count = min(preview_frames, total_frames)
        self._preview_indices = {round(i * (total_frames - 1) / max(1, count - 1)) for i in range(count)}
        self._preview_side = preview_side
        self._poster: np.ndarray | None = None
        self._preview: list[Image.Image] = []
        self._seen = 0

    def tap(self, chunks: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
        """The same ``(n, h, w, 3)`` uint8 chunks, in order; frames are copied out on the way."""
        for chunk in chunks:
            self.add(chunk)
            yield chunk

    def add(self, chunk: np.ndarray) -> None:
        for offset, frame in enumerate(chunk):
            index = self._seen + offset
            if index == self.poster_index:
                self._poster = np.array(frame, copy=True)
            if index in self._preview_indices:
                self._preview.append(_thumbnail(frame, self._preview_side))
        self._seen += len(chunk)

    def poster_jpeg(self) -> bytes:
        if self._poster is None:
            raise ValueError(f"the poster frame {self.poster_index} never came ({self._seen} frames seen)")
        out = io.BytesIO()
        Image.fromarray(self._poster).save(out, "JPEG", quality=POSTER_QUALITY, optimize=True, progressive=True)
        return out.getvalue()

    def preview_webp(self, max_bytes: int = PREVIEW_MAX_BYTES) -> bytes:
        frames = self._preview
        if not frames:
            raise ValueError("no preview frames were seen")
        while True:
            for quality in _QUALITIES:
                data = _animated_webp(frames, quality)
                if len(data) <= max_bytes:
                    return data
            if len(frames) > 6:
                frames = frames[::2]
            elif max(frames[0].size) > 64:
                frames = [f.resize((f.width // 2, max(1, f.height // 2)), Image.Resampling.LANCZOS) for f in frames]
            else:
                return data  # as small as a preview can usefully be


def _thumbnail(frame: np.ndarray, side: int) -> Image.Image:
    image = Image.fromarray(frame)
    scale = side / max(image.size)
    if scale >= 1:
        return image.copy()
    return image.resize((max(2, round(image.width * scale)), max(2, round(image.height * scale))), Image.Resampling.LANCZOS)


def _animated_webp(frames: list[Image.Image], quality: int) -> bytes:
    out = io.BytesIO()
    frames[0].save(out, "WEBP", save_all=True, append_images=frames[1:], duration=round(1000 / PREVIEW_FPS), loop=0,
                   quality=quality, method=4)
    return out.getvalue()
