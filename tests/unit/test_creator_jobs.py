"""Aspect ratio, negative prompt and remix through the real endpoint wrapper, on the in-memory store."""

import json
from datetime import timedelta

import flask
import pytest

from functions.adapters.clerk import Principal
from functions.core import jobs
from functions.core.paths import JOBS, job_path, user_path
from functions.handlers import create_job, jobs_api, lineage
from functions.handlers.submission import generation_input
from functions.http.endpoint import serve
from functions.store import Decision, Query
from functions.store.meter import ReadMeter
from schemas.documents import JobDoc, UserDoc
from schemas.generation import GenerationOutput, ImageSource
from schemas.jobs import JobStatus
from tests.unit.fakes import make_deps

HANDLERS = {"create_job": create_job.create_job, "remix_job": lineage.remix_job, "extend_job": lineage.extend_job,
            "get_job": jobs_api.get_job}
USER = "user_creator"


@pytest.fixture
def deps():
    return make_deps(blocked_terms="forbiddenword")


def call(deps, function: str, path: str, body: dict | None = None, method: str = "POST", user: str = USER) -> tuple[int, dict]:
    request = flask.Request.from_values(path=path, method=method, headers={"Authorization": "Bearer t"},
                                        data=json.dumps(body) if body is not None else None, content_type="application/json")
    response = serve(request, function, lambda c: HANDLERS[function](c, deps),
                     authenticate=lambda token: Principal(user, False), allowed_origins=())
    return response.status_code, json.loads(response.get_data())


def stored_jobs(deps) -> list[JobDoc]:
    return [JobDoc.from_document(data) for _, data in deps.store.query(Query(JOBS))]


def done_parent(deps, job_id="job_parent", width=704, height=1280, seed=777, duration_sec=10, credits=2, **extra) -> JobDoc:
    now = deps.now()
    parent = JobDoc(job_id=job_id, user_id=USER, status=JobStatus.DONE, prompt="a lighthouse", duration_sec=duration_sec,
                    credits=credits, created_at=now, updated_at=now, expires_at=now + timedelta(hours=24),
                    output=GenerationOutput(r2_key=f"videos/{job_id}.mp4", duration_sec=duration_sec,
                                            frames=duration_sec * 24 + 1, width=width, height=height, fps=24, seed=seed,
                                            model="test"), **extra)
    deps.store.decide([job_path(job_id)], lambda docs: Decision([jobs.put(job_path(job_id), parent)]))
    return parent


def test_a_portrait_job_with_a_negative_prompt_carries_both_to_the_worker(deps):
    status, body = call(deps, "create_job", "/jobs/create",
                        {"prompt": "a dancer", "durationSec": 5, "aspectRatio": "9:16", "negativePrompt": "  blurry, static  "})
    assert status == 202
    [job] = stored_jobs(deps)
    assert (job.aspect_ratio, job.negative_prompt) == ("9:16", "blurry, static")
    wire = generation_input(job).to_wire()
    assert wire["aspectRatio"] == "9:16" and wire["negativePrompt"] == "blurry, static"
    status, view = call(deps, "get_job", f"/jobs/{body['jobId']}", method="GET")
    assert view["aspectRatio"] == "9:16" and view["negativePrompt"] == "blurry, static"


@pytest.mark.parametrize("body, field, code", [
    ({"aspectRatio": "4:3"}, "aspectRatio", "invalid_request"),
    ({"aspectRatio": "1:1"}, "aspectRatio", "invalid_request"),
    ({"negativePrompt": "a forbiddenword here"}, "negativePrompt", "prompt_rejected"),
    ({"negativePrompt": "   "}, "negativePrompt", "invalid_prompt"),
    ({"negativePrompt": "x" * 2001}, "negativePrompt", "invalid_request"),
    ({"negativePrompt": "bad\u200bchar"}, "negativePrompt", "invalid_prompt"),
])
def test_a_bad_ratio_or_negative_prompt_is_a_422_naming_it_and_nothing_is_stored(deps, body, field, code):
    status, answer = call(deps, "create_job", "/jobs/create", {"prompt": "a dancer", "durationSec": 5, **body})
    assert status == 422
    assert answer["error"]["field"] == field and answer["error"]["code"] == code
    assert stored_jobs(deps) == [] and deps.publisher.events == []
    assert deps.store.get(user_path(USER)) is None


