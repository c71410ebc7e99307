"""Read, decide, commit if nothing changed, else decide again: shared by every store adapter."""

import random
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from functions.store.port import Conflict, Decision, Docs, R, StoreContention, Write

T = TypeVar("T")


def retry_on_conflict(
    attempt: Callable[[], T],
    max_attempts: int = 40,
    base_delay_s: float = 0.005,
    max_delay_s: float = 0.25,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    # 40 attempts let one burst of ~50 writers on a single document all land (one commits per
    # round); beyond that the caller gets a transient error (HTTP 503, or a Pub/Sub redelivery).
    for n in range(max_attempts):
        try:
            return attempt()
        except Conflict:
            # Full jitter: concurrent writers spread out instead of colliding again in lockstep.
            sleep(random.uniform(0, min(max_delay_s, base_delay_s * 2**n)))
    raise StoreContention(f"still conflicting after {max_attempts} attempts")


class OptimisticStore:
    """The decide loop of the store port; an adapter supplies ``_read`` and ``_commit``.

    ``_read`` returns ``{path: (data or None, version)}``; ``_commit`` writes atomically if every
    written path still has the version read, else raises ``Conflict``.
    """

    _sleep: Callable[[float], None] = time.sleep

    def get_many(self, paths: Sequence[str]) -> dict[str, dict[str, Any] | None]:
        return {path: data for path, (data, _) in self._read(paths).items()}

    def decide(self, paths: Sequence[str], decision: Callable[[Docs], Decision[R]]) -> R | None:
        def attempt() -> R | None:
            read = self._read(paths)
            outcome = decision({path: data for path, (data, _) in read.items()})
            if outcome.writes:
                self._commit(outcome.writes, read)
            return outcome.result

        return retry_on_conflict(attempt, sleep=self._sleep)

    def _read(self, paths: Sequence[str]) -> dict[str, tuple[dict[str, Any] | None, Any]]:
        raise NotImplementedError

    def _commit(self, writes: Sequence[Write], read: dict[str, tuple[Any, Any]]) -> None:
        raise NotImplementedError
