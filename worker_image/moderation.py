"""Moderation of what goes into and comes out of the GPU: a port, and the two checks that use it.

``ImageModerator`` is the port: images in, one ``Verdict`` each. The NSFW classifier on the
network volume (worker_image/nsfw.py) is today's adapter; a hosted moderation service replaces
it by implementing the same one method. The checks the worker runs:

- ``check_image``: a refused conditioning image fails the job before any generation
  (``image_refused``);
- ``check_video``: frames sampled from the finished, verified MP4 (every ``interval``-th and the
  last: what a user would download); a refused frame fails the job before the upload
  (``output_refused``), so the video is never offered as a download.

Both failures end the job FAILED at RunPod with the code in the message (schemas.generation), and
the pipeline refunds failed jobs.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import av
from PIL import Image

from schemas.generation import WorkerFailure
from worker_image.errors import ContentRefused


@dataclass(frozen=True)
class Verdict:
    refused: bool
    score: float  # the adapter's confidence that the image breaks the policy, 0..1
    label: str  # what the adapter saw ("nsfw", "normal", or a hosted service's category)


class ImageModerator(Protocol):
    name: str

    def judge(self, images: Sequence[Image.Image]) -> list[Verdict]:
        """One verdict per image, in order."""
        ...


def check_image(moderator: ImageModerator, image: Image.Image) -> None:
    """Before generation: a refused conditioning image fails the job (``image_refused``)."""
    [verdict] = moderator.judge([image])
    if verdict.refused:
        raise ContentRefused(
            WorkerFailure.IMAGE_REFUSED,
            f"the conditioning image was refused by moderation ({verdict.label} {verdict.score:.2f})",
        )


def check_video(moderator: ImageModerator, path: Path, interval: int) -> None:
    """Before upload: sampled frames of the finished MP4; a refused one fails the job (``output_refused``)."""
    indices, frames = sample_frames(path, interval)
    for index, verdict in zip(indices, moderator.judge(frames), strict=True):
        if verdict.refused:
            raise ContentRefused(
                WorkerFailure.OUTPUT_REFUSED,
                f"frame {index} of the generated video was refused by moderation ({verdict.label} {verdict.score:.2f}); "
                "it was not uploaded",
            )


def sample_frames(path: Path, interval: int) -> tuple[list[int], list[Image.Image]]:
    """Frames 0, interval, 2*interval ... and the last one, decoded from the file itself."""
    indices, frames, last = [], [], None
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"  # frame and slice threads: the worker has 16 cores
        for index, frame in enumerate(container.decode(stream)):
            last = (index, frame)
            if index % interval == 0:
                indices.append(index)
                frames.append(frame.to_image())
    if last is not None and last[0] != indices[-1]:
        indices.append(last[0])
        frames.append(last[1].to_image())
    return indices, frames
