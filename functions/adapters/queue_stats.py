"""Where a queued job stands: how many jobs are ahead of it, and when it should be done.

Jobs ahead: CineWeave's queued jobs submitted before it (a server-side count), never more than
RunPod says it holds in its queue besides this one (some of ours may have started unseen). The
estimate: the recent median GPU time of clips of that length, once per round of the workers
RunPod reports, for each round ahead of it plus its own. Medians and RunPod's health are cached
for a short while per instance: a polling client costs one count per poll, not a scan.
"""

import logging
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

from functions.core.paths import JOBS
from functions.store import Query, Store
from schemas.documents import JobDoc
from schemas.jobs import JobStatus

log = logging.getLogger(__name__)
MEDIAN_SAMPLE = 20
MEDIAN_TTL_S = 60.0


class QueueStats:
    def __init__(self, store: Store, health: Callable[[], dict[str, Any]], health_ttl_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._store, self._health, self._health_ttl_s, self._clock = store, health, health_ttl_s, clock
        self._cached: dict[Any, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def estimate(self, job: JobDoc) -> tuple[int | None, int | None]:
        """``(queuePosition, etaSeconds)`` of a queued job; ``(None, None)`` for any other."""
        if job.status is not JobStatus.QUEUED or job.submitted_at is None:
            return None, None
        ahead = self._store.count(Query(JOBS, where=[("status", "==", JobStatus.QUEUED.value), ("submittedAt", "<", job.submitted_at)]))
        health = self._cache("health", self._health_ttl_s, self._runpod_health)
        workers = 1
        if health:
            ahead = min(ahead, max(0, int(health.get("jobs", {}).get("inQueue", ahead + 1)) - 1))
            counts = health.get("workers", {})
            workers = max(1, int(counts.get("running", 0)) + int(counts.get("idle", 0)) + int(counts.get("ready", 0)))
        median = self._cache(("median", job.duration_sec), MEDIAN_TTL_S, lambda: self._median(job.duration_sec))
        eta = round(median * (ahead // workers + 1)) if median else None
        return ahead, eta

    def _median(self, duration_sec: int) -> float | None:
        rows = self._store.query(Query(JOBS, where=[("status", "in", [JobStatus.DONE.value, JobStatus.EXPIRED.value]),
                                                    ("durationSec", "==", duration_sec)],
                                       order_by="finishedAt", descending=True, limit=MEDIAN_SAMPLE))
        seconds = [data["gpuSeconds"] for _, data in rows if data.get("gpuSeconds")]
        return statistics.median(seconds) if seconds else None

    def _runpod_health(self) -> dict[str, Any] | None:
        try:
            return self._health()
        except Exception as exc:  # noqa: BLE001 - the estimate is best effort: our own count still answers
            log.warning("no RunPod health for the queue estimate: %s", exc)
            return None

    def _cache(self, key: Any, ttl_s: float, fetch: Callable[[], Any]) -> Any:
        now = self._clock()
        with self._lock:
            hit = self._cached.get(key)
        if hit and now - hit[0] < ttl_s:
            return hit[1]
        value = fetch()
        with self._lock:
            self._cached[key] = (now, value)
        return value
