"""How stored documents are shown to clients."""

from datetime import datetime, timedelta

from schemas.api import JobLink, JobView, LedgerEntryView, Shot, VideoView
from schemas.documents import JobDoc, JobProgress, LedgerEntry
from schemas.jobs import AspectRatio, JobStatus, aspect_ratio_of
from schemas.r2 import LIFECYCLE_MAX_AGE_S

MAX_URL_LIFETIME = timedelta(hours=1)
LIFECYCLE_CLOCK_MARGIN = timedelta(hours=1)


def job_view(
    job: JobDoc, now: datetime, storage=None, progress: JobProgress | None = None, children: tuple[JobDoc, ...] = ()
) -> JobView:
    """``storage`` signs the download links of a done, unexpired video and of its poster and preview
    (``presigner``); ``children`` are the jobs made from this one (remixes, extensions)."""
    presign = presigner(storage, job, now) if storage else None
    video = poster_url = preview_url = None
    until = min(now + MAX_URL_LIFETIME, job.expires_at) if job.expires_at else None  # never outlives the video
    link = None
    if job.status is JobStatus.DONE and job.output and until and until > now and presign:
        link = presign(job.output.r2_key, until, now)
    if link and job.output and until:
        poster_url = _url(presign(job.output.poster_key, until, now)) if job.output.poster_key else None
        preview_url = _url(presign(job.output.preview_key, until, now)) if job.output.preview_key else None
        video = VideoView(
            url=link.url,
            url_expires_at=link.expires_at,
            width=job.output.width,
            height=job.output.height,
            fps=job.output.fps,
            frames=job.output.frames,
            duration_sec=job.output.duration_sec,
            model=job.output.model,
        )
    return JobView(
        job_id=job.job_id,
        status=job.status,
        prompt=job.prompt,
        duration_sec=job.duration_sec,
        credits=job.credits,
        quality=job.quality,
        seed=job.output.seed if job.output else job.seed,
        aspect_ratio=aspect_ratio(job),
        negative_prompt=job.negative_prompt,
        shots=[Shot(prompt=shot) for shot in job.shots] if job.shots else None,
        parent_job_id=job.parent_job_id,
        lineage=job.lineage,
        children=[JobLink(job_id=c.job_id, lineage=c.lineage, status=c.status, created_at=c.created_at)
                  for c in sorted(children, key=lambda c: c.created_at) if c.lineage],
        created_at=job.created_at,
        updated_at=job.updated_at,
        progress=progress or job.progress,
        video=video,
        r2_url=video.url if video else None,
        poster_url=poster_url,
        preview_url=preview_url,
        content_credentials=bool(job.output and job.output.content_credentials),
        expires_at=job.expires_at if job.status is JobStatus.DONE else None,
        error=job.error,
        history=list(job.history),
    )


def _url(link) -> str | None:
    return link.url if link else None


def presigner(storage, job: JobDoc, now: datetime):
    """``presign(key, until, now) -> SignedLink | None`` for this job's objects (None: the object is
    gone, so no link is offered). Our own expiry deletes a job's objects only once the job is past its
    ``expiresAt``, when no link is offered anyway, so before then they can be gone only by R2's
    lifecycle rule, which deletes an object no sooner than
    ``LIFECYCLE_MAX_AGE_S`` after its upload, and every object of a job is uploaded after the job was
    created. Until then the links are signed without a look in the bucket (a poll costs no HEAD);
    from an hour before (room for the clocks to differ) each object is looked for first."""
    may_be_gone = now >= job.created_at + timedelta(seconds=LIFECYCLE_MAX_AGE_S) - LIFECYCLE_CLOCK_MARGIN
    return storage.presigned_get if may_be_gone else storage.sign_get


def aspect_ratio(job: JobDoc) -> AspectRatio | None:
    """The frame shape: asked for, or made (an image job's follows its image), or 16:9 from text alone."""
    if job.aspect_ratio:
        return job.aspect_ratio
    if job.output:
        return aspect_ratio_of(job.output.width, job.output.height)
    return None if job.image else "16:9"


def job_at(job: JobDoc, index: int) -> JobDoc:
    """The job as it stood just after step ``index`` of its history (the last step: the job as it is)."""
    if index == len(job.history) - 1:
        return job
    change = job.history[index]
    return job.model_copy(update={
        "status": change.status, "history": job.history[: index + 1], "updated_at": change.at, "progress": None,
        "output": job.output if change.status is JobStatus.DONE else None, "error": None,
    })


def ledger_view(entry: LedgerEntry) -> LedgerEntryView:
    return LedgerEntryView(
        entry_id=entry.entry_id,
        kind=entry.kind,
        amount=entry.amount,
        balance_after=entry.balance_after,
        created_at=entry.created_at,
        job_id=entry.job_id,
    )
