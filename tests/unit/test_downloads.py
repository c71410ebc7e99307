"""A video R2's lifecycle deleted before our own expiry is never offered as a download, and a poll of
a job whose objects the lifecycle cannot have reached yet costs no look in the bucket.

The lifecycle deletes an object no sooner than a day after its upload, and a job's objects are
uploaded after the job was created: its links are signed without a HEAD until an hour before that
day is out; from then on each object is looked for first, and a job whose video is gone reads as
expired."""

from datetime import UTC, datetime, timedelta

from functions.adapters.storage import R2Storage
from functions.core import jobs
from functions.core.paths import job_path
from functions.handlers import jobs_api
from functions.store import Decision
from schemas.documents import JobDoc
from schemas.generation import GenerationOutput, still_keys
from schemas.jobs import JobStatus
from tests.unit.fakes import make_deps


class _Call:
    user_id = "user_a"

    def __init__(self, job_id: str) -> None:
        self.params = {"jobId": job_id}


def _done(deps, job_id: str, age: timedelta = timedelta(0)) -> GenerationOutput:
    """A done job created ``age`` ago, finished now, with its video, poster and preview in the bucket."""
    now = deps.now()
    poster_key, preview_key = still_keys(f"videos/{job_id}.mp4")
    output = GenerationOutput(r2_key=f"videos/{job_id}.mp4", duration_sec=5, frames=121, width=1280, height=704, fps=24, seed=1,
                              model="test", poster_key=poster_key, preview_key=preview_key)
    job = JobDoc(job_id=job_id, user_id="user_a", status=JobStatus.DONE, prompt="a storm", duration_sec=5, credits=1,
                 created_at=now - age, updated_at=now, output=output, expires_at=now - age + timedelta(hours=24, minutes=5))
    deps.store.decide([job_path(job_id)], lambda docs: Decision([jobs.put(job_path(job_id), job)]))
    for key in output.keys:
        deps.storage.put(key, b"x", "application/octet-stream")
    return output


def test_a_fresh_jobs_links_are_signed_without_looking_in_the_bucket():
    deps = make_deps()
    _done(deps, "job_new")

    _, view = jobs_api.get_job(_Call("job_new"), deps)

    assert view.video is not None and view.poster_url and view.preview_url
    assert deps.storage.looked_up == []


def test_near_the_lifecycle_age_every_link_is_signed_only_after_its_object_is_seen():
    deps = make_deps()
    output = _done(deps, "job_old", age=timedelta(hours=23, minutes=30))

    _, view = jobs_api.get_job(_Call("job_old"), deps)

    assert view.video is not None and view.poster_url and view.preview_url
    assert sorted(deps.storage.looked_up) == sorted(output.keys)


def test_a_video_deleted_early_by_the_lifecycle_is_not_offered_and_the_job_reads_expired():
    deps = make_deps()
    _done(deps, "job_kept", age=timedelta(hours=23, minutes=30))
    _done(deps, "job_gone", age=timedelta(hours=23, minutes=30))
    deps.storage.delete("videos/job_gone.mp4")  # R2's lifecycle rule ran first

    _, kept = jobs_api.get_job(_Call("job_kept"), deps)
    _, gone = jobs_api.get_job(_Call("job_gone"), deps)

    assert kept.video is not None and kept.status is JobStatus.DONE
    assert gone.video is None and gone.status is JobStatus.EXPIRED
    assert deps.store.get(job_path("job_gone"))["status"] == "expired"


class _Signer:
    """Stands in for boto3's S3 client where R2Storage signs: counts what it signs."""

    def __init__(self) -> None:
        self.signed = 0

    def generate_presigned_url(self, operation, Params, ExpiresIn):  # noqa: N803 - boto3's names
        self.signed += 1
        return f"https://r2.example/{Params['Key']}?n={self.signed}&expires={ExpiresIn}"


def test_a_link_is_reused_while_it_expires_within_five_minutes_of_what_is_asked_and_never_after_it():
    signer = _Signer()
    storage = R2Storage("http://127.0.0.1:9", "id", "secret", "bucket", client=signer)
    t0 = datetime(2026, 12, 2, 12, tzinfo=UTC)
    first = storage.sign_get("videos/a.mp4", t0 + timedelta(hours=1), t0)
    assert (first.expires_at, signer.signed) == (t0 + timedelta(hours=1), 1)

    later = t0 + timedelta(minutes=4)
    assert storage.sign_get("videos/a.mp4", later + timedelta(hours=1), later) == first  # the same URL, its own expiry
    assert storage.sign_get("videos/b.mp4", later + timedelta(hours=1), later) != first  # per object

    past_reuse = t0 + timedelta(minutes=6)
    fresh = storage.sign_get("videos/a.mp4", past_reuse + timedelta(hours=1), past_reuse)
    assert fresh != first and fresh.expires_at == past_reuse + timedelta(hours=1)

    sooner = t0 + timedelta(minutes=30)  # the video expires sooner than the cached link would: never outlive it
    short = storage.sign_get("videos/a.mp4", sooner, past_reuse)
    assert short.expires_at <= sooner and short != fresh
