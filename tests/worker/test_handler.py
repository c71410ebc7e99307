"""The RunPod handler end to end on the tiny model: job input in, MP4 in the bucket, result out.

Small frames (128x64) keep each job to about a second; the frame count is always the contract's.
"""

import numpy as np
import pytest
import torch

from schemas.generation import GenerationOutput, GenerationStage
from tests.worker.helpers import download_video, image_bytes, job_input
from worker_image.handler import make_handler
from worker_image.tiny import TINY_MODEL_LABEL
from worker_image.worker import VideoWorker


def test_text_to_video_uploads_an_mp4_with_the_exact_frames_size_and_fps(handle, s3, bucket_name, tmp_path):
    request = job_input(seed=11)

    result = handle(request)

    output = GenerationOutput.model_validate(result)
    assert (output.r2_key, output.duration_sec, output.frames) == (request["outputKey"], 5, 121)
    assert (output.width, output.height, output.fps, output.seed) == (128, 64, 24, 11)
    assert output.model == TINY_MODEL_LABEL
    assert {"encodePromptS", "denoiseS", "decodeS", "encodeVideoS", "uploadS", "totalS"} <= output.timings.keys()
    video = download_video(s3, bucket_name, output.r2_key, tmp_path)
    assert video.frames.shape == (121, 64, 128, 3)
    assert video.fps == 24
    assert video.content_type == "video/mp4"


def test_a_ten_second_clip_has_241_frames(handle, s3, bucket_name, tmp_path):
    result = handle(job_input(duration=10))

    assert result["frames"] == 241
    assert download_video(s3, bucket_name, result["r2Key"], tmp_path).frames.shape[0] == 241


def test_the_same_seed_gives_the_same_frames_and_another_seed_does_not(handle, s3, bucket_name, tmp_path):
    first, again, other = (handle(job_input(seed=seed)) for seed in (5, 5, 6))

    frames = [download_video(s3, bucket_name, r["r2Key"], tmp_path).frames for r in (first, again, other)]
    assert np.array_equal(frames[0], frames[1])
    assert not np.array_equal(frames[0], frames[2])


def test_without_a_seed_one_is_chosen_and_returned(handle):
    assert 0 <= handle(job_input())["seed"] < 2**32


@pytest.mark.parametrize(
    ("size", "expected"),
    [((400, 300), (64, 128)), ((300, 400), (128, 64)), ((256, 256), (64, 128))],
    ids=["landscape", "portrait", "square"],
)
def test_image_to_video_takes_its_orientation_from_the_image(handle, s3, bucket_name, tmp_path, size, expected):
    key = f"inputs/{size[0]}x{size[1]}.png"
    s3.put_object(Bucket=bucket_name, Key=key, Body=image_bytes(*size))

    result = handle(job_input(image={"r2Key": key}, seed=3))

    assert (result["height"], result["width"]) == expected
    video = download_video(s3, bucket_name, result["r2Key"], tmp_path)
    assert video.frames.shape == (121, *expected, 3)


def test_progress_is_reported_in_order_for_every_step_and_ends_at_100(handle, progress, worker):
    handle(job_input())

    percents = [update["percent"] for update in progress.updates]
    stages = [update["stage"] for update in progress.updates]
    assert percents == sorted(percents)
    assert percents[-1] == 100
    assert list(dict.fromkeys(stages)) == [
        GenerationStage.ENCODING_PROMPT, GenerationStage.DENOISING, GenerationStage.DECODING,
        GenerationStage.ENCODING_VIDEO, GenerationStage.UPLOADING,
    ]
    steps = [(u["step"], u["steps"]) for u in progress.updates if "step" in u]
    assert steps == [(i, worker.model.steps) for i in range(1, worker.model.steps + 1)]


