"""Job vocabulary shared by the API, the events, the documents and the worker."""

from enum import StrEnum
from typing import Literal

DurationSec = Literal[5, 10, 15]
# The two frame shapes TI2V-5B is trained for: 1280x704 (landscape) and 704x1280 (portrait).
AspectRatio = Literal["16:9", "9:16"]
Lineage = Literal["remix", "extend"]  # how a job relates to the parent it was made from
SECONDS_PER_CREDIT = 5
FPS = 24
# A clip is built from 5 s segments of 121 frames (TI2V-5B's training length); each later segment
# starts on the last frame of the one before, so it adds 120 frames: 121, 241, 361.
SEGMENT_SECONDS = 5
SEGMENT_FRAMES = SEGMENT_SECONDS * FPS + 1
# An extended video (a clip followed by its extensions) is at most six segments: memory and cost
# stay linear because each segment is generated on its own, but a limit keeps one video bounded.
MAX_VIDEO_SECONDS = 30


class Quality(StrEnum):
    """``standard``: the base weights, 50 steps with CFG. ``fast``: step-distilled weights, 3 steps."""

    STANDARD = "standard"
    FAST = "fast"


class JobStatus(StrEnum):
    PENDING = "pending"
    RESERVED = "reserved"
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    EXPIRED = "expired"
    REJECTED = "rejected"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def is_terminal(self) -> bool:
        """Terminal for the pipeline: nothing more will be charged or refunded."""
        return self in TERMINAL_STATUSES

    @property
    def is_active(self) -> bool:
        """Counts against the user's limit of concurrent jobs."""
        return not self.is_terminal


TERMINAL_STATUSES = frozenset(
    {JobStatus.DONE, JobStatus.EXPIRED, JobStatus.REJECTED, JobStatus.FAILED, JobStatus.CANCELED}
)


def is_portrait(aspect_ratio: str) -> bool:
    return aspect_ratio == "9:16"


def aspect_ratio_of(width: int, height: int) -> AspectRatio:
    return "9:16" if height > width else "16:9"


def credits_for(duration_sec: int) -> int:
    """1 credit per 5 s of video."""
    return duration_sec // SECONDS_PER_CREDIT


def frames_for(duration_sec: int) -> int:
    """Wan needs 4k+1 frames: 5 s -> 121, 10 s -> 241, 15 s -> 361 at 24 fps."""
    return duration_sec * FPS + 1


def frames_after(frames: int, added_sec: int) -> int:
    """A video of ``frames`` continued by ``added_sec``: each new segment adds 120 frames (121 - 1 shared)."""
    return frames + segments_for(added_sec) * (SEGMENT_FRAMES - 1)


def segments_for(duration_sec: int) -> int:
    """5 s -> 1 segment, 10 s -> 2, 15 s -> 3."""
    return duration_sec // SEGMENT_SECONDS
