"""Everything the stand-in can be told at start (see ``__main__`` for the flags)."""

from dataclasses import dataclass, field

from devstack.runpod_standin.webhooks import DeliveryPolicy


@dataclass(frozen=True)
class StandInConfig:
    endpoint_id: str = "cineweave-local"
    api_key: str = "local-runpod-key"
    # What workers send as their raw ``Authorization`` header (RUNPOD_AI_API_KEY); RunPod gives
    # workers their own key, here it defaults to the client API key.
    worker_key: str | None = None
    webhook: DeliveryPolicy = field(default_factory=DeliveryPolicy)
    result_retention_s: float = 30 * 60
    # RunPod's defaults and lower bounds for a request's policy, in milliseconds.
    default_execution_timeout_ms: int = 600_000
    default_ttl_ms: int = 86_400_000
    min_execution_timeout_ms: int = 5_000
    min_ttl_ms: int = 10_000
    # How long job-take and job-stop long-polls are held open when there is nothing to say.
    poll_hold_s: float = 20.0
    # How often time-driven transitions (timeouts, ttl, retention, fates) are applied.
    tick_s: float = 0.05
    # A worker unheard of for this long no longer counts in /health.
    worker_stale_s: float = 60.0

    @property
    def worker_auth(self) -> str:
        return self.worker_key if self.worker_key is not None else self.api_key