def test_the_ratio_of_a_text_job_defaults_to_landscape_and_an_image_jobs_follows_its_video(deps):
    call(deps, "create_job", "/jobs/create", {"prompt": "a dancer", "durationSec": 5})
    [job] = stored_jobs(deps)
    assert call(deps, "get_job", f"/jobs/{job.job_id}", method="GET")[1]["aspectRatio"] == "16:9"
    with_image = done_parent(deps, "job_image", width=704, height=1280, image=ImageSource(r2_key="inputs/job_image.png"))
    assert call(deps, "get_job", f"/jobs/{with_image.job_id}", method="GET")[1]["aspectRatio"] == "9:16"


def test_a_remix_keeps_the_parents_seed_duration_ratio_and_image_and_both_pages_link(deps):
    parent = done_parent(deps, image=ImageSource(r2_key="inputs/job_parent.png"), negative_prompt="blurry")
    status, body = call(deps, "remix_job", "/jobs/job_parent/remix", {"prompt": "a lighthouse in a snowstorm"})
    assert status == 202 and body["status"] == "pending"
    child = JobDoc.from_document(deps.store.get(job_path(body["jobId"])))
    assert (child.seed, child.duration_sec, child.credits) == (777, 10, 2)
    assert (child.aspect_ratio, child.image, child.negative_prompt) == ("9:16", parent.image, "blurry")
    assert (child.parent_job_id, child.lineage, child.prompt) == ("job_parent", "remix", "a lighthouse in a snowstorm")
    assert [e.job_id for e in deps.publisher.events] == [child.job_id]  # reserved and charged like any job

    _, parent_view = call(deps, "get_job", "/jobs/job_parent", method="GET")
    assert [(c["jobId"], c["lineage"]) for c in parent_view["children"]] == [(child.job_id, "remix")]
    _, child_view = call(deps, "get_job", f"/jobs/{child.job_id}", method="GET")
    assert (child_view["parentJobId"], child_view["lineage"]) == ("job_parent", "remix")


def _metered_view(deps, job_id: str) -> tuple[dict, int]:
    """The job's page, and the Firestore round trips it took."""
    meter = ReadMeter(deps.store)
    reader = make_deps(adapters={"store": meter, "storage": deps.storage})
    reader.now = deps.now
    status, view = call(reader, "get_job", f"/jobs/{job_id}", method="GET")
    assert status == 200, view
    return view, meter.round_trips


def test_a_new_jobs_page_is_one_round_trip_and_a_parents_lists_its_children_by_id_in_one_more(deps):
    call(deps, "create_job", "/jobs/create", {"prompt": "a dancer", "durationSec": 5})
    [job] = stored_jobs(deps)
    assert job.child_job_ids == ()
    assert _metered_view(deps, job.job_id)[1] == 1

    done_parent(deps, child_job_ids=())
    remix = call(deps, "remix_job", "/jobs/job_parent/remix", {"prompt": "in snow"})[1]["jobId"]
    extension = call(deps, "extend_job", "/jobs/job_parent/extend", {"durationSec": 5})[1]["jobId"]
    assert JobDoc.from_document(deps.store.get(job_path("job_parent"))).child_job_ids == (remix, extension)
    view, round_trips = _metered_view(deps, "job_parent")
    assert [(c["jobId"], c["lineage"], c["status"]) for c in view["children"]] == [
        (remix, "remix", "pending"), (extension, "extend", "pending")]
    assert round_trips == 2


def test_a_parent_lists_at_most_max_children(deps):
    done_parent(deps, child_job_ids=tuple(f"job_c{n}" for n in range(jobs.MAX_CHILDREN)))
    call(deps, "remix_job", "/jobs/job_parent/remix", {"prompt": "one more"})
    assert len(JobDoc.from_document(deps.store.get(job_path("job_parent"))).child_job_ids) == jobs.MAX_CHILDREN


def test_a_remix_may_change_the_seed_and_negative_prompt(deps):
    done_parent(deps)
    _, body = call(deps, "remix_job", "/jobs/job_parent/remix", {"prompt": "again", "seed": 5, "negativePrompt": "text"})
    child = JobDoc.from_document(deps.store.get(job_path(body["jobId"])))
    assert (child.seed, child.negative_prompt) == (5, "text")


def test_a_remix_with_one_idempotency_key_makes_one_job(deps):
    done_parent(deps)
    request = lambda: flask.Request.from_values(path="/jobs/job_parent/remix", method="POST", data=json.dumps({"prompt": "p"}),
                                                content_type="application/json",
                                                headers={"Authorization": "Bearer t", "Idempotency-Key": "k1"})
    answers = [json.loads(serve(request(), "remix_job", lambda c: lineage.remix_job(c, deps),
                                authenticate=lambda t: Principal(USER, False), allowed_origins=()).get_data()) for _ in range(2)]
    assert answers[0]["jobId"] == answers[1]["jobId"]
    assert len(stored_jobs(deps)) == 2  # the parent and one child


