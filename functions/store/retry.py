"""The one retry loop for optimistic commits, shared by every store adapter."""

import random
import time
from collections.abc import Callable
from typing import TypeVar

from functions.store.port import Conflict, StoreContention

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
