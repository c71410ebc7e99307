"""10 and 15 s clips as chained 5 s segments, on the tiny model at a small size.

What the pipeline receives is observed by wrapping the model's image-to-video pipeline (our own
``WanModel``, not diffusers), and the frames by a frame observer (the worker's own seam), so the
assertions hold on the exact uint8 frames the encoder got.
"""

import asyncio
import dataclasses
import threading

import botocore.exceptions
import numpy as np
import pytest

from tests.worker.helpers import download_video, job_input
from tests.worker.test_cancellation import run_in_own_loop
from worker_image.handler import cancellable, make_handler
from worker_image.worker import VideoWorker


class RecordingPipeline:
    """Delegates to a diffusers pipeline and keeps the first frame each call was given."""

    def __init__(self, pipe):
        self.pipe, self.images = pipe, []

    def __call__(self, **kwargs):
        self.images.append(np.asarray(kwargs["image"]).copy())
        return self.pipe(**kwargs)


class Frames:
    """A frame observer: every chunk the encoder is given, in order."""

    def __init__(self):
        self.chunks: list[np.ndarray] = []

    def __call__(self, chunk: np.ndarray) -> None:
        self.chunks.append(chunk.copy())

    def all(self) -> np.ndarray:
        return np.concatenate(self.chunks)


@pytest.fixture
def recorded(worker, settings_for):
    """A worker whose image-to-video calls and encoded frames are recorded."""
    image_to_video = RecordingPipeline(worker.model.image_to_video)
    frames = Frames()
    model = dataclasses.replace(worker.model, image_to_video=image_to_video)
    recording = VideoWorker(settings_for(), model=model, frame_observers=[frames])
    return make_handler(recording, send_progress=lambda job, update: None), image_to_video, frames


@pytest.mark.parametrize(("duration", "frames"), [(10, 241), (15, 361)])
def test_a_long_clip_is_one_24_fps_file_with_the_exact_frame_count(handle, s3, bucket_name, tmp_path, duration, frames):
    result = handle(job_input(duration=duration, seed=3))

    assert (result["durationSec"], result["frames"], result["fps"]) == (duration, frames, 24)
    video = download_video(s3, bucket_name, result["r2Key"], tmp_path)
    assert (video.frames.shape, video.fps) == ((frames, 64, 128, 3), 24)


def test_each_segment_starts_on_the_last_frame_of_the_one_before(recorded):
    handler, image_to_video, frames = recorded

    result = handler({"id": "rp-seg", "input": job_input(duration=15, seed=4)})

    assert result["frames"] == 361
    written = frames.all()
    assert written.shape == (361, 64, 128, 3)
    # Segment 1 is text-to-video; segments 2 and 3 get frames 120 and 240, the ends of 1 and 2.
    assert len(image_to_video.images) == 2
    assert np.array_equal(image_to_video.images[0], written[120])
    assert np.array_equal(image_to_video.images[1], written[240])


def test_the_same_seed_gives_the_same_long_clip_and_another_seed_does_not(recorded):
    handler, _, frames = recorded
    clips = []
    for seed in (8, 8, 9):
        frames.chunks.clear()
        handler({"id": f"rp-{seed}", "input": job_input(duration=10, seed=seed)})
        clips.append(frames.all())

    assert np.array_equal(clips[0], clips[1])
    assert not np.array_equal(clips[0], clips[2])


def test_progress_is_one_monotonic_scale_over_every_segment(handle, progress, worker):
    handle(job_input(duration=15))

    updates = progress.updates
    percents = [u["percent"] for u in updates]
    assert percents == sorted(percents) and percents[-1] == 100
    named = [u for u in updates if u["stage"] in ("denoising", "decoding")]
    assert all(u["segments"] == 3 for u in named)
    assert list(dict.fromkeys(u["segment"] for u in named)) == [1, 2, 3]
    for segment in (1, 2, 3):
        steps = [u["step"] for u in named if u["segment"] == segment and "step" in u]
        assert steps == list(range(1, worker.model.steps + 1))
    # Each segment starts further along than the one before ended its denoising.
    first_step = {s: next(u["percent"] for u in named if u["segment"] == s and u.get("step") == 1) for s in (1, 2, 3)}
    assert first_step[1] < first_step[2] < first_step[3]
    assert all("segment" not in u for u in updates if u["stage"] in ("encoding-video", "uploading"))


def test_a_cancel_during_segment_2_stops_it_at_the_next_step(worker, settings_for, s3, bucket_name):
    seen, reached, canceled = [], threading.Event(), threading.Event()

    def send_progress(job, update):
        seen.append(update)
        if update.get("segment") == 2 and update.get("step") == 1:
            reached.set()
            canceled.wait(30)  # hold segment 2 here until RunPod's stop has reached the handler

    handler = cancellable(VideoWorker(settings_for(wan_tiny_steps=3), model=worker.model), send_progress=send_progress)
    job = {"id": "rp-cancel", "input": job_input(duration=15)}

    async def scenario() -> None:
        task = asyncio.create_task(handler(job))
        assert await asyncio.to_thread(reached.wait, 30)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        canceled.set()

    run_in_own_loop(scenario)  # returns once the generation thread has ended
    assert seen[-1]["segment"] == 2 and seen[-1]["step"] == 1  # nothing was reported after the stop
    with pytest.raises(botocore.exceptions.ClientError):
        s3.head_object(Bucket=bucket_name, Key=job["input"]["outputKey"])
