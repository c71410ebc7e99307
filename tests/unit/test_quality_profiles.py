"""The quality profile on a job: accepted, stored, priced, sent to the worker, shown; fast refused
where its weights are not deployed, before anything is written."""

import io
from datetime import timedelta

import flask
import pytest

from functions.core import jobs
from functions.core.paths import job_path
from functions.core.plans import CREDITS_PER_SEGMENT, clip_credits
from functions.handlers.submission import generation_input
from functions.http.endpoint import serve
from functions.adapters.clerk import Principal
from functions.store import Decision
from schemas.documents import JobDoc
from schemas.generation import GenerationOutput
from schemas.jobs import JobStatus, Quality
from tests.unit.fakes import make_deps
from tests.unit.test_creator_jobs import HANDLERS, USER, call, stored_jobs
from tests.worker.helpers import image_bytes


@pytest.mark.parametrize(("duration", "credits"), [(5, 1), (10, 2), (15, 3)])
def test_a_fast_job_is_stored_priced_sent_and_shown_as_fast(duration, credits):
    deps = make_deps(fast_weights_deployed=True)

    status, body = call(deps, "create_job", "/jobs/create", {"prompt": "a fox", "durationSec": duration, "quality": "fast"})

    assert status == 202
    [job] = stored_jobs(deps)
    assert (job.quality, job.credits) == (Quality.FAST, credits)
    assert generation_input(job).to_wire()["quality"] == "fast"
    _, view = call(deps, "get_job", f"/jobs/{body['jobId']}", method="GET")
    assert view["quality"] == "fast" and view["credits"] == credits


def test_without_a_quality_the_job_is_standard():
    deps = make_deps()

    call(deps, "create_job", "/jobs/create", {"prompt": "a fox", "durationSec": 15})

    [job] = stored_jobs(deps)
    assert (job.quality, job.credits) == (Quality.STANDARD, 3)
    assert generation_input(job).to_wire()["quality"] == "standard"


def test_fast_is_refused_with_a_422_naming_quality_where_its_weights_are_not_deployed():
    deps = make_deps(fast_weights_deployed=False)

    status, body = call(deps, "create_job", "/jobs/create", {"prompt": "a fox", "durationSec": 5, "quality": "fast"})

    assert status == 422
    assert body["error"]["code"] == "quality_unavailable" and body["error"]["field"] == "quality"
    assert "fast" in body["error"]["message"]
    assert stored_jobs(deps) == [] and deps.publisher.events == []


def test_a_refused_fast_upload_writes_no_image():
    deps = make_deps(fast_weights_deployed=False)
    request = flask.Request.from_values(
        path="/jobs/create", method="POST", headers={"Authorization": "Bearer t"},
        data={"prompt": "a fox", "durationSec": "5", "quality": "fast", "image": (io.BytesIO(image_bytes(64, 64)), "a.png")},
    )

    response = serve(request, "create_job", lambda c: HANDLERS["create_job"](c, deps),
                     authenticate=lambda token: Principal(USER, False), allowed_origins=())

    assert response.status_code == 422
    assert deps.storage.objects == {}


def test_an_unknown_quality_is_refused_naming_the_field():
    status, body = call(make_deps(), "create_job", "/jobs/create", {"prompt": "a fox", "durationSec": 5, "quality": "ultra"})

    assert status in (400, 422) and body["error"]["field"] == "quality"


def test_a_remix_keeps_its_parents_quality_and_is_refused_once_fast_is_withdrawn():
    deps = make_deps(fast_weights_deployed=True)
    now = deps.now()
    parent = JobDoc(job_id="job_fastparent", user_id=USER, status=JobStatus.DONE, prompt="a fox", duration_sec=5,
                    credits=1, quality=Quality.FAST, created_at=now, updated_at=now, expires_at=now + timedelta(hours=1),
                    output=GenerationOutput(r2_key="videos/job_fastparent.mp4", duration_sec=5, frames=121,
                                            width=1280, height=704, fps=24, seed=1, model="test"))
    deps.store.decide([job_path(parent.job_id)], lambda docs: Decision([jobs.put(job_path(parent.job_id), parent)]))

    status, _ = call(deps, "remix_job", "/jobs/job_fastparent/remix", {"prompt": "a wolf"})
    assert status == 202
    assert [j.quality for j in stored_jobs(deps) if j.job_id != parent.job_id] == [Quality.FAST]

    withdrawn = make_deps(fast_weights_deployed=False)
    withdrawn.store = deps.store
    status, body = call(withdrawn, "remix_job", "/jobs/job_fastparent/remix", {"prompt": "a bear"})
    assert (status, body["error"]["code"]) == (422, "quality_unavailable")


def test_both_profiles_cost_one_credit_a_segment():
    assert dict(CREDITS_PER_SEGMENT) == {Quality.STANDARD: 1, Quality.FAST: 1}
    assert [clip_credits(d, Quality.FAST) for d in (5, 10, 15)] == [1, 2, 3]
