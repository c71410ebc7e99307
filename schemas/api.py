"""HTTP request and response bodies. The OpenAPI document is generated from these models."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, HttpUrl

from schemas.base import WireModel
from schemas.documents import JobError, JobProgress, LedgerKind, StatusChange
from schemas.generation import MAX_SEED
from schemas.jobs import AspectRatio, DurationSec, JobStatus, Lineage, Quality
from schemas.webhooks import MAX_URL_CHARS, WebhookEvent

PROMPT_MAX_CHARS = 2000
Prompt = Annotated[str, Field(min_length=1, max_length=PROMPT_MAX_CHARS)]


class Shot(WireModel):
    prompt: Prompt


class CreateJobRequest(WireModel):
    """``prompt``, or for a 10 or 15 s clip a storyboard: ``shots``, one prompt per 5 s segment
    (then ``prompt`` may be left out)."""

    prompt: Prompt | None = None
    shots: list[Shot] | None = Field(default=None, min_length=2, max_length=3)
    duration_sec: DurationSec
    seed: int | None = Field(default=None, ge=0, le=MAX_SEED, strict=True)
    image_url: HttpUrl | None = None
    # Absent: 16:9 from text; with an image, the image's orientation. Given: an image is centre-cropped to it.
    aspect_ratio: AspectRatio | None = None
    negative_prompt: Prompt | None = None  # absent: the model's default negative prompt
    webhook_url: str | None = Field(default=None, min_length=8, max_length=MAX_URL_CHARS)
    webhook_events: list[WebhookEvent] | None = Field(default=None, min_length=1, max_length=len(WebhookEvent))
    # standard: 50 steps with CFG; fast: the 3-step distilled model (refused where it is not deployed).
    quality: Quality = Quality.STANDARD


class ExtendRequest(WireModel):
    """Continue a done clip from its last frame; the new video is the clip followed by the new seconds."""

    duration_sec: DurationSec  # the seconds added (and charged)
    prompt: Prompt | None = None  # absent: the clip's own (last) prompt


class RemixRequest(WireModel):
    """A new clip with the parent's settings (duration, ratio, image, seed) and a new prompt."""

    prompt: Prompt
    negative_prompt: Prompt | None = None
    seed: int | None = Field(default=None, ge=0, le=MAX_SEED, strict=True)  # absent: the parent's seed


class CreateJobResponse(WireModel):
    job_id: str
    status: JobStatus


class VideoView(WireModel):
    url: str
    url_expires_at: datetime
    width: int
    height: int
    fps: int
    frames: int
    duration_sec: int
    model: str | None = None  # what made it: the real model's name, or the tiny random model's label


class JobLink(WireModel):
    job_id: str
    lineage: Lineage
    status: JobStatus
    created_at: datetime


class JobView(WireModel):
    job_id: str
    status: JobStatus
    prompt: str
    duration_sec: DurationSec
    credits: int
    quality: Quality = Quality.STANDARD
    seed: int | None = None
    aspect_ratio: AspectRatio | None = None  # absent until known (an image job's is the image's orientation)
    negative_prompt: str | None = None
    shots: list[Shot] | None = None  # a storyboard: one prompt per 5 s segment
    parent_job_id: str | None = None  # the clip this one remixes or extends
    lineage: Lineage | None = None
    children: list[JobLink] = Field(default_factory=list)  # remixes and extensions of this clip
    created_at: datetime
    updated_at: datetime
    progress: JobProgress | None = None
    video: VideoView | None = None
    poster_url: str | None = None  # presigned like the video: a JPEG frame at the clip's size
    preview_url: str | None = None  # presigned: a small looping animated WebP
    content_credentials: bool = False  # the MP4 carries a signed C2PA manifest saying it is AI-made
    # The product spec's flat contract ({status, r2Url, expiresAt, durationSec}) beside the nested
    # view, so a client written to the spec works unchanged: r2Url is video.url.
    r2_url: str | None = None
    expires_at: datetime | None = None
    error: JobError | None = None
    history: list[StatusChange] = Field(default_factory=list)
    queue_position: int | None = Field(default=None, ge=0)  # while queued: jobs ahead of it
    eta_seconds: int | None = Field(default=None, ge=0)  # while queued or running: until it should be done


class JobList(WireModel):
    jobs: list[JobView]
    next_cursor: str | None = None


class LedgerEntryView(WireModel):
    entry_id: str
    kind: LedgerKind
    amount: int
    balance_after: int
    created_at: datetime
    job_id: str | None = None


class CreditsView(WireModel):
    balance: int
    entries: list[LedgerEntryView]


class PlanView(WireModel):
    plan_id: str
    name: str
    monthly_credits: int
    price_minor: int
    currency: str


class PlanList(WireModel):
    plans: list[PlanView]
    extra_credit_price_minor: int
    currency: str


class GrantRequest(WireModel):
    """An operator's grant; ``grantId`` makes a retried grant land once."""

    user_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    credits: int = Field(ge=1, le=100_000, strict=True)
    grant_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    note: str | None = Field(default=None, max_length=200)


class GrantResponse(WireModel):
    user_id: str
    balance: int
    entry_id: str
    applied: bool  # false when this grantId was already applied


TemplateKind = Literal["subject", "camera", "lighting", "style"]
TemplateAudience = Literal["social", "education", "gamedev", "any"]


class TemplateView(WireModel):
    """A curated prompt: a ``subject`` is a whole prompt to start from; the other kinds are phrases to add."""

    template_id: str = Field(pattern=r"^[a-z0-9-]{1,64}$")
    kind: TemplateKind
    audience: TemplateAudience
    title: str = Field(min_length=1, max_length=60)
    prompt: str = Field(min_length=1, max_length=PROMPT_MAX_CHARS)


class TemplateList(WireModel):
    templates: list[TemplateView]
