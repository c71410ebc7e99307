"""The product contract at full size on the CPU model: 1280x704 (or 704x1280), 121 frames, 24 fps."""

import pytest

from tests.worker.helpers import download_video, image_bytes, job_input
from worker_image.handler import make_handler
from worker_image.worker import VideoWorker

pytestmark = pytest.mark.slow


@pytest.fixture
def full_size(worker, settings_for, progress):
    full = VideoWorker(settings_for(video_width=1280, video_height=704), model=worker.model)
    return make_handler(full, send_progress=progress)


def test_a_5_s_text_to_video_clip_is_1280x704_121_frames_at_24_fps(full_size, s3, bucket_name, tmp_path):
    result = full_size({"id": "rp-full-1", "input": job_input(seed=1)})

    assert (result["width"], result["height"], result["frames"], result["fps"]) == (1280, 704, 121, 24)
    video = download_video(s3, bucket_name, result["r2Key"], tmp_path)
    assert (video.frames.shape, video.fps) == ((121, 704, 1280, 3), 24)


def test_a_portrait_image_gives_a_704x1280_clip(full_size, s3, bucket_name, tmp_path):
    s3.put_object(Bucket=bucket_name, Key="inputs/portrait-full.jpg", Body=image_bytes(900, 1600, "JPEG"))

    result = full_size({"id": "rp-full-2", "input": job_input(image={"r2Key": "inputs/portrait-full.jpg"})})

    assert (result["width"], result["height"], result["frames"]) == (704, 1280, 121)
    video = download_video(s3, bucket_name, result["r2Key"], tmp_path)
    assert (video.frames.shape, video.fps) == ((121, 1280, 704, 3), 24)


def test_a_15_s_clip_is_three_segments_in_one_1280x704_file_of_361_frames(full_size, s3, bucket_name, tmp_path):
    result = full_size({"id": "rp-full-3", "input": job_input(duration=15, seed=2)})

    assert (result["width"], result["height"], result["frames"], result["fps"]) == (1280, 704, 361, 24)
    video = download_video(s3, bucket_name, result["r2Key"], tmp_path)
    assert (video.frames.shape, video.fps) == ((361, 704, 1280, 3), 24)
