"""A trivial RunPod handler for pipeline tests, run by the real SDK loop: ``python -m devstack.test_worker``.

It reads a ``GenerationInput``, reports progress, writes a tiny placeholder (not a video) to the
bucket at ``outputKey``, a real poster and preview beside it (of two flat frames, through the
worker's own ``Stills``) and returns a ``GenerationOutput`` with ``model="test-handler"`` (of the
size the real worker would make: 704x1280 for ``aspectRatio`` 9:16, else 1280x704).
Bucket settings come from ``R2_ENDPOINT_URL``, ``R2_ACCESS_KEY_ID``, ``R2_SECRET_ACCESS_KEY``,
``R2_BUCKET``; the RunPod ones from ``devstack.runpod_standin.worker_env``.

Switches in the prompt drive it:
    ``[fail]``    returns ``{"error": ...}``: the job ends FAILED with that error, nothing uploaded.
    ``[refuse:image_refused]``, ``[refuse:output_refused]``  fails as the real worker does when its
                  moderation refuses the conditioning image or an output frame (``[code] message``).
    ``[crash]``   raises: the SDK reports FAILED with the exception's type, message and traceback.
    ``[slow:N]``  takes N seconds (a float) before uploading, reporting progress every second;
                  it awaits, so a cancel or timeout (job-stop) interrupts it at once.
"""

import asyncio
import os
import random
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

import boto3
import numpy as np
import runpod
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas.generation import (
    MAX_SEED,
    GenerationInput,
    GenerationOutput,
    GenerationProgress,
    GenerationStage,
    WorkerFailure,
    failure_text,
    still_keys,
)
from schemas.jobs import FPS, frames_after, frames_for, is_portrait
from worker_image.stills import Stills
from worker_image.gpu import runpod_gpu

_STARTED = time.monotonic()  # the process started: its first job met a cold worker
MODEL = "test-handler"
WIDTH, HEIGHT = 1280, 704
_SLOW = re.compile(r"\[slow:(\d+(?:\.\d+)?)\]")
_REFUSE = re.compile(r"\[refuse:([a-z_]+)\]")

PutObject = Callable[[str, bytes, str], None]  # (key, body, content type)
Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


class BucketSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="R2_")

    endpoint_url: str
    access_key_id: str
    secret_access_key: str
    bucket: str


def make_handler(put_object: PutObject, gpu_type: str | None = None, setup_s: float | None = None) -> Handler:
    """``setup_s``: how long the worker took to get ready; its first job reports a cold start."""
    cold_setup_s = [setup_s]  # emptied by the first job

    async def handler(job: dict[str, Any]) -> dict[str, Any]:
        started = time.monotonic()
        request = GenerationInput.model_validate(job["input"])
        if "[crash]" in request.prompt:
            raise RuntimeError("test handler crashed on purpose ([crash])")
        if "[fail]" in request.prompt:
            return {"error": "test handler failed on purpose ([fail])"}
        if refuse := _REFUSE.search(request.prompt):
            return {"error": failure_text(WorkerFailure(refuse[1]), "refused by moderation on purpose (test handler)")}
        _progress(job, GenerationStage.DENOISING, 0)
        if slow := _SLOW.search(request.prompt):
            await _take_time(job, float(slow[1]))
        _progress(job, GenerationStage.UPLOADING, 90)
        setup = cold_setup_s.pop() if cold_setup_s else None
        body = f"cineweave test-handler placeholder for job {request.job_id}; not a video\n".encode()
        await asyncio.to_thread(put_object, request.output_key, body, "video/mp4")
        width, height = (HEIGHT, WIDTH) if is_portrait(request.aspect_ratio or "") else (WIDTH, HEIGHT)
        poster_key, preview_key = still_keys(request.output_key)
        poster, preview = await asyncio.to_thread(_stills, width, height)
        await asyncio.to_thread(put_object, poster_key, poster, "image/jpeg")
        await asyncio.to_thread(put_object, preview_key, preview, "image/webp")
        parent = request.continues  # an extension: the parent's frames, then the new ones
        return GenerationOutput(
            r2_key=request.output_key,
            duration_sec=request.duration_sec + (parent.duration_sec if parent else 0),
            frames=frames_after(parent.frames, request.duration_sec) if parent else frames_for(request.duration_sec),
            width=width,
            height=height,
            fps=FPS,
            seed=request.seed if request.seed is not None else random.randint(0, MAX_SEED),
            model=MODEL,
            timings={"totalS": round(time.monotonic() - started, 3)},
            poster_key=poster_key,
            preview_key=preview_key,
            gpu_type=gpu_type,
            cold_start=setup is not None,
            setup_s=setup,
        ).to_wire()

    return handler


def _stills(width: int, height: int) -> tuple[bytes, bytes]:
    """A poster and a preview of two flat frames (violet, then teal) at the clip's size."""
    stills = Stills(total_frames=2)
    frames = np.zeros((2, height, width, 3), np.uint8)
    frames[0] = (124, 58, 237)
    frames[1] = (20, 184, 166)
    stills.add(frames)
    return stills.poster_jpeg(), stills.preview_webp()


async def _take_time(job: dict[str, Any], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        await asyncio.sleep(min(1.0, left))
        done = 1 - max(0.0, deadline - time.monotonic()) / seconds
        _progress(job, GenerationStage.DENOISING, int(80 * done))


def _progress(job: dict[str, Any], stage: GenerationStage, percent: int) -> None:
    runpod.serverless.progress_update(job, GenerationProgress(stage=stage, percent=percent).to_wire())


def main() -> None:
    settings = BucketSettings()
    bucket = boto3.client(
        "s3",
        endpoint_url=settings.endpoint_url,
        aws_access_key_id=settings.access_key_id,
        aws_secret_access_key=settings.secret_access_key,
        region_name="auto",
    )

    def put_object(key: str, body: bytes, content_type: str) -> None:
        bucket.put_object(Bucket=settings.bucket, Key=key, Body=body, ContentType=content_type)

    gpu = runpod_gpu(os.environ.get("RUNPOD_WEBHOOK_GET_JOB", ""))
    setup_s = round(time.monotonic() - _STARTED, 3)
    runpod.serverless.start({"handler": make_handler(put_object, gpu, setup_s)})


if __name__ == "__main__":
    main()
