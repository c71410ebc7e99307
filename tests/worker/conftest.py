"""Fixtures for the worker tests: a real S3-compatible server (moto), the tiny model, small videos.

moto runs as a subprocess (``moto_server``), so uploads and reads go through boto3 over HTTP
exactly as against R2. The tiny model is built once per session and shared by the workers.
"""

import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from tests.worker.helpers import free_port
from worker_image.handler import make_handler
from worker_image.settings import WorkerSettings
from worker_image.worker import VideoWorker

SMALL = {"video_width": 128, "video_height": 64}


def _wait_until_answering(url: str, process: subprocess.Popen, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"moto_server exited with {process.returncode}")
        try:
            requests.get(url, timeout=1)
            return
        except (requests.ConnectionError, requests.Timeout):  # a loaded machine answers late
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)  # polling for readiness, not standing in for it


@pytest.fixture(scope="session")
def s3_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("wb")
    moto = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_answering(url, moto)
        yield url
    finally:
        moto.terminate()
        moto.wait(10)
        log.close()


@pytest.fixture(scope="session")
def s3(s3_url: str) -> Any:
    """A plain boto3 client, for the tests' own reads and writes."""
    return boto3.client(
        "s3", endpoint_url=s3_url, aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
    )


@pytest.fixture(scope="session")
def bucket_name(s3: Any) -> str:
    name = f"cineweave-worker-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture(scope="session")
def settings_for(s3_url: str, bucket_name: str, tmp_path_factory: pytest.TempPathFactory) -> Callable[..., WorkerSettings]:
    """Settings for the tiny model at a small size; keyword arguments override."""
    missing_weights = tmp_path_factory.mktemp("weights") / "absent"
    test_ca = tmp_path_factory.mktemp("c2pa") / "ca"  # made on first use, shared by the session's workers

    def make(**overrides: Any) -> WorkerSettings:
        values = {
            "wan_weights_dir": missing_weights,
            "wan_tiny_fallback": True,
            "wan_tiny_steps": 2,
            "wan_device": "cpu",
            "r2_endpoint_url": s3_url,
            "r2_access_key_id": "test",
            "r2_secret_access_key": "test",
            "r2_bucket": bucket_name,
            "c2pa_test_ca_dir": test_ca,
            **SMALL,
            **overrides,
        }
        return WorkerSettings(**values)

    return make


@pytest.fixture(scope="session")
def worker(settings_for: Callable[..., WorkerSettings]) -> VideoWorker:
    worker = VideoWorker(settings_for())
    worker.setup()
    return worker


@dataclass
class Progress:
    """Records what the handler sends through RunPod's ``progress_update``."""

    updates: list[dict] = field(default_factory=list)

    def __call__(self, job: dict, payload: dict) -> None:
        self.updates.append(payload)


@pytest.fixture
def progress() -> Progress:
    return Progress()


@pytest.fixture
def handle(worker: VideoWorker, progress: Progress) -> Callable[[dict], dict]:
    """Runs one job through the RunPod handler; returns what RunPod would receive."""
    handler = make_handler(worker, send_progress=progress)
    return lambda job_input: handler({"id": f"rp-{uuid.uuid4().hex[:8]}", "input": job_input})
