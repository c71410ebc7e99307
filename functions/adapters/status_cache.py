"""A short-lived read-through cache: in front of RunPod's ``/status`` (so polling clients don't
hammer RunPod) and of API key documents (so a key costs no read per request, yet a revocation
reaches every instance within ``ttl_s``)."""

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class StatusCache(Generic[T]):
    def __init__(self, fetch: Callable[[str], T], ttl_s: float, clock: Callable[[], float] = time.monotonic, max_entries: int = 10_000):
        self._fetch = fetch
        self._ttl_s = ttl_s
        self._clock = clock
        self._max_entries = max_entries
        self._entries: dict[str, tuple[float, T]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> T:
        now = self._clock()
        with self._lock:
            hit = self._entries.get(key)
        if hit and now - hit[0] < self._ttl_s:
            return hit[1]
        value = self._fetch(key)
        with self._lock:
            if len(self._entries) >= self._max_entries:
                self._entries.clear()
            self._entries[key] = (now, value)
        return value

    def forget(self, key: str) -> None:
        """The next ``get`` of ``key`` fetches again (after this instance changed it)."""
        with self._lock:
            self._entries.pop(key, None)
