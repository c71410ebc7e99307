"""Fixtures for the RunPod tests: a real stand-in, moto, a webhook receiver and a real SDK worker.

Every subprocess runs in its own process group and is killed with it, pass or fail. Helpers
(``wait_until`` and friends) live in ``runpod_stack``.
"""

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from runpod_stack import (
    BUCKET,
    Process,
    StandInHandle,
    WebhookReceiver,
    answers,
    free_port,
    s3_client,
    wait_until,
)

from devstack.runpod_standin import StandInConfig, worker_env


@pytest.fixture(scope="session")
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("runpod-stack")


@dataclass
class Launched:
    bucket_url: str
    bucket_server: Process
    standin: StandInHandle
    worker: Process


@pytest.fixture(scope="session")
def launched(log_dir: Path) -> Iterator[Launched]:
    """Starts moto, the stand-in and the worker at once (they start in parallel); the fixtures
    below wait for each. The worker imports for seconds, by when the stand-in answers."""
    bucket_url = f"http://127.0.0.1:{free_port()}"
    moto_server = str(Path(sys.executable).parent / "moto_server")
    bucket_server = Process("moto", [moto_server, "-H", "127.0.0.1", "-p", bucket_url.rsplit(":", 1)[1]], log_dir)
    processes = [bucket_server]
    try:
        standin = _start_standin(log_dir)
        processes.append(standin.process)
        worker = _start_worker(standin, bucket_url, log_dir)
        processes.append(worker)
        yield Launched(bucket_url, bucket_server, standin, worker)
    finally:
        for process in reversed(processes):
            process.stop()


@pytest.fixture(scope="session")
def bucket_url(launched: Launched) -> str:
    wait_until(lambda: launched.bucket_server.alive() and answers(launched.bucket_url), what="moto_server")
    s3_client(launched.bucket_url, region="us-east-1").create_bucket(Bucket=BUCKET)
    return launched.bucket_url


@pytest.fixture(scope="session")
def bucket(bucket_url: str) -> Any:
    return s3_client(bucket_url, region="auto")


@pytest.fixture(scope="session")
def standin_server(launched: Launched) -> StandInHandle:
    handle = launched.standin
    wait_until(lambda: handle.process.alive() and answers(f"{handle.base_url}/_control/faults"), what="the stand-in")
    return handle


@pytest.fixture
def standin(standin_server: StandInHandle) -> StandInHandle:
    """The session's stand-in, reset: no jobs, faults or logs (running jobs are stopped)."""
    standin_server.control("reset", {})
    return standin_server


@pytest.fixture(scope="session")
def worker(launched: Launched, standin_server: StandInHandle, bucket_url: str) -> Process:
    """A real SDK worker loop running devstack.test_worker against the stand-in."""
    wait_until(lambda: launched.worker.alive() and standin_server.live_workers() > 0, timeout=30,
               what="the worker's first job-take")
    return launched.worker


@pytest.fixture
def stack(standin: StandInHandle, worker: Process) -> StandInHandle:
    """A clean stand-in with a live SDK worker polling it."""
    worker.alive()
    return standin


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    try:
        yield receiver
    finally:
        receiver.close()


def _start_standin(log_dir: Path) -> StandInHandle:
    port = free_port()
    config = StandInConfig(endpoint_id="runpod-tests", api_key="test-api-key")
    args = [
        sys.executable, "-m", "devstack.runpod_standin",
        "--port", str(port),
        "--endpoint-id", config.endpoint_id,
        "--api-key", config.api_key,
        "--webhook-retry-delay-s", "0.2",
        "--webhook-timeout-s", "2",
        "--min-execution-timeout-ms", "0",
        "--min-ttl-ms", "0",
        "--poll-hold-s", "5",
    ]
    return StandInHandle(f"http://127.0.0.1:{port}", config, Process("standin", args, log_dir))


def _start_worker(standin: StandInHandle, bucket_url: str, log_dir: Path) -> Process:
    home = log_dir / "home"  # so that no ~/.runpod/config.toml overrides the worker's key
    home.mkdir(exist_ok=True)
    env = {
        **os.environ,
        **worker_env(standin.base_url, pod_id="pytest-worker", config=standin.config),
        "HOME": str(home),
        "R2_ENDPOINT_URL": bucket_url,
        "R2_ACCESS_KEY_ID": "test",
        "R2_SECRET_ACCESS_KEY": "test",
        "R2_BUCKET": BUCKET,
    }
    return Process("worker", [sys.executable, "-m", "devstack.test_worker"], log_dir, env)
