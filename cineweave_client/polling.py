"""Read something again and again until a condition holds, with a deadline."""

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def poll_until(
    read: Callable[[], T],
    until: Callable[[T], bool],
    *,
    timeout_s: float,
    interval_s: float,
    on_update: Callable[[T], None] | None = None,
    describe: Callable[[T], str] = str,
) -> T:
    """The first ``read()`` for which ``until`` holds; ``TimeoutError`` (naming ``describe(last)``)
    once ``timeout_s`` has passed."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = read()
        if on_update:
            on_update(value)
        if until(value):
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{describe(value)} after {timeout_s:.0f} s")
        time.sleep(interval_s)
