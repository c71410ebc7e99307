"""H.264 MP4 writing and checking with PyAV: frames go in as they are decoded, never all at once."""

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Self

import av
import numpy as np


class VideoCheckFailed(RuntimeError):
    """The written file does not hold the video we meant to write."""


@dataclass(frozen=True)
class VideoFacts:
    frames: int
    width: int
    height: int
    fps: Fraction


class Mp4Writer:
    """Streams uint8 RGB frames into an H.264 (libx264, yuv420p) MP4 with the index up front.

    ``+faststart`` moves the ``moov`` atom to the start, so browsers play while downloading.
    """

    def __init__(self, path: Path, width: int, height: int, fps: int, preset: str = "medium", crf: int = 18):
        self.path = path
        self._container = av.open(str(path), mode="w", options={"movflags": "+faststart"})
        self._stream = self._container.add_stream("libx264", rate=fps, options={"preset": preset, "crf": str(crf)})
        self._stream.width = width
        self._stream.height = height
        self._stream.pix_fmt = "yuv420p"
        self.frames_written = 0

    def write(self, frames: np.ndarray) -> None:
        """Encode ``(n, height, width, 3)`` uint8 frames."""
        for rgb in frames:
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            self._container.mux(self._stream.encode(frame))
            self.frames_written += 1

    def close(self) -> None:
        """Flush the encoder and finish the file (idempotent)."""
        if self._container is None:
            return
        try:
            self._container.mux(self._stream.encode(None))
        finally:
            self._container.close()
            self._container = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def probe(path: Path) -> VideoFacts:
    """Decode every frame of the file's video stream and report what is really there."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        return VideoFacts(frames=frames, width=stream.width, height=stream.height, fps=stream.average_rate)


def verify(path: Path, expected: VideoFacts) -> None:
    """Raise ``VideoCheckFailed`` unless the file decodes to exactly ``expected``."""
    try:
        actual = probe(path)
    except av.FFmpegError as exc:
        raise VideoCheckFailed(f"{path.name} does not decode: {exc}") from exc
    if actual != expected:
        raise VideoCheckFailed(f"{path.name} holds {actual}, expected {expected}")
