"""Extend: the parent's MP4 comes back from the bucket and its frames stream, chunk by chunk, into
the new file ahead of the new segments; its last frame is where they start.

Only one chunk of the parent is in memory at a time, so a 25 s parent costs what a 5 s one does.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from PIL import Image

from worker_image.errors import InvalidInput

CHUNK_FRAMES = 8


@dataclass(frozen=True)
class ParentVideo:
    path: Path
    frames: int  # as its job recorded them; checked while they are copied
    width: int
    height: int

    def chunks(self) -> Iterator[np.ndarray]:
        """Every frame, in order, as uint8 ``(n, h, w, 3)`` chunks."""
        with av.open(str(self.path)) as container:
            batch: list[np.ndarray] = []
            for frame in container.decode(container.streams.video[0]):
                batch.append(frame.to_ndarray(format="rgb24"))
                if len(batch) == CHUNK_FRAMES:
                    yield np.stack(batch)
                    batch = []
            if batch:
                yield np.stack(batch)

    def copy_into(self, write: Callable[[np.ndarray], None]) -> Image.Image:
        """Hand every frame to ``write``; returns the last one (the first of the extension)."""
        count, last = 0, None
        for chunk in self.chunks():
            write(chunk)
            count, last = count + len(chunk), chunk[-1]
        if count != self.frames or last is None:
            raise InvalidInput(f"the video to extend has {count} frames, not the {self.frames} its job recorded")
        return Image.fromarray(last)


def open_parent(path: Path, frames: int) -> ParentVideo:
    """The parent MP4 at ``path`` (its size from the stream header; nothing is decoded yet)."""
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            return ParentVideo(path, frames, stream.width, stream.height)
    except (av.FFmpegError, IndexError) as exc:
        raise InvalidInput(f"the video to extend does not decode: {exc}") from exc
