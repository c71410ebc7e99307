"""The store port.

Business rules never hold a database transaction open. They are pure *decisions*: given the
current documents at a few paths, return the writes to make. The store reads the documents, asks
for the decision and commits the writes atomically on the condition that every document written
is still as it was read (or still absent). If another writer got there first, it reads again and
asks again. This is optimistic concurrency: exact under concurrent writers, and fast on the
Firestore emulator, whose pessimistic transactions livelock past ~20 writers on one document.

A decision must depend only on documents it writes: unwritten documents carry no precondition.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, Protocol, TypeVar

R = TypeVar("R")
Docs = Mapping[str, dict[str, Any] | None]


@dataclass(frozen=True)
class Put:
    """Create the document (if it was absent when read) or replace it (if unchanged since read)."""

    path: str
    data: dict[str, Any]


@dataclass(frozen=True)
class Delete:
    path: str


Write = Put | Delete


@dataclass(frozen=True)
class Decision(Generic[R]):
    writes: Sequence[Write] = ()
    result: R | None = None


class Conflict(Exception):
    """A precondition failed at commit: someone else wrote first. The store retries."""


class StoreContention(Exception):
    """Still conflicting after the store's retries: transient, let the caller's retry handle it."""


@dataclass(frozen=True)
class Query:
    collection: str  # a collection path, e.g. "jobs" or "users/u1/ledger"
    where: Sequence[tuple[str, Literal["==", "<", "<=", ">", ">=", "in", "array_contains"], Any]] = ()
    order_by: str | None = None
    descending: bool = False
    limit: int | None = None
    start_after: str | None = None  # the path of the last document of the previous page


@dataclass(frozen=True)
class Aggregate:
    """A server-side aggregation's answer: how many documents matched, and sums of fields."""

    count: int
    sums: Mapping[str, float]


class Store(Protocol):
    def get(self, path: str) -> dict[str, Any] | None: ...

    def get_many(self, paths: Sequence[str]) -> dict[str, dict[str, Any] | None]: ...

    def decide(self, paths: Sequence[str], decision: Callable[[Docs], Decision[R]]) -> R | None:
        """Read ``paths``, apply ``decision`` and commit its writes atomically; retry on conflict."""
        ...

    def query(self, query: Query) -> list[tuple[str, dict[str, Any]]]:
        """Documents matching ``query`` as ``(path, data)`` pairs."""
        ...

    def count(self, query: Query) -> int:
        """How many documents match ``query`` (counted server-side: no document is read)."""
        ...

    def aggregate(self, query: Query, sum_fields: Sequence[str] = ()) -> Aggregate:
        """Count (and sum ``sum_fields`` of) the documents matching ``query``, without reading them:
        Firestore bills one read per 1,000 index entries scanned."""
        ...
