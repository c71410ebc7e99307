"""A video R2's lifecycle deleted before our own expiry is never offered as a download: the link is
signed only after the object is seen in the bucket, and the job then reads as expired."""

from datetime import timedelta

from functions.core import jobs
from functions.core.paths import job_path
from functions.handlers import jobs_api
from functions.store import Decision
from schemas.documents import JobDoc
from schemas.generation import GenerationOutput
from schemas.jobs import JobStatus
from tests.unit.fakes import make_deps


class _Call:
    user_id = "user_a"

    def __init__(self, job_id: str) -> None:
        self.params = {"jobId": job_id}


def _done(deps, job_id: str) -> None:
    now = deps.now()
    output = GenerationOutput(r2_key=f"videos/{job_id}.mp4", duration_sec=5, frames=121, width=1280, height=704, fps=24, seed=1,
                              model="test")
    job = JobDoc(job_id=job_id, user_id="user_a", status=JobStatus.DONE, prompt="a storm", duration_sec=5, credits=1,
                 created_at=now, updated_at=now, output=output, expires_at=now + timedelta(hours=24))
    deps.store.decide([job_path(job_id)], lambda docs: Decision([jobs.put(job_path(job_id), job)]))
    deps.storage.put(output.r2_key, b"mp4", "video/mp4")


def test_a_video_deleted_early_by_the_lifecycle_is_not_offered_and_the_job_reads_expired():
    deps = make_deps()
    _done(deps, "job_kept")
    _done(deps, "job_gone")
    deps.storage.delete("videos/job_gone.mp4")  # R2's lifecycle rule ran first

    _, kept = jobs_api.get_job(_Call("job_kept"), deps)
    _, gone = jobs_api.get_job(_Call("job_gone"), deps)

    assert kept.video is not None and kept.status is JobStatus.DONE
    assert gone.video is None and gone.status is JobStatus.EXPIRED
    assert deps.store.get(job_path("job_gone"))["status"] == "expired"
