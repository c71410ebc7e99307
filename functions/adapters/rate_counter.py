"""Counters shared by every instance: Firestore increments, one batch per call.

``add`` adds to each counter and answers its total after the commit, in one commit (one per 500
counters, what a batch holds): Firestore's ``Increment`` is applied by the server, so concurrent
instances never lose a count and never conflict (no read-then-write, no precondition, no retry).
The counters live in ``rateLimits`` with an ``expiresAt`` that Firestore's TTL policy
(infra_terraform/firestore.tf) deletes.
"""

import threading
from collections.abc import Mapping
from datetime import datetime

from functions.core.paths import RATE_LIMITS

Increments = Mapping[str, tuple[int, datetime]]  # counter id -> (how many to add, expiresAt)
BATCH_WRITES = 500  # the most writes one Firestore batch holds


class FirestoreRateCounter:
    def __init__(self, client) -> None:
        self._db = client

    def add(self, increments: Increments) -> dict[str, int]:
        """Adds to each counter; answers each one's total after the commit."""
        from google.cloud import firestore

        items = list(increments.items())
        totals: dict[str, int] = {}
        for start in range(0, len(items), BATCH_WRITES):
            chunk = items[start:start + BATCH_WRITES]
            batch = self._db.batch()
            for counter_id, (n, expires_at) in chunk:
                ref = self._db.collection(RATE_LIMITS).document(counter_id)
                batch.set(ref, {"count": firestore.Increment(n), "expiresAt": expires_at}, merge=True)
            for (counter_id, _), result in zip(chunk, batch.commit(), strict=True):
                totals[counter_id] = int(result.transform_results[0].integer_value)
        return totals


class MemoryRateCounter:
    """The same counters in one process, for unit tests."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def add(self, increments: Increments) -> dict[str, int]:
        with self._lock:
            for counter_id, (n, _) in increments.items():
                self.counts[counter_id] = self.counts.get(counter_id, 0) + n
            return {counter_id: self.counts[counter_id] for counter_id in increments}
