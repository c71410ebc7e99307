"""How a job's progress reads in the CLI: the segment, the stage and the step."""

import io

from cli.progress import ProgressBar
from schemas.api import JobView
from schemas.documents import JobProgress


def test_a_long_clip_names_the_segment_and_the_step():
    progress = JobProgress(stage="denoising", percent=40, step=14, steps=50, segment=2, segments=3)

    assert progress.describe() == "segment 2 of 3, denoising 14/50"


def test_a_one_segment_clip_names_only_the_stage_and_step():
    assert JobProgress(stage="denoising", percent=20, step=3, steps=50, segment=1, segments=1).describe() == "denoising 3/50"
    assert JobProgress(stage="uploading", percent=98).describe() == "uploading"


def test_the_cli_bar_shows_the_segment():
    out = io.StringIO()
    job = JobView.model_validate({
        "jobId": "job_1", "status": "running", "prompt": "p", "durationSec": 15, "credits": 3,
        "createdAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-01T00:00:00Z",
        "progress": {"stage": "decoding", "percent": 61, "segment": 2, "segments": 3},
    })

    ProgressBar(out).update(job)

    assert " 61% running  segment 2 of 3, decoding" in out.getvalue()
