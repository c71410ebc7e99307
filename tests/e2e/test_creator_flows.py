"""Creator features through HTTP on the local stack (test worker): the money and the lineage of
extend, remix and storyboards, posters beside the video, and refusals that charge nothing."""

import io

import pytest
import requests
from PIL import Image

from cli.api import ApiError
from tests.helpers import assert_ledger_balanced, wait_until

pytestmark = pytest.mark.e2e


def finished(user, job_id: str) -> dict:
    return wait_until(lambda: (job := user.client.job(job_id))["status"] in ("done", "failed", "rejected") and job,
                      what=f"job {job_id} to end")


def test_extending_a_5_s_clip_by_5_s_makes_a_241_frame_video_and_charges_1_credit(make_user, store):
    user = make_user(credits=2)
    parent = finished(user, user.client.create_job("a paper plane over a city", 5, aspect_ratio="9:16")["jobId"])
    child_id = user.client.extend(parent["jobId"], 5)["jobId"]
    child = finished(user, child_id)
    assert child["status"] == "done" and child["credits"] == 1
    assert (child["video"]["frames"], child["video"]["durationSec"]) == (241, 10)
    assert (child["video"]["width"], child["video"]["height"]) == (704, 1280)  # the parent's frame
    assert user.client.credits()["balance"] == 0  # 1 for the clip, 1 for the 5 s added
    assert [c["jobId"] for c in user.client.job(parent["jobId"])["children"]] == [child_id]
    assert_ledger_balanced(store, user.user_id)


def test_a_remix_keeps_the_parents_seed_and_duration(make_user, store):
    user = make_user(credits=4)
    parent = finished(user, user.client.create_job("a koi pond", 10, seed=99)["jobId"])
    child = finished(user, user.client.remix(parent["jobId"], "a koi pond at night")["jobId"])
    assert (child["seed"], child["durationSec"], child["credits"], child["parentJobId"]) == (99, 10, 2, parent["jobId"])
    assert user.client.credits()["balance"] == 0
    assert_ledger_balanced(store, user.user_id)


def test_a_three_shot_15_s_storyboard_is_one_361_frame_clip(make_user):
    user = make_user(credits=3)
    shots = [{"prompt": "a seed in the soil"}, {"prompt": "a sprout breaks through"}, {"prompt": "a sunflower opens"}]
    created = user.client.json("POST", "/jobs/create", json={"durationSec": 15, "shots": shots})
    job = finished(user, created["jobId"])
    assert job["video"]["frames"] == 361 and job["shots"] == shots and job["credits"] == 3


def test_a_done_jobs_poster_is_a_jpeg_of_the_clips_size_and_its_preview_loads(make_user):
    user = make_user(credits=1)
    job = finished(user, user.client.create_job("a neon sign flickers", 5, aspect_ratio="9:16")["jobId"])
    poster = requests.get(job["posterUrl"], timeout=10)
    assert poster.ok and Image.open(io.BytesIO(poster.content)).format == "JPEG"
    assert Image.open(io.BytesIO(poster.content)).size == (job["video"]["width"], job["video"]["height"]) == (704, 1280)
    preview = Image.open(io.BytesIO(requests.get(job["previewUrl"], timeout=10).content))
    assert preview.format == "WEBP" and preview.is_animated


@pytest.mark.parametrize("make_parent, extension, field, status", [
    ("[fail] a storm", {"durationSec": 5}, "jobId", 409),      # a failed parent
    ("a calm sea", {"durationSec": 15, "_parent_sec": 15, "_again": True}, "durationSec", 422),  # past 30 s
    ("a calm sea", {"durationSec": 7}, "durationSec", 422),    # not 5, 10 or 15
])
def test_a_refused_extension_names_the_field_and_charges_nothing(make_user, store, make_parent, extension, field, status):
    user = make_user(credits=9)
    parent = finished(user, user.client.create_job(make_parent, extension.pop("_parent_sec", 5))["jobId"])
    if extension.pop("_again", False):  # 15 s + 15 s = 30 s: allowed once, then the next one is refused
        parent = finished(user, user.client.extend(parent["jobId"], 15)["jobId"])
    before = user.client.credits()["balance"]
    with pytest.raises(ApiError) as refused:
        user.client.json("POST", f"/jobs/{parent['jobId']}/extend", json=extension)
    assert refused.value.status == status and refused.value.body["error"]["field"] == field
    assert user.client.credits()["balance"] == before
    assert_ledger_balanced(store, user.user_id)


@pytest.mark.parametrize("body, field", [
    ({"prompt": "x", "durationSec": 5, "aspectRatio": "4:3"}, "aspectRatio"),
    ({"durationSec": 15, "shots": [{"prompt": "a"}, {"prompt": "b"}]}, "shots"),
])
def test_bad_creator_input_is_a_422_naming_the_field_and_makes_no_job(make_user, body, field):
    user = make_user(credits=3)
    with pytest.raises(ApiError) as refused:
        user.client.json("POST", "/jobs/create", json=body)
    assert refused.value.status == 422 and refused.value.body["error"]["field"] == field
    assert user.client.jobs()["jobs"] == [] and user.client.credits()["balance"] == 3
