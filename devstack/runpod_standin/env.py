"""The environment a ``runpod`` SDK worker needs to run its real loop against the stand-in."""

from devstack.runpod_standin.config import StandInConfig


def worker_env(
    base_url: str,
    pod_id: str = "local-worker-1",
    config: StandInConfig | None = None,
    gpu: str = "H100",
    ping_interval_ms: int = 10_000,
    log_level: str = "INFO",
) -> dict[str, str]:
    """Env vars for ``runpod.serverless.start`` pointed at the stand-in at ``base_url``.

    Add them to the worker's own environment (PATH, bucket settings...). The URL shapes are the
    production ones: the SDK replaces ``$ID`` and ``$RUNPOD_POD_ID`` and appends
    ``&job_in_progress=`` / ``&isStream=``, so every URL already carries a query string.
    A ``~/.runpod/config.toml`` with an api_key overrides RUNPOD_AI_API_KEY in the SDK's job
    requests (``runpod.http_client.get_auth_header``): keep HOME free of one, or expect 401s.
    """
    config = config or StandInConfig()
    endpoint = f"{base_url.rstrip('/')}/v2/{config.endpoint_id}"
    if ping_interval_ms < 1000:
        raise ValueError("the SDK pings every ping_interval_ms // 1000 s: below 1000 it spins")
    return {
        "RUNPOD_WEBHOOK_GET_JOB": f"{endpoint}/job-take/$ID?gpu={gpu}",
        "RUNPOD_WEBHOOK_POST_OUTPUT": f"{endpoint}/job-done/$RUNPOD_POD_ID/$ID?gpu={gpu}",
        "RUNPOD_WEBHOOK_POST_STREAM": f"{endpoint}/job-stream/$RUNPOD_POD_ID/$ID?gpu={gpu}",
        "RUNPOD_WEBHOOK_PING": f"{endpoint}/ping/$RUNPOD_POD_ID?gpu={gpu}",
        "RUNPOD_PING_INTERVAL": str(ping_interval_ms),
        "RUNPOD_POD_ID": pod_id,
        "RUNPOD_AI_API_KEY": config.worker_auth,
        # Offline: no system checks (they reach the internet) and no nvidia-smi probe.
        "RUNPOD_SKIP_AUTO_SYSTEM_CHECKS": "true",
        "RUNPOD_SKIP_GPU_CHECK": "true",
        "RUNPOD_LOG_LEVEL": log_level,
    }
