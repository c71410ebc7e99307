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
from datetime import timedelta

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


def reconcile_payments(deps: Deps, deadline: Deadline) -> list[Swept]:
    now = deps.now()

    def due(collection: str) -> list[tuple[str, dict]]:
        query = Query(collection, where=[("checkAfter", "<=", now)], order_by="checkAfter", limit=deps.settings.tick_batch)
        return deps.store.query(query)

    return [
        sweep(deps, "reconcile_payments", due(PAYMENTS), lambda data: _check_payment(deps, data), deadline),
        sweep(deps, "reconcile_mandates", due(MANDATES), lambda data: _check_mandate(deps, data), deadline),
    ]


def _check_payment(deps: Deps, data: dict) -> None:
    payment = PaymentDoc.from_document(data)
    missed = None
    if not payments.payment_settled(payment.state):
        remote = _ask(lambda: deps.truelayer.payment(payment.payment_id))
        missed = payments.payment_webhook_missed(payment.state, remote.status)
        if missed:
            _publish(deps, missed, remote, payment_id=payment.payment_id)
            log.info("TrueLayer says payment %s is %s, we had %s: published %s", payment.payment_id, remote.status,
                     payment.state, missed, extra={"user_id": payment.user_id, "event": "payment_reconciled"})
    _reschedule(deps, payment_path(payment.payment_id), PaymentDoc, lambda p: payments.payment_settled(p.state))


def _check_mandate(deps: Deps, data: dict) -> None:
    mandate = MandateDoc.from_document(data)
    if not payments.mandate_settled(mandate.status):
        remote = _ask(lambda: deps.truelayer.mandate(mandate.mandate_id))
        missed = payments.mandate_webhook_missed(mandate.status, remote.status)
        if missed:
            _publish(deps, missed, remote, mandate_id=mandate.mandate_id)
            log.info("TrueLayer says mandate %s is %s, we had %s: published %s", mandate.mandate_id, remote.status,
                     mandate.status, missed, extra={"user_id": mandate.user_id, "event": "payment_reconciled"})
    _reschedule(deps, mandate_path(mandate.mandate_id), MandateDoc, lambda m: payments.mandate_settled(m.status))


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
