"""``python -m worker_image.handler`` under the real ``runpod`` SDK loop, against the local
RunPod stand-in (devstack) and moto: jobs go in through RunPod's client API, MP4s land in the bucket.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from devstack.runpod_standin import StandInConfig, worker_env
from tests.worker.helpers import download_video, free_port, job_input

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG = StandInConfig(endpoint_id="worker-tests", api_key="worker-tests-key")


def _spawn(args: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(args, cwd=REPO_ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def _stop(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)  # the group: the SDK also starts a ping process
    try:
        process.wait(5)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


def _poll(check, timeout_s: float, what: str, logs: list[Path]):
    deadline = time.monotonic() + timeout_s
    while not (result := check()):
        if time.monotonic() > deadline:
            tails = "\n".join(f"--- {log.name}\n{log.read_text()[-2000:]}" for log in logs)
            raise AssertionError(f"timed out waiting for {what}\n{tails}")
        time.sleep(0.1)  # polling an HTTP API for a state change, not standing in for it
    return result


class RunPodApi:
    def __init__(self, base_url: str):
        self.url = f"{base_url}/v2/{CONFIG.endpoint_id}"
        self.headers = {"Authorization": f"Bearer {CONFIG.api_key}"}

    def run(self, job: dict) -> str:
        response = requests.post(f"{self.url}/run", json={"input": job}, headers=self.headers, timeout=5)
        response.raise_for_status()
        return response.json()["id"]

    def status(self, job_id: str) -> dict:
        return requests.get(f"{self.url}/status/{job_id}", headers=self.headers, timeout=5).json()

    def answers(self) -> bool:
        try:
            return requests.get(f"{self.url}/health", headers=self.headers, timeout=1).ok
        except requests.ConnectionError:
            return False


@pytest.fixture(scope="module")
def runpod_api(s3_url: str, bucket_name: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    logs = tmp_path_factory.mktemp("sdk-loop")
    base_url = f"http://127.0.0.1:{free_port()}"
    standin = _spawn([sys.executable, "-m", "devstack.runpod_standin", "--port", base_url.rsplit(":", 1)[1],
                      "--endpoint-id", CONFIG.endpoint_id, "--api-key", CONFIG.api_key, "--poll-hold-s", "2"],
                     logs / "standin.log")
    env = {
        **os.environ,
        **worker_env(base_url, pod_id="worker-tests", config=CONFIG),
        "HOME": str(logs),  # no ~/.runpod/config.toml may override the worker's key
        "R2_ENDPOINT_URL": s3_url, "R2_ACCESS_KEY_ID": "test", "R2_SECRET_ACCESS_KEY": "test",
        "R2_BUCKET": bucket_name,
        "WAN_WEIGHTS_DIR": str(logs / "no-weights"), "WAN_DEVICE": "cpu",
        "VIDEO_WIDTH": "128", "VIDEO_HEIGHT": "64",
    }
    worker = _spawn([sys.executable, "-m", "worker_image.handler"], logs / "worker.log", env)
    api = RunPodApi(base_url)
    try:
        _poll(api.answers, 30, "the stand-in", [logs / "standin.log"])
        yield api, [logs / "standin.log", logs / "worker.log"]
    finally:
        _stop(worker)
        _stop(standin)


def _finished(api: RunPodApi, job_id: str, logs: list[Path]) -> dict:
    return _poll(lambda: (s := api.status(job_id))["status"] in {"COMPLETED", "FAILED"} and s,
                 90, f"job {job_id} to finish", logs)


def test_the_real_sdk_loop_runs_jobs_reports_failures_and_keeps_going(runpod_api, s3, bucket_name, tmp_path):
    api, logs = runpod_api
    bad = api.run(job_input(duration=7))
    good_input = job_input(seed=4)
    good = api.run(good_input)

    failed, done = _finished(api, bad, logs), _finished(api, good, logs)

    assert failed["status"] == "FAILED"
    assert "durationSec: Input should be 5, 10 or 15" in failed["error"]
    assert done["status"] == "COMPLETED", done
    assert done["output"]["r2Key"] == good_input["outputKey"]
    assert (done["output"]["frames"], done["output"]["seed"]) == (121, 4)
    assert download_video(s3, bucket_name, good_input["outputKey"], tmp_path).frames.shape == (121, 64, 128, 3)
