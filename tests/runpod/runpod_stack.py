"""Helpers for the RunPod tests: polling, subprocesses, a stand-in handle, a webhook receiver.

A plain module (not conftest) so the tests can import it by a name no other test folder uses.
"""

import contextlib
import json
import os
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import boto3
import requests

from devstack.runpod_standin import StandInConfig
from functions.adapters.runpod import RunPodClient
from schemas.generation import GenerationInput
from tests.helpers import wait_until as shared_wait_until

REPO_ROOT = Path(__file__).resolve().parents[2]
BUCKET = "cineweave-runpod-tests"
T = TypeVar("T")


def wait_until(predicate: Callable[[], T], timeout: float = 10.0, what: str = "") -> T:
    """The shared poll-with-a-deadline, with this suite's argument names."""
    return shared_wait_until(predicate, timeout_s=timeout, interval_s=0.02, what=what or str(predicate))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(url: str) -> bool:
    try:
        requests.get(url, timeout=1)
    except requests.ConnectionError:
        return False
    return True


def s3_client(url: str, region: str) -> Any:
    return boto3.client(
        "s3", endpoint_url=url, aws_access_key_id="test", aws_secret_access_key="test", region_name=region
    )


def generation_input(prompt: str = "a lighthouse at dusk", **fields: Any) -> dict[str, Any]:
    job_id = f"job-{uuid.uuid4().hex[:12]}"
    return GenerationInput(
        job_id=job_id, prompt=prompt, duration_sec=5, output_key=f"videos/{job_id}.mp4", **fields
    ).to_wire()


class Process:
    """A subprocess in its own process group, its output in a log file."""

    def __init__(self, name: str, args: list[str], log_dir: Path, env: dict[str, str] | None = None) -> None:
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.popen = subprocess.Popen(
            args, cwd=REPO_ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def alive(self) -> bool:
        if self.popen.poll() is not None:
            raise AssertionError(f"{self.log_path.stem} exited:\n{self.log_path.read_text()[-3000:]}")
        return True

    def stop(self) -> None:
        self._signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(1.0)
        self._signal(signal.SIGKILL)  # also whatever the group still holds (the SDK's ping process)
        self.popen.wait(5.0)
        self._log.close()

    def _signal(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, sig)


@dataclass
class StandInHandle:
    base_url: str
    config: StandInConfig
    process: Process

    def control(self, path: str, body: dict[str, Any] | None = None) -> Any:
        """GET ``/_control/{path}`` without a body, POST it with one."""
        url = f"{self.base_url}/_control/{path}"
        response = requests.get(url, timeout=5) if body is None else requests.post(url, json=body, timeout=5)
        response.raise_for_status()
        return response.json()

    def deliveries(self, job_id: str, outcome: str | None = None) -> list[dict[str, Any]]:
        return [
            entry
            for entry in self.control("webhooks")
            if entry["jobId"] == job_id and outcome in (None, entry["outcome"])
        ]

    def client(self, **overrides: Any) -> RunPodClient:
        options: dict[str, Any] = {
            "base_url": f"{self.base_url}/v2",
            "endpoint_id": self.config.endpoint_id,
            "api_key": self.config.api_key,
            "timeout_s": 5.0,
            "max_retries": 3,
            "backoff_base_s": 0.01,
            "backoff_max_s": 0.05,
        }
        return RunPodClient(**{**options, **overrides})

    def live_workers(self) -> int:
        workers = self.client().health()["workers"]
        return workers["idle"] + workers["running"]


@dataclass
class Hit:
    path: str
    body: dict[str, Any]
    at: float


class WebhookReceiver:
    """Records every POST. Paths under /fail answer 500; under /slow answer after 0.3 s."""

    def __init__(self) -> None:
        self.hits: list[Hit] = []
        self.max_in_flight = 0
        self._in_flight = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def url(self, kind: str = "ok") -> str:
        return f"{self.base_url}/{kind}/{uuid.uuid4().hex}"

    def bodies(self, job_id: str) -> list[dict[str, Any]]:
        return [hit.body for hit in self._hits(job_id)]

    def times(self, job_id: str) -> list[float]:
        return [hit.at for hit in self._hits(job_id)]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _hits(self, job_id: str) -> list[Hit]:
        with self._lock:
            return [hit for hit in self.hits if hit.body.get("id") == job_id]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                receiver._enter(Hit(self.path, body, time.monotonic()))
                if self.path.startswith("/slow/"):
                    time.sleep(0.3)  # a slow receiver, so that concurrent deliveries overlap
                receiver._leave()
                self.send_response(500 if self.path.startswith("/fail/") else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def _enter(self, hit: Hit) -> None:
        with self._lock:
            self.hits.append(hit)
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1
