"""The payments reconciler, a step of the clock tick: ask TrueLayer about every payment and mandate
still open after ``PAYMENT_RECONCILE_AFTER_S`` and publish what its lost webhook would have said.

A webhook can be lost after TrueLayer stopped retrying it, or its ``PaymentNotified`` dropped or
dead-lettered after ``truelayer_webhook`` answered 200 (TrueLayer then never retries). The
reconciler publishes the same ``PaymentNotified`` the webhook would have, with an event id made
from the resource id and its status (``reconciled_event_id``): grant_credits applies it exactly
once, and a late webhook for the same move finds it done. Each record is asked about on its own
(``sweep``), with backoff (``next_check``); a TrueLayer outage stops the step until the next tick.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from functions.adapters.truelayer import TrueLayerRejected, TrueLayerUnavailable
from functions.bootstrap import Deps
from functions.core import payments
from functions.core.paths import MANDATES, PAYMENTS, mandate_path, payment_path
from functions.handlers.sweep import Deadline, Outage, Swept, sweep
from functions.store import Query
from functions.store.port import Decision, Docs, Put
from schemas.payments import MandateDoc, PaymentDoc, PaymentNotified
from schemas.truelayer import Resource

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Open:
    """What the reconciler needs to know about one kind of TrueLayer resource."""

    kind: str  # "payment" or "mandate": also the PaymentNotified field that names it (payment_id, mandate_id)
    collection: str
    model: type[PaymentDoc] | type[MandateDoc]
    path: Callable[[str], str]
    ask: Callable[[Any, str], Resource]  # (the TrueLayer client, the id) -> its status
    state: Callable[[Any], Any]
    settled: Callable[[Any], bool]
    missed: Callable[[Any, str], str | None]


_KINDS = (
    _Open("payment", PAYMENTS, PaymentDoc, payment_path, lambda truelayer, id_: truelayer.payment(id_),
          lambda doc: doc.state, payments.payment_settled, payments.payment_webhook_missed),
    _Open("mandate", MANDATES, MandateDoc, mandate_path, lambda truelayer, id_: truelayer.mandate(id_),
          lambda doc: doc.status, payments.mandate_settled, payments.mandate_webhook_missed),
)


def reconcile_payments(deps: Deps, deadline: Deadline) -> list[Swept]:
    now = deps.now()
    swept = []
    for kind in _KINDS:
        query = Query(kind.collection, where=[("checkAfter", "<=", now)], order_by="checkAfter", limit=deps.settings.tick_batch)
        rows = deps.store.query(query)
        swept.append(sweep(deps, f"reconcile_{kind.collection}", rows, lambda data, k=kind: _check(deps, k, data), deadline))
    return swept


def _check(deps: Deps, kind: _Open, data: dict) -> None:
    doc = kind.model.from_document(data)
    resource_id = getattr(doc, f"{kind.kind}_id")
    if not kind.settled(kind.state(doc)):
        remote = _ask(lambda: kind.ask(deps.truelayer, resource_id))
        missed = kind.missed(kind.state(doc), remote.status)
        if missed:
            _publish(deps, missed, remote, **{f"{kind.kind}_id": resource_id})
            log.info("TrueLayer says %s %s is %s, we had %s: published %s", kind.kind, resource_id, remote.status,
                     kind.state(doc), missed, extra={"user_id": doc.user_id, "event": "payment_reconciled"})
    _reschedule(deps, kind.path(resource_id), kind.model, lambda current: kind.settled(kind.state(current)))


def _ask(request: Callable[[], Resource]) -> Resource:
    try:
        return request()
    except TrueLayerUnavailable as exc:
        raise Outage(str(exc)) from exc
    except TrueLayerRejected as exc:
        raise RuntimeError(f"TrueLayer refused the status request: {exc}") from exc  # this record only


def _publish(deps: Deps, notification: str, remote: Resource, **resource: str) -> None:
    deps.publisher.publish(PaymentNotified(
        event_id=payments.reconciled_event_id(remote.id, remote.status), notification=notification,
        failure_reason=(remote.failure_reason or None) and remote.failure_reason[:200], occurred_at=deps.now(), **resource))


def _reschedule(deps: Deps, path: str, model: type[PaymentDoc] | type[MandateDoc], settled: Callable) -> None:
    """Ask again later with backoff, or never again once settled (or past TrueLayer's retries)."""
    now, after = deps.now(), timedelta(seconds=deps.settings.payment_reconcile_after_s)

    def decide(docs: Docs) -> Decision[None]:
        if docs[path] is None:
            return Decision()
        doc = model.from_document(docs[path])
        when = None if settled(doc) else payments.next_check(now, doc.created_at, doc.checks, after)
        return Decision([Put(path, doc.model_copy(update={"check_after": when, "checks": doc.checks + 1}).to_document())])

    deps.store.decide([path], decide)
