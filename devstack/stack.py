"""Brings the whole local stack up and down: emulators, bucket, stand-ins, functions, worker.

    python -m devstack up [--worker video|test|none]      # returns once everything answers
    python -m devstack down                                # leaves no process behind
"""

import shutil
import signal
from pathlib import Path
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import boto3

from devstack import processes
from devstack.clerk_dev import DevIssuer
from devstack.config import PYTHON, ROOT, StackConfig, base_env, environment
from devstack.pubsub_setup import create_topology
from devstack.runpod_standin.env import worker_env

STARTUP_TIMEOUT_S = 60


class MissingPrerequisite(RuntimeError):
    pass


@dataclass(frozen=True)
class Service:
    name: str
    argv: list[str]
    ready_url: str
    ready_statuses: tuple[int, ...] | None = (200,)


def check_prerequisites() -> None:
    """Fail early, naming the system package to install, if an emulator cannot start here."""
    gcloud = shutil.which("gcloud")
    if gcloud is None:
        raise MissingPrerequisite("gcloud is not installed (apt: google-cloud-cli)")
    if shutil.which("java") is None:
        raise MissingPrerequisite("java is not installed; the emulators need it (apt: default-jre-headless)")
    sdk_roots = [Path(gcloud).resolve().parent.parent, Path("/usr/lib/google-cloud-sdk")]
    for folder, package in (("pubsub-emulator", "google-cloud-cli-pubsub-emulator"),
                            ("cloud-firestore-emulator", "google-cloud-cli-firestore-emulator")):
        if not any((root / "platform" / folder).is_dir() for root in sdk_roots):
            raise MissingPrerequisite(f"the {folder} is not installed (apt: {package})")


def backing_services(config: StackConfig) -> list[Service]:
    emulators = config.state_dir / "emulators"
    return [
        Service(
            "pubsub",
            ["gcloud", "beta", "emulators", "pubsub", "start", f"--host-port=127.0.0.1:{config.pubsub_port}",
             f"--project={config.project}", f"--data-dir={emulators / 'pubsub'}", "--quiet"],
            f"http://127.0.0.1:{config.pubsub_port}/",
        ),
        Service(
            "firestore",
            ["gcloud", "emulators", "firestore", "start", f"--host-port=127.0.0.1:{config.firestore_port}", "--quiet"],
            f"http://127.0.0.1:{config.firestore_port}/",
        ),
        Service(
            "s3",
            [str(ROOT / ".venv" / "bin" / "moto_server"), "-H", "127.0.0.1", "-p", str(config.s3_port)],
            f"{config.s3_url}/",
            None,
        ),
        Service(
            "clerk",
            [PYTHON, "-m", "devstack.clerk_dev", "serve", "--port", str(config.clerk_port), "--keys", str(config.clerk_keys_dir)],
            f"{config.clerk_issuer}/.well-known/jwks.json",
        ),
        Service(
            "runpod",
            [PYTHON, "-m", "devstack.runpod_standin", "--port", str(config.runpod_port), "--endpoint-id", config.runpod_endpoint_id,
             "--api-key", config.runpod_api_key, "--webhook-retry-delay-s", str(config.webhook_retry_delay_s)],
            f"{config.runpod_url}/v2/{config.runpod_endpoint_id}/health",
            None,
        ),
        Service(
            "truelayer",
            [PYTHON, "-m", "devstack.truelayer_standin", "--port", str(config.truelayer_port), "--keys",
             str(config.truelayer_keys_dir), "--webhook-url", f"{config.base_url}/webhooks/truelayer",
             "--webhook-retry-delay-s", str(config.webhook_retry_delay_s)],
            f"{config.truelayer_url}/.well-known/jwks",
        ),
    ]


def function_hosts(config: StackConfig) -> list[Service]:
    return [
        Service("events", [PYTHON, "-m", "devstack.function_host", "--mode", "events", "--port", str(config.events_port)],
                f"{config.events_url}/", None),
        Service("gateway", [PYTHON, "-m", "devstack.function_host", "--mode", "gateway", "--port", str(config.gateway_port)],
                f"{config.base_url}/plans"),
    ]