@pytest.mark.parametrize("status, code", [(JobStatus.FAILED, "job_not_done"), (JobStatus.RUNNING, "job_not_done"),
                                          (JobStatus.EXPIRED, "job_expired")])
def test_only_a_done_unexpired_clip_can_be_remixed_and_a_refusal_writes_nothing(deps, status, code):
    parent = done_parent(deps)
    deps.store.decide([job_path(parent.job_id)],
                      lambda docs: Decision([jobs.put(job_path(parent.job_id), parent.model_copy(update={"status": status}))]))
    before = deps.store.get(user_path(USER))
    answer_status, answer = call(deps, "remix_job", "/jobs/job_parent/remix", {"prompt": "again"})
    assert answer_status == 409 and answer["error"]["code"] == code and answer["error"]["field"] == "jobId"
    assert len(stored_jobs(deps)) == 1 and deps.publisher.events == [] and deps.store.get(user_path(USER)) == before


def test_a_clip_past_its_expiry_time_cannot_be_remixed_even_before_the_tick_marks_it(deps):
    done_parent(deps)
    deps.now.advance(hours=25)
    status, answer = call(deps, "remix_job", "/jobs/job_parent/remix", {"prompt": "again"})
    assert status == 409 and answer["error"]["code"] == "job_expired"


def test_another_users_clip_cannot_be_remixed(deps):
    done_parent(deps)
    status, answer = call(deps, "remix_job", "/jobs/job_parent/remix", {"prompt": "again"}, user="user_other")
    assert status == 404 and len(stored_jobs(deps)) == 1


def test_a_remix_prompt_passes_the_same_content_policy(deps):
    done_parent(deps)
    status, answer = call(deps, "remix_job", "/jobs/job_parent/remix", {"prompt": "a forbiddenword"})
    assert status == 422 and answer["error"]["field"] == "prompt" and len(stored_jobs(deps)) == 1


def test_a_done_job_shows_its_poster_and_preview_presigned_and_expiry_deletes_them_with_the_video(deps):
    from functions.handlers.expiry import expire_jobs
    from schemas.events import ClockTicked
    from schemas.generation import still_keys

    poster_key, preview_key = still_keys("videos/job_parent.mp4")
    assert (poster_key, preview_key) == ("videos/job_parent.poster.jpg", "videos/job_parent.preview.webp")
    parent = done_parent(deps)
    output = parent.output.model_copy(update={"poster_key": poster_key, "preview_key": preview_key, "content_credentials": True})
    deps.store.decide([job_path(parent.job_id)],
                      lambda docs: Decision([jobs.put(job_path(parent.job_id), parent.model_copy(update={"output": output}))]))
    for key in output.keys:
        deps.storage.put(key, b"x", "application/octet-stream")
    _, view = call(deps, "get_job", "/jobs/job_parent", method="GET")
    assert view["posterUrl"].startswith(f"https://r2.example/{poster_key}?expires=3600")
    assert view["previewUrl"].startswith(f"https://r2.example/{preview_key}?expires=3600")
    assert view["contentCredentials"] is True

    deps.now.advance(hours=25)
    expire_jobs(ClockTicked(occurred_at=deps.now()), deps)
    assert deps.storage.objects == {}
    _, view = call(deps, "get_job", "/jobs/job_parent", method="GET")
    assert view["status"] == "expired" and "posterUrl" not in view and "previewUrl" not in view



def test_extending_a_5_s_clip_by_5_s_charges_1_credit_and_continues_its_video(deps):
    done_parent(deps, duration_sec=5, credits=1)
    parent_output = JobDoc.from_document(deps.store.get(job_path("job_parent"))).output
    status, body = call(deps, "extend_job", "/jobs/job_parent/extend", {"durationSec": 5})
    assert status == 202
    child = JobDoc.from_document(deps.store.get(job_path(body["jobId"])))
    assert (child.duration_sec, child.credits, child.lineage, child.parent_job_id) == (5, 1, "extend", "job_parent")
    assert child.prompt == "a lighthouse" and child.aspect_ratio == "9:16"  # the parent's prompt and frame
    wire = generation_input(child).to_wire()
    assert wire["continues"] == {"videoKey": parent_output.r2_key, "frames": parent_output.frames,
                                 "durationSec": parent_output.duration_sec}
    assert wire["durationSec"] == 5 and "segments" not in wire
    _, parent_view = call(deps, "get_job", "/jobs/job_parent", method="GET")
    assert [(c["jobId"], c["lineage"]) for c in parent_view["children"]] == [(child.job_id, "extend")]


