"""The contract between the pipeline and the RunPod worker: the job ``input``, progress, ``output``.

RunPod echoes ``input`` in its webhook body and keeps it in its logs: it must never carry a secret.
"""

from enum import StrEnum

from pydantic import Field, model_validator

from schemas.base import WireModel
from schemas.jobs import MAX_VIDEO_SECONDS, AspectRatio, DurationSec, Quality, segments_for

MAX_SEED = 2**32 - 1


class ImageSource(WireModel):
    """The conditioning image: always an object in our own bucket. An upload is stored there, and so
    is what an ``imageUrl`` served (fetched and checked at create): a GPU never fetches a URL."""

    r2_key: str = Field(pattern=r"^inputs/[A-Za-z0-9._/-]+$")


class Segment(WireModel):
    """One 5 s piece of the clip (121 frames; 120 new ones after the first segment)."""

    prompt: str = Field(min_length=1, max_length=2000)


class Continuation(WireModel):
    """Extend: the new segments continue the video at ``videoKey`` from its last frame, and the
    output is that video followed by them (one file)."""

    video_key: str = Field(pattern=r"^videos/[A-Za-z0-9._/-]+\.mp4$")
    frames: int = Field(ge=1)  # the video's frame count, checked when it is read
    duration_sec: int = Field(ge=5, le=MAX_VIDEO_SECONDS - 5)


class GenerationInput(WireModel):
    """How the clip is built: ``segments`` in order, each 5 s, each starting on the last frame of
    the one before; segment 1 starts from ``image`` when given (else from the prompt alone).

    Without ``segments`` the clip is ``durationSec / 5`` segments of ``prompt``. Features that
    shape a clip (a prompt per shot, continuing an earlier video) say so here, not in the worker.
    """

    job_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    prompt: str = Field(min_length=1, max_length=2000)
    duration_sec: DurationSec
    seed: int | None = Field(default=None, ge=0, le=MAX_SEED)
    image: ImageSource | None = None
    output_key: str = Field(pattern=r"^videos/[A-Za-z0-9._/-]+\.mp4$")
    aspect_ratio: AspectRatio | None = None  # None: the image's orientation, or 16:9 without an image
    negative_prompt: str | None = Field(default=None, min_length=1, max_length=2000)  # None: Wan's default
    quality: Quality = Quality.STANDARD
    segments: list[Segment] | None = Field(default=None, min_length=1, max_length=6)
    continues: Continuation | None = None

    @model_validator(mode="after")
    def _segments_fill_the_duration(self) -> "GenerationInput":
        if self.segments is not None and len(self.segments) != segments_for(self.duration_sec):
            raise ValueError(
                f"{self.duration_sec} s takes {segments_for(self.duration_sec)} segments, got {len(self.segments)}"
            )
        return self

    def segment_prompts(self) -> list[str]:
        """The prompt of each segment, in order."""
        if self.segments is None:
            return [self.prompt] * segments_for(self.duration_sec)
        return [segment.prompt for segment in self.segments]


class GenerationStage(StrEnum):
    LOADING_IMAGE = "loading-image"
    LOADING_VIDEO = "loading-video"  # an extension reads the video it continues
    ENCODING_PROMPT = "encoding-prompt"
    DENOISING = "denoising"
    DECODING = "decoding"
    ENCODING_VIDEO = "encoding-video"
    UPLOADING = "uploading"


class GenerationProgress(WireModel):
    """What the worker reports through ``runpod.serverless.progress_update``."""

    stage: GenerationStage
    percent: int = Field(ge=0, le=100)  # of the whole clip, never going back
    step: int | None = Field(default=None, ge=0)
    steps: int | None = Field(default=None, ge=1)
    segment: int | None = Field(default=None, ge=1)  # 1-based, while a segment is generated
    segments: int | None = Field(default=None, ge=1)


class GenerationOutput(WireModel):
    """What the worker returns; RunPod keeps it for 30 minutes, so it is small and byte-free."""

    r2_key: str
    duration_sec: int = Field(ge=5, le=MAX_VIDEO_SECONDS)  # of the whole video (an extension's includes its parent)
    frames: int
    width: int
    height: int
    fps: int
    seed: int = Field(ge=0, le=MAX_SEED)
    model: str
    timings: dict[str, float] = Field(default_factory=dict)
    # What the job cost and how it started: the GPU that ran it (priced from the price table) and
    # whether it met a cold worker, with the seconds that worker spent loading the model first.
    gpu_type: str | None = Field(default=None, max_length=100)
    cold_start: bool = False
    setup_s: float | None = Field(default=None, ge=0)
    poster_key: str | None = None  # a JPEG of a frame at the clip's size, beside the MP4
    preview_key: str | None = None  # a small looping animated WebP
    content_credentials: bool = False  # the MP4 carries a signed C2PA manifest (AI-made, model, time)

    @property
    def keys(self) -> tuple[str, ...]:
        """Every object of the clip in the bucket: they live and are deleted together."""
        return tuple(key for key in (self.r2_key, self.poster_key, self.preview_key) if key)


def still_keys(output_key: str) -> tuple[str, str]:
    """Where the poster and the preview of the MP4 at ``output_key`` go: beside it, same prefix."""
    stem = output_key.removesuffix(".mp4")
    return f"{stem}.poster.jpg", f"{stem}.preview.webp"


class WorkerFailure(StrEnum):
    """Failures the worker reports with a code of their own; the failed job carries that code."""

    IMAGE_REFUSED = "image_refused"  # moderation refused the conditioning image (before generation)
    OUTPUT_REFUSED = "output_refused"  # moderation refused a frame of the video (never uploaded)


def failure_text(code: WorkerFailure, message: str) -> str:
    """The worker's ``{"error": ...}`` for a coded failure: ``[code] message``."""
    return f"[{code.value}] {message}"


def failure_code(text: str) -> tuple[WorkerFailure | None, str]:
    """``(code, message)`` from an error the worker reported; ``(None, text)`` when it carries no code."""
    for code in WorkerFailure:
        if text.startswith(tag := f"[{code.value}] "):
            return code, text[len(tag):]
    return None, text