def up(config: StackConfig) -> None:
    check_prerequisites()
    down(config)
    DevIssuer(config.clerk_keys_dir, config.clerk_issuer).ensure_key()
    _start_all(config, backing_services(config))
    _create_bucket(config)
    with environment(config.emulator_env()):
        create_topology(config.project, config.events_url)
    _start_all(config, function_hosts(config))
    for n in range(config.workers if config.worker != "none" else 0):
        start_worker(config, n)
    if config.tick_interval_s:
        processes.spawn("ticker", [PYTHON, "-m", "devstack.ticker", "--interval", str(config.tick_interval_s)],
                        {**config.functions_env()}, config.state_dir, ROOT)


def down(config: StackConfig) -> None:
    processes.stop_all(config.state_dir)


def start_worker(config: StackConfig, n: int = 0) -> int:
    module = {"video": "worker_image.handler", "test": "devstack.test_worker"}[config.worker]
    env = {
        **base_env(),
        **config.bucket_env(),
        **worker_env(config.runpod_url, pod_id=f"local-worker-{n + 1}", log_level="WARN"),
        "HOME": str(config.state_dir / "worker-home"),  # no ~/.runpod/config.toml may override the key
        "C2PA_TEST_CA_DIR": str(config.c2pa_test_ca_dir),  # the local test CA: ca.pem validates the videos
        **config.worker_extra_env,
    }
    return processes.spawn(f"worker-{n + 1}", [PYTHON, "-m", module], env, config.state_dir, ROOT)


def restart(config: StackConfig, name: str, sig: int = signal.SIGKILL) -> int:
    """Kill one service (``sig``, SIGKILL by default: a crash) and start it again; returns once it
    answers. For fault tests: ``events``, ``gateway``, ``runpod``, ``s3`` (moto forgets its objects;
    the bucket is created again)... Workers: ``processes.stop`` plus ``start_worker``."""
    processes.stop(name, config.state_dir, sig)
    return start_service(config, name)


def start_service(config: StackConfig, name: str) -> int:
    """Start one stopped service of the stack (see ``restart``); returns its pid once it answers."""
    service = next((s for s in [*backing_services(config), *function_hosts(config)] if s.name == name), None)
    if service is None:
        raise KeyError(f"no service named {name}")
    pid = processes.spawn(service.name, service.argv, config.functions_env(), config.state_dir, ROOT)
    _wait_ready(config, service, pid)
    if name == "s3":
        _create_bucket(config)
    return pid


def _start_all(config: StackConfig, services: list[Service]) -> None:
    env = config.functions_env()
    (config.state_dir / "emulators" / "pubsub").mkdir(parents=True, exist_ok=True)
    pids = {service.name: processes.spawn(service.name, service.argv, env, config.state_dir, ROOT) for service in services}
    with ThreadPoolExecutor(len(services)) as pool:
        waits = [pool.submit(_wait_ready, config, service, pids[service.name]) for service in services]
        for wait in waits:
            wait.result()


def _wait_ready(config: StackConfig, service: Service, pid: int) -> None:
    log = config.state_dir / "logs" / f"{service.name}.log"
    answers = processes.answers(service.ready_url, service.ready_statuses)

    def ready() -> bool:
        if not processes.alive(pid):
            raise RuntimeError(f"{service.name} exited while starting; see {log}")
        return answers()

    processes.wait_until(ready, STARTUP_TIMEOUT_S, f"{service.name} (log: {log})")


def _create_bucket(config: StackConfig) -> None:
    s3 = boto3.client("s3", endpoint_url=config.s3_url, aws_access_key_id=config.s3_access_key,
                      aws_secret_access_key=config.s3_secret_key, region_name="us-east-1")
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if config.bucket not in existing:
        s3.create_bucket(Bucket=config.bucket)
