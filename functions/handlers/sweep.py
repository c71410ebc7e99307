"""One clock-tick step over its records: each on its own, in a bounded batch, within a deadline.

A record whose handling raises is logged, recorded in ``tick_failures`` (for the operator: which
step, which record, how often, the last error) and skipped; the others proceed. A step stops
early when its deadline passes or when the service every record needs is down (``Outage``):
what it did not reach is still due, so the next tick carries it over.
"""

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from functions.bootstrap import Deps
from functions.core.paths import tick_failure_path
from functions.store.port import Decision, Docs, Put
from schemas.documents import TickFailureDoc

log = logging.getLogger(__name__)
T = TypeVar("T")
KEEP_FOR = timedelta(days=30)


class Outage(Exception):
    """The service behind every record of this step is down: stop the step, retry next tick."""


@dataclass
class Swept:
    step: str
    handled: int = 0
    failed: list[str] = field(default_factory=list)
    carried_over: int = 0  # records left for the next tick (deadline or outage)
    stopped_by: str | None = None


Deadline = Callable[[], bool]  # true once the step's time is up


def until(end: float, clock: Callable[[], float] = time.monotonic) -> Deadline:
    return lambda: clock() >= end


def sweep(deps: Deps, step: str, records: Iterable[tuple[str, T]], handle: Callable[[T], Any], deadline: Deadline) -> Swept:
    """``records`` are ``(record id, record)``, each handed to ``handle`` until ``deadline()``."""
    swept = Swept(step)
    pending = list(records)
    for n, (record_id, record) in enumerate(pending):
        if deadline():
            swept.carried_over, swept.stopped_by = len(pending) - n, "deadline"
            break
        try:
            handle(record)
            swept.handled += 1
        except Outage as exc:
            swept.carried_over, swept.stopped_by = len(pending) - n, f"outage: {exc}"
            break
        except Exception as exc:  # noqa: BLE001 - one bad record must not block the others
            swept.failed.append(record_id)
            log.exception("%s: record %s failed; skipped, the others proceed", step, record_id,
                          extra={"event": "tick_record_failed"})
            _record(deps, step, record_id, exc)
    if swept.failed or swept.carried_over:
        log.warning("%s: %d handled, %d failed, %d carried over to the next tick%s", step, swept.handled, len(swept.failed),
                    swept.carried_over, f" ({swept.stopped_by})" if swept.stopped_by else "", extra={"event": "tick_step"})
    return swept


def _record(deps: Deps, step: str, record_id: str, exc: Exception) -> None:
    now = deps.now()
    path = tick_failure_path(step, record_id)
    try:
        deps.store.decide([path], lambda docs: _decide(docs, path, step, record_id, f"{type(exc).__name__}: {exc}", now))
    except Exception:  # noqa: BLE001 - the log line above already says it; the sweep goes on
        log.exception("%s: could not record the failure of %s", step, record_id)


def _decide(docs: Docs, path: str, step: str, record_id: str, error: str, now: datetime) -> Decision[None]:
    before = TickFailureDoc.from_document(docs[path]) if docs[path] else None
    doc = TickFailureDoc(step=step, record_id=record_id, error=error[:1000], attempts=before.attempts + 1 if before else 1,
                         first_at=before.first_at if before else now, last_at=now, expires_at=now + KEEP_FOR)
    return Decision([Put(path, doc.to_document())], None)
