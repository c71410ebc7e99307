"""Counts the documents a request reads, in Firestore's billing terms, around any store.

A document fetched is one read (a missing one too); a query reads what it returns (at least
one); an aggregation reads one per 1,000 index entries it scans (at least one). Admin reports
print the figure, so what a page costs is measured on every call, not estimated. A report may ask
side by side from several threads, so the tally is taken under a lock.
"""

import math
import threading
from collections.abc import Callable, Sequence
from typing import Any

from functions.store.port import Aggregate, Decision, Docs, Query, R, Store

AGGREGATION_ENTRIES_PER_READ = 1000


class ReadMeter:
    def __init__(self, store: Store) -> None:
        self._store = store
        self.reads = 0
        self.round_trips = 0
        self._lock = threading.Lock()

    def _count(self, reads: int) -> None:
        with self._lock:  # `+=` is a read and a write: two threads could each add to the same old total
            self.reads += max(1, reads)
            self.round_trips += 1

    def get(self, path: str) -> dict[str, Any] | None:
        self._count(1)
        return self._store.get(path)

    def get_many(self, paths: Sequence[str]) -> dict[str, dict[str, Any] | None]:
        self._count(len(set(paths)))
        return self._store.get_many(paths)

    def query(self, query: Query) -> list[tuple[str, dict[str, Any]]]:
        rows = self._store.query(query)
        self._count(len(rows))
        return rows

    def aggregate(self, query: Query, sum_fields: Sequence[str] = ()) -> Aggregate:
        found = self._store.aggregate(query, sum_fields)
        self._count(math.ceil(found.count / AGGREGATION_ENTRIES_PER_READ))
        return found

    def decide(self, paths: Sequence[str], decision: Callable[[Docs], Decision[R]]) -> R | None:
        raise TypeError("a metered store is for reports: it reads, it does not decide")

    def count(self, query: Query) -> int:
        return self.aggregate(query).count