def test_progress_starts_with_loading_the_image_for_image_to_video(handle, progress, s3, bucket_name):
    s3.put_object(Bucket=bucket_name, Key="inputs/progress.png", Body=image_bytes(64, 64))

    handle(job_input(image={"r2Key": "inputs/progress.png"}))

    assert progress.updates[0] == {"stage": "loading-image", "percent": 0}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"durationSec": 7}, "durationSec: Input should be 5, 10 or 15"),
        ({"prompt": ""}, "prompt: String should have at least 1 character"),
        ({"outputKey": "elsewhere/x.mp4"}, "outputKey: String should match pattern"),
        ({"image": {"url": "https://example.com/a.png"}}, "image.url: Extra inputs are not permitted"),
        ({"extra": 1}, "extra: Extra inputs are not permitted"),
    ],
    ids=["duration-7", "empty-prompt", "output-key", "an-image-url-is-never-fetched-by-the-worker", "unknown-field"],
)
def test_invalid_input_fails_the_job_with_a_clear_message(handle, progress, change, message):
    result = handle({**job_input(), **change})

    assert result.keys() == {"error"}
    assert result["error"].startswith("invalid input: ")
    assert message in result["error"]
    assert progress.updates == []


def test_a_file_that_is_not_an_image_is_refused(handle, s3, bucket_name):
    s3.put_object(Bucket=bucket_name, Key="inputs/notes.png", Body=b"just some text, named like a picture")

    result = handle(job_input(image={"r2Key": "inputs/notes.png"}))

    assert result == {"error": "invalid input: the image is not a PNG, JPEG or WebP file"}


def test_a_missing_input_object_is_refused(handle):
    result = handle(job_input(image={"r2Key": "inputs/never-uploaded.png"}))

    assert result == {"error": "invalid input: no image at inputs/never-uploaded.png in the bucket"}


def test_a_crash_fails_the_job_and_the_worker_takes_the_next_one(worker, settings_for, progress, handle):
    broken = VideoWorker(settings_for(r2_bucket="no-such-bucket"), model=worker.model)
    crashing = make_handler(broken, send_progress=progress)

    failed = crashing({"id": "rp-1", "input": job_input()})
    assert failed.keys() == {"error"}
    assert failed["error"].startswith("worker error: ")
    assert "NoSuchBucket" in failed["error"]

    assert "error" not in handle(job_input())


class _OutOfMemoryOnce:
    """A bucket (our own port) whose first upload hits CUDA's out-of-memory error."""

    def __init__(self, real):
        self.real, self.failed = real, False

    def read(self, key: str, max_bytes: int) -> bytes:
        return self.real.read(key, max_bytes)

    def upload_video(self, path, key: str) -> None:
        if not self.failed:
            self.failed = True
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 3.75 GiB.\nmore details")
        self.real.upload_video(path, key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.real.put(key, data, content_type)

    def download(self, key: str, path) -> None:
        self.real.download(key, path)


def test_out_of_memory_fails_the_job_with_the_reason_and_the_next_job_runs(worker, settings_for, s3, bucket_name):
    flaky = VideoWorker(settings_for(), bucket=_OutOfMemoryOnce(worker.bucket), model=worker.model)
    handler = make_handler(flaky, send_progress=lambda job, update: None)

    failed = handler({"id": "rp-1", "input": job_input()})
    retried = handler({"id": "rp-2", "input": job_input()})

    assert failed == {"error": "out of GPU memory: CUDA out of memory. Tried to allocate 3.75 GiB."}
    assert s3.head_object(Bucket=bucket_name, Key=retried["r2Key"])["ContentType"] == "video/mp4"


def test_the_first_job_after_setup_reports_a_cold_start_and_the_gpu_runpod_named(worker, settings_for, progress):
    url = "http://127.0.0.1:1/v2/e/job-take/$ID?gpu=NVIDIA%20L40S"
    fresh = VideoWorker(settings_for(runpod_webhook_get_job=url), bucket=worker.bucket, load=lambda s: worker.model)
    fresh.setup()
    handler = make_handler(fresh, send_progress=progress)
    first, second = (handler({"id": f"rp-{n}", "input": job_input(seed=1)}) for n in range(2))
    assert "error" not in first, first
    assert (first["coldStart"], first["gpuType"], second["coldStart"], second["gpuType"]) == (True, "NVIDIA L40S", False, "NVIDIA L40S")
    assert first["setupS"] >= 0 and "setupS" not in second
