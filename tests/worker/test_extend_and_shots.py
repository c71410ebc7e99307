"""Extend and storyboards on the tiny model: the parent's frames, then the new segments, in one MP4."""

import numpy as np

from tests.worker.helpers import download_video, job_input


def test_extending_a_5_s_clip_by_5_s_gives_the_clip_then_120_new_frames(handle, s3, bucket_name, tmp_path):
    parent = handle(job_input(seed=21, aspectRatio="9:16"))
    child = handle(job_input(prompt="the camera pulls back", seed=22, aspectRatio="9:16",
                             continues={"videoKey": parent["r2Key"], "frames": 121, "durationSec": 5}))

    assert (child["frames"], child["durationSec"], child["width"], child["height"]) == (241, 10, 64, 128)
    before = download_video(s3, bucket_name, parent["r2Key"], tmp_path).frames
    after = download_video(s3, bucket_name, child["r2Key"], tmp_path).frames
    assert after.shape == (241, 128, 64, 3)
    # The first 121 frames are the parent's (re-encoded once more: close, not bit-exact).
    assert np.abs(after[:121].astype(int) - before.astype(int)).mean() < 6
    assert np.abs(after[121:].astype(int) - before[-1].astype(int)).mean() > 0  # new frames follow


def test_an_extension_of_a_missing_video_fails_as_bad_input(handle):
    result = handle(job_input(continues={"videoKey": "videos/gone.mp4", "frames": 121, "durationSec": 5}))
    assert result["error"].startswith("invalid input: no video at videos/gone.mp4")


def test_an_extension_whose_parent_has_other_frames_than_recorded_fails(handle):
    parent = handle(job_input(seed=23))
    result = handle(job_input(continues={"videoKey": parent["r2Key"], "frames": 100, "durationSec": 5}))
    assert "has 121 frames, not the 100" in result["error"]


def test_a_three_shot_storyboard_is_one_15_s_clip_of_361_frames(handle, s3, bucket_name, tmp_path):
    shots = [{"prompt": "a door opens"}, {"prompt": "a cat walks in"}, {"prompt": "the cat sleeps"}]
    result = handle(job_input(prompt="a door opens", duration=15, segments=shots, seed=5))
    assert result["frames"] == 361
    assert download_video(s3, bucket_name, result["r2Key"], tmp_path).frames.shape[0] == 361
