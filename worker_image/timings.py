"""Seconds spent per stage of a job, reported in the output's ``timings``."""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from time import perf_counter

_DONE = object()


@dataclass
class Timings:
    """Seconds per stage; ``as_wire`` gives the camelCase names the output carries."""

    values: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def measure(self, name: str) -> Iterator[None]:
        """Add the time spent in the ``with`` block to ``name``."""
        started = perf_counter()
        try:
            yield
        finally:
            self.values[name] = self.values.get(name, 0.0) + perf_counter() - started

    def each(self, name: str, items: Iterable) -> Iterator:
        """Iterate ``items``, adding the time spent producing each one to ``name``."""
        iterator = iter(items)
        while True:
            with self.measure(name):
                item = next(iterator, _DONE)
            if item is _DONE:
                return
            yield item

    def as_wire(self) -> dict[str, float]:
        return {f"{name}S": round(seconds, 3) for name, seconds in self.values.items()}
