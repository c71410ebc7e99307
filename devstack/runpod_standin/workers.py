"""What the stand-in knows of its workers: when each was last heard of, and what it must stop.

Plain data guarded by the service's lock, like the job table.
"""

from collections import defaultdict


class WorkerBoard:
    def __init__(self, stale_s: float) -> None:
        self._stale_s = stale_s
        self._last_seen: dict[str, float] = {}
        self._stops: defaultdict[str, set[str]] = defaultdict(set)  # worker id -> jobs to stop
        self._stopped: dict[str, str] = {}  # job id -> its worker, until the worker lets go of it

    def seen(self, worker_id: str, now: float) -> None:
        self._last_seen[worker_id] = now

    def live(self, now: float) -> set[str]:
        """Workers heard of (job-take, job-stop, job-done, ping) within the last ``stale_s``."""
        return {worker for worker, seen in self._last_seen.items() if now - seen < self._stale_s}

    def stop(self, worker_id: str, job_id: str) -> None:
        self._stops[worker_id].add(job_id)
        self._stopped[job_id] = worker_id

    def has_stops(self, worker_id: str) -> bool:
        return bool(self._stops.get(worker_id))

    def take_stops(self, worker_id: str) -> list[str]:
        return sorted(self._stops.pop(worker_id, set()))

    def reported(self, worker_id: str, job_id: str, final: bool) -> None:
        """The worker posted about a job. If that job was told to stop, say it again: the SDK
        drops a stop that lands before it has registered the job's task (~0.1 s after job-take)."""
        if job_id not in self._stopped:
            return
        if final:
            del self._stopped[job_id]
        else:
            self._stops[worker_id].add(job_id)
