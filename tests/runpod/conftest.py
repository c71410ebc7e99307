"""Fixtures for the RunPod tests: a real stand-in, moto, a webhook receiver and a real SDK worker.

Every subprocess runs in its own process group and is killed with it, pass or fail. Helpers
(``wait_until`` and friends) live in ``runpod_stack``.
"""

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devstack.runpod_standin import StandInConfig, worker_env
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


@pytest.fixture(scope="session")
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("runpod-stack")


@pytest.fixture(scope="session")
def bucket_url(log_dir: Path) -> Iterator[str]:
    port = free_port()
    moto_server = str(Path(sys.executable).parent / "moto_server")
    moto = Process("moto", [moto_server, "-H", "127.0.0.1", "-p", str(port)], log_dir)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: moto.alive() and answers(url), what="moto_server")
        s3_client(url, region="us-east-1").create_bucket(Bucket=BUCKET)
        yield url
    finally:
        moto.stop()


@pytest.fixture(scope="session")
def bucket(bucket_url: str) -> Any:
    return s3_client(bucket_url, region="auto")


@pytest.fixture(scope="session")
def standin_server(log_dir: Path) -> Iterator[StandInHandle]:
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
    handle = StandInHandle(f"http://127.0.0.1:{port}", config, Process("standin", args, log_dir))
    try:
        wait_until(lambda: handle.process.alive() and answers(f"{handle.base_url}/_control/faults"),
                   what="the stand-in")
        yield handle
    finally:
        handle.process.stop()


@pytest.fixture
def standin(standin_server: StandInHandle) -> StandInHandle:
    """The session's stand-in, reset: no jobs, faults or logs (running jobs are stopped)."""
    standin_server.control("reset", {})
    return standin_server


@pytest.fixture(scope="session")
def worker(standin_server: StandInHandle, bucket_url: str, log_dir: Path) -> Iterator[Process]:
    """A real SDK worker loop running devstack.test_worker against the stand-in."""
    home = log_dir / "home"  # so that no ~/.runpod/config.toml overrides the worker's key
    home.mkdir(exist_ok=True)
    env = {
        **os.environ,
        **worker_env(standin_server.base_url, pod_id="pytest-worker", config=standin_server.config),
        "HOME": str(home),
        "R2_ENDPOINT_URL": bucket_url,
        "R2_ACCESS_KEY_ID": "test",
        "R2_SECRET_ACCESS_KEY": "test",
        "R2_BUCKET": BUCKET,
    }
    process = Process("worker", [sys.executable, "-m", "devstack.test_worker"], log_dir, env)
    try:
        wait_until(lambda: process.alive() and standin_server.live_workers() > 0, timeout=30,
                   what="the worker's first job-take")
        yield process
    finally:
        process.stop()


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
