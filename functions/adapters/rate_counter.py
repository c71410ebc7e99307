"""Counters shared by every instance: Firestore increments, one batch per request.

``hit`` adds one to each counter and answers the counts after it, in one commit: Firestore's
``Increment`` is applied by the server, so concurrent instances never lose a count and never
conflict (no read-then-write, no precondition, no retry). The counters live in ``rateLimits``
with an ``expiresAt`` that Firestore's TTL policy (infra_terraform/firestore.tf) deletes.
"""

import threading
from collections.abc import Sequence
from datetime import datetime

from functions.core.paths import RATE_LIMITS


class FirestoreRateCounter:
    def __init__(self, client) -> None:
        self._db = client

    def hit(self, counter_ids: Sequence[str], expires_at: datetime) -> list[int]:
        from google.cloud import firestore

        batch = self._db.batch()
        for counter_id in counter_ids:
            ref = self._db.collection(RATE_LIMITS).document(counter_id)
            batch.set(ref, {"count": firestore.Increment(1), "expiresAt": expires_at}, merge=True)
        return [int(result.transform_results[0].integer_value) for result in batch.commit()]


class MemoryRateCounter:
    """The same counters in one process, for unit tests."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def hit(self, counter_ids: Sequence[str], expires_at: datetime) -> list[int]:
        with self._lock:
            for counter_id in counter_ids:
                self.counts[counter_id] = self.counts.get(counter_id, 0) + 1
            return [self.counts[counter_id] for counter_id in counter_ids]
