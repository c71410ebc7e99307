"""Rate-limit counters: Firestore increments shared by every instance, and a per-instance tally
that shares them in one batch every interval.

``add`` adds to each counter and answers its total after the commit, in one commit (one per 500
counters, what a batch holds): Firestore's ``Increment`` is applied by the server, so concurrent
instances never lose a count and never conflict (no read-then-write, no precondition, no retry).
The counters live in ``rateLimits`` with an ``expiresAt`` that Firestore's TTL policy
(infra_terraform/firestore.tf) deletes.
"""

import itertools
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from functions.core.paths import RATE_LIMITS

log = logging.getLogger(__name__)

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


def in_background(commit: Callable[[], None]) -> None:
    """Runs a commit on a thread of its own: no request waits for it."""
    threading.Thread(target=commit, name="rate-limit-share", daemon=True).start()


def inline(commit: Callable[[], None]) -> None:
    """Runs a commit in the request that started it (tests: every answer follows its commit)."""
    commit()


@dataclass
class _Tally:
    expires_at: datetime
    shared: int = 0  # the total the last commit answered: every instance's count
    pending: int = 0  # counted here since, not yet committed

    @property
    def total(self) -> int:
        return self.shared + self.pending


class BatchedCounter:
    """Counts in memory and shares with the other instances at most every ``interval_s``.

    ``add`` answers at once, without I/O, the last shared total plus what this instance counted
    since. The request that finds the last commit ``interval_s`` old (and none in flight) starts a
    commit of every pending count of every counter in one ``add`` of the counter it wraps, on a
    thread of its own (``run``), so no request waits on Firestore for its limit. Exact within an
    instance; other instances' counts arrive within an interval (and the commit's round trip).
    """

    def __init__(self, counter, interval_s: float, clock: Callable[[], float] = time.time,
                 run: Callable[[Callable[[], None]], None] = in_background) -> None:
        self._counter = counter
        self._run = run
        self._interval_s = interval_s
        self._clock = clock
        # In the order first counted, which is the order they expire when every counter has the
        # same window (one that does not just waits behind the others to be dropped).
        self._tallies: dict[str, _Tally] = {}
        self._unsent: set[str] = set()  # counters with counts the next commit takes
        self._last_commit = -math.inf
        self._committing = False
        self._lock = threading.Lock()

    def add(self, increments: Increments) -> dict[str, int]:
        with self._lock:
            mine = {counter_id: self._count(counter_id, n, expires_at) for counter_id, (n, expires_at) in increments.items()}
            now = self._clock()
            if self._committing or now - self._last_commit < self._interval_s:
                return {counter_id: tally.total for counter_id, tally in mine.items()}
            self._committing, self._last_commit = True, now
            self._drop_expired(now)
            sending = {key: (self._tallies[key].pending, self._tallies[key].expires_at)
                       for key in self._unsent if key in self._tallies}
            self._unsent = set()
        self._run(lambda: self._commit(sending))
        with self._lock:
            return {counter_id: tally.total for counter_id, tally in mine.items()}

    def _commit(self, sending: Increments) -> None:
        totals: dict[str, int] = {}
        try:
            totals = self._counter.add(sending)
        except Exception as exc:  # noqa: BLE001 - fail open: the limit is protection, not the product
            # The counts stay pending and go with the next commit: they were requests this
            # instance served, and dropping them would let a caller past the limit here too. The
            # cost, if the commit was applied and only its answer lost, is counting them twice:
            # a few early 429s within one window.
            log.warning("rate-limit counters unavailable, sharing later: %s", exc)
            with self._lock:
                self._unsent |= sending.keys()
        finally:
            with self._lock:  # in the same hold as the end of the commit, so the next one sends nothing twice
                for key, total in totals.items():
                    tally = self._tallies[key]
                    tally.pending -= sending[key][0]  # what arrived during the commit stays pending
                    tally.shared = total
                self._committing = False

    def _count(self, counter_id: str, n: int, expires_at: datetime) -> _Tally:
        tally = self._tallies.setdefault(counter_id, _Tally(expires_at))
        tally.pending += n
        self._unsent.add(counter_id)
        return tally

    def _drop_expired(self, now: float) -> None:
        for key in list(itertools.takewhile(lambda key: self._tallies[key].expires_at.timestamp() <= now, self._tallies)):
            del self._tallies[key]
