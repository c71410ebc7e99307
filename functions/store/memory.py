"""An in-memory store with the same optimistic semantics as Firestore's, for unit tests."""

import copy
import threading
from collections.abc import Callable, Sequence
from typing import Any

from functions.store.port import Aggregate, Conflict, Delete, Put, Query
from functions.store.retry import OptimisticStore

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: a == b,
    "<": lambda a, b: a is not None and a < b,
    "<=": lambda a, b: a is not None and a <= b,
    ">": lambda a, b: a is not None and a > b,
    ">=": lambda a, b: a is not None and a >= b,
    "in": lambda a, b: a in b,
    "array_contains": lambda a, b: isinstance(a, list) and b in a,
}


class MemoryStore(OptimisticStore):
    _sleep = staticmethod(lambda _: None)  # conflicts resolve at once in memory

    def __init__(self) -> None:
        self._docs: dict[str, tuple[dict[str, Any], int]] = {}
        self._version = 0
        self._lock = threading.Lock()

    def get(self, path: str) -> dict[str, Any] | None:
        return self.get_many([path])[path]

    def query(self, query: Query) -> list[tuple[str, dict[str, Any]]]:
        prefix = query.collection + "/"
        with self._lock:
            rows = [
                (path, copy.deepcopy(data))
                for path, (data, _) in self._docs.items()
                if path.startswith(prefix) and "/" not in path[len(prefix) :]
            ]
        rows = [row for row in rows if all(_COMPARE[op](row[1].get(f), v) for f, op, v in query.where)]
        if query.order_by:
            rows.sort(key=lambda row: (row[1].get(query.order_by), row[0]), reverse=query.descending)
        if query.start_after:
            paths = [path for path, _ in rows]
            if query.start_after in paths:
                rows = rows[paths.index(query.start_after) + 1 :]
        return rows[: query.limit] if query.limit else rows

    def count(self, query: Query) -> int:
        return len(self.query(query))

    def aggregate(self, query: Query, sum_fields: Sequence[str] = ()) -> Aggregate:
        rows = self.query(query)
        sums = {f: float(sum(data.get(f) or 0 for _, data in rows if isinstance(data.get(f), int | float))) for f in sum_fields}
        return Aggregate(len(rows), sums)

    def _read(self, paths: Sequence[str]) -> dict[str, tuple[dict[str, Any] | None, int]]:
        with self._lock:
            found = {path: self._docs.get(path) for path in dict.fromkeys(paths)}
        return {
            path: (copy.deepcopy(entry[0]), entry[1]) if entry else (None, 0)
            for path, entry in found.items()
        }

    def _commit(self, writes: Sequence[Put | Delete], read: dict[str, tuple[Any, int]]) -> None:
        with self._lock:
            for write in writes:
                if write.path not in read:
                    raise ValueError(f"decision wrote {write.path} without reading it")
                current = self._docs.get(write.path)
                if (current[1] if current else 0) != read[write.path][1]:
                    raise Conflict(write.path)
            for write in writes:
                if isinstance(write, Delete):
                    self._docs.pop(write.path, None)
                else:
                    self._version += 1
                    self._docs[write.path] = (copy.deepcopy(write.data), self._version)
