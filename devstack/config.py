"""Where each local service listens, and the environment each process gets.

Ports are offsets from one base (8080 for ``make up``; the tests use another base so they can
run beside a developer's stack). Every value here is local-only: none is a real secret.
"""

import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from devstack.truelayer_standin.env import functions_env as truelayer_functions_env

ROOT = Path(__file__).resolve().parent.parent

WorkerKind = Literal["video", "test", "none"]
PORT_OFFSETS = (0, 1, 5, 6, 10, 12, 14, 16, 18)  # gateway, events, pubsub, firestore, runpod, clerk, s3, spare


def free_base_port(start: int = 18080, stop: int = 32000, step: int = 20) -> int:
    """A base port whose whole block is free. Stays below Linux's ephemeral range (32768+), where
    outgoing connections take local ports and a listener can find its port taken."""
    for base in range(start, stop, step):
        if all(_bindable(base + offset) for offset in PORT_OFFSETS):
            return base
    raise RuntimeError(f"no free block of ports between {start} and {stop}")


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@dataclass(frozen=True)
class StackConfig:
    base_port: int = 8080
    state_dir: Path = ROOT / ".devstack"
    project: str = "cineweave-local"
    bucket: str = "cineweave-outputs"
    worker: WorkerKind = "video"
    workers: int = 1
    tick_interval_s: float | None = None  # a local Cloud Scheduler; None: tick only on demand
    webhook_retry_delay_s: float = 10.0
    function_env: dict[str, str] = field(default_factory=dict)  # extra settings for the functions
    worker_extra_env: dict[str, str] = field(default_factory=dict)

    runpod_endpoint_id: str = "cineweave-local"
    runpod_api_key: str = "local-runpod-key"
    runpod_webhook_secret: str = "local-webhook-secret"
    s3_access_key: str = "local-access-key"
    s3_secret_key: str = "local-secret-key"

    @property
    def ports(self) -> tuple[int, ...]:
        return tuple(self.base_port + offset for offset in PORT_OFFSETS)

    @property
    def gateway_port(self) -> int:
        return self.base_port

    @property
    def events_port(self) -> int:
        return self.base_port + 1

    @property
    def pubsub_port(self) -> int:
        return self.base_port + 5

    @property
    def firestore_port(self) -> int:
        return self.base_port + 6

    @property
    def runpod_port(self) -> int:
        return self.base_port + 10

    @property
    def clerk_port(self) -> int:
        return self.base_port + 12

    @property
    def s3_port(self) -> int:
        return self.base_port + 14

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    @property
    def events_url(self) -> str:
        return f"http://127.0.0.1:{self.events_port}"

    @property
    def runpod_url(self) -> str:
        return f"http://127.0.0.1:{self.runpod_port}"

    @property
    def clerk_issuer(self) -> str:
        return f"http://127.0.0.1:{self.clerk_port}"

    @property
    def s3_url(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    @property
    def clerk_keys_dir(self) -> Path:
        return self.state_dir / "clerk"

    @property
    def truelayer_port(self) -> int:
        return self.base_port + 16

    @property
    def truelayer_url(self) -> str:
        return f"http://127.0.0.1:{self.truelayer_port}"

    @property
    def c2pa_test_ca_dir(self) -> Path:
        return self.state_dir / "c2pa"

    @property
    def truelayer_keys_dir(self) -> Path:
        return self.state_dir / "truelayer"

    def emulator_env(self) -> dict[str, str]:
        return {
            "GOOGLE_CLOUD_PROJECT": self.project,
            "PUBSUB_EMULATOR_HOST": f"127.0.0.1:{self.pubsub_port}",
            "FIRESTORE_EMULATOR_HOST": f"127.0.0.1:{self.firestore_port}",
        }

    def bucket_env(self) -> dict[str, str]:
        return {
            "R2_ENDPOINT_URL": self.s3_url,
            "R2_ACCESS_KEY_ID": self.s3_access_key,
            "R2_SECRET_ACCESS_KEY": self.s3_secret_key,
            "R2_BUCKET": self.bucket,
        }

    def functions_env(self) -> dict[str, str]:
        origins = f"{self.base_url},http://localhost:{self.gateway_port}"
        return {
            **base_env(),
            **self.emulator_env(),
            **self.bucket_env(),
            "PUBLIC_API_BASE_URL": self.base_url,
            "CORS_ALLOWED_ORIGINS": origins,
            "CLERK_ISSUER": self.clerk_issuer,
            "CLERK_AUTHORIZED_PARTIES": origins,
            "RUNPOD_API_BASE": f"{self.runpod_url}/v2",
            "RUNPOD_ENDPOINT_ID": self.runpod_endpoint_id,
            "RUNPOD_API_KEY": self.runpod_api_key,
            "RUNPOD_WEBHOOK_SECRET": self.runpod_webhook_secret,
            "OUTBOUND_LOOPBACK_ONLY": "true",
            "FAST_WEIGHTS_DEPLOYED": "true",  # the tiny model serves both profiles locally
            **truelayer_functions_env(self.truelayer_url, self.truelayer_keys_dir, self.base_url),
            **self.function_env,
        }


def base_env() -> dict[str, str]:
    """What every child process inherits: the caller's environment minus anything cloud-real."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOOGLE_APPLICATION_CREDENTIALS", "AWS_"))}
    env["PYTHONPATH"] = str(ROOT)
    env["PYTHONUNBUFFERED"] = "1"
    return env


PYTHON = sys.executable


@contextmanager
def environment(variables: dict[str, str]) -> Iterator[None]:
    """Set ``variables`` in this process for the block (the Google clients find emulators this way)."""
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