@pytest.mark.parametrize("seconds, more, ok", [(25, 5, True), (25, 10, False), (30, 5, False), (15, 15, True)])
def test_an_extended_video_is_at_most_30_s_and_a_refusal_says_so_and_charges_nothing(deps, seconds, more, ok):
    parent = done_parent(deps)
    output = parent.output.model_copy(update={"duration_sec": seconds, "frames": seconds * 24 + 1})
    deps.store.decide([job_path(parent.job_id)],
                      lambda docs: Decision([jobs.put(job_path(parent.job_id), parent.model_copy(update={"output": output}))]))
    status, body = call(deps, "extend_job", "/jobs/job_parent/extend", {"durationSec": more, "prompt": "onwards"})
    if ok:
        assert status == 202
        return
    assert status == 422 and body["error"]["field"] == "durationSec" and body["error"]["code"] == "video_too_long"
    assert "at most 30 s" in body["error"]["message"]
    assert len(stored_jobs(deps)) == 1 and deps.publisher.events == [] and deps.store.get(user_path(USER)) is None


@pytest.mark.parametrize("status, code", [(JobStatus.FAILED, "job_not_done"), (JobStatus.EXPIRED, "job_expired")])
def test_only_a_done_unexpired_clip_can_be_extended(deps, status, code):
    parent = done_parent(deps)
    deps.store.decide([job_path(parent.job_id)],
                      lambda docs: Decision([jobs.put(job_path(parent.job_id), parent.model_copy(update={"status": status}))]))
    answer_status, answer = call(deps, "extend_job", "/jobs/job_parent/extend", {"durationSec": 5})
    assert answer_status == 409 and answer["error"]["code"] == code and answer["error"]["field"] == "jobId"
    assert len(stored_jobs(deps)) == 1 and deps.publisher.events == []


@pytest.mark.parametrize("body, field", [({"durationSec": 7}, "durationSec"), ({}, "durationSec"),
                                         ({"durationSec": 5, "prompt": "forbiddenword"}, "prompt")])
def test_a_bad_extension_request_names_the_field(deps, body, field):
    done_parent(deps)
    status, answer = call(deps, "extend_job", "/jobs/job_parent/extend", body)
    assert 400 <= status < 500 and answer["error"]["field"] == field and len(stored_jobs(deps)) == 1


def test_a_storyboard_is_one_prompt_per_5_s_segment(deps):
    shots = [{"prompt": "a door opens"}, {"prompt": "a cat walks in"}, {"prompt": " the cat sleeps "}]
    status, body = call(deps, "create_job", "/jobs/create", {"durationSec": 15, "shots": shots})
    assert status == 202
    [job] = stored_jobs(deps)
    assert job.shots == ("a door opens", "a cat walks in", "the cat sleeps") and job.credits == 3
    assert job.prompt == "a door opens / a cat walks in / the cat sleeps"
    wire = generation_input(job).to_wire()
    assert [s["prompt"] for s in wire["segments"]] == list(job.shots)
    _, view = call(deps, "get_job", f"/jobs/{job.job_id}", method="GET")
    assert [s["prompt"] for s in view["shots"]] == list(job.shots)


@pytest.mark.parametrize("body, field, code", [
    ({"durationSec": 15, "shots": [{"prompt": "a"}, {"prompt": "b"}]}, "shots", "invalid_shots"),
    ({"durationSec": 10, "shots": [{"prompt": "a"}, {"prompt": "b"}, {"prompt": "c"}]}, "shots", "invalid_shots"),
    ({"durationSec": 5, "shots": [{"prompt": "a"}, {"prompt": "b"}]}, "shots", "invalid_shots"),
    ({"durationSec": 10, "shots": [{"prompt": "a"}, {"prompt": "a forbiddenword"}]}, "shots.1.prompt", "prompt_rejected"),
    ({"durationSec": 10, "shots": [{"prompt": "a"}, {}]}, "shots.1.prompt", "invalid_request"),
    ({"durationSec": 10}, "prompt", "invalid_request"),
])
def test_a_shot_list_of_the_wrong_length_or_content_is_a_422_naming_it(deps, body, field, code):
    status, answer = call(deps, "create_job", "/jobs/create", body)
    assert status == 422 and answer["error"]["field"] == field and answer["error"]["code"] == code
    assert stored_jobs(deps) == [] and deps.publisher.events == []


def test_an_extension_cannot_be_remixed(deps):
    parent = done_parent(deps, continues={"videoKey": "videos/job_x.mp4", "frames": 121, "durationSec": 5})
    status, answer = call(deps, "remix_job", f"/jobs/{parent.job_id}/remix", {"prompt": "p"})
    assert status == 409 and answer["error"]["field"] == "jobId"
