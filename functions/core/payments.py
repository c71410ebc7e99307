"""Decisions about payments: recording a checkout, and applying TrueLayer's notifications.

A payment's state only moves forward (pending -> authorized -> executed -> settled; failed from
any state before a final one), and so does a mandate's. Credits are granted at most once per
payment: the grant is written in the same commit as the payment's move to the granting state and
as the ``truelayer_events/{eventId}`` record, and its ledger id (``grant:{paymentId}`` or
``monthly:{userId}:{yyyy-mm}``) cannot be written twice. Concurrent duplicates of one event, or
two events of one payment, conflict at commit and the loser finds the work done.
"""

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from functions.core import credits
from functions.core.jobs import put
from functions.core.paths import mandate_path, payment_issue_path, payment_path, subscription_path, truelayer_event_path
from functions.core.subscriptions import Period, activated, monthly_entry_id, next_period
from functions.store.port import Decision, Docs, Write
from schemas.documents import LedgerKind
from schemas.payments import (
    MandateDoc,
    PaymentDoc,
    PaymentIssueDoc,
    PaymentKind,
    PaymentNotified,
    PaymentState,
    ProcessedEvent,
    SubscriptionDoc,
    SubscriptionStatus,
)
from schemas.truelayer import MANDATE_STATUS_OF, PAYMENT_STATUS_OF, MandateStatus, PaymentStatus

# TrueLayer retries a webhook for up to 72 h; remember applied events a while longer.
PROCESSED_EVENT_LIFETIME = timedelta(days=7)

log = logging.getLogger(__name__)

_RANK = {PaymentState.PENDING: 0, PaymentState.AUTHORIZED: 1, PaymentState.EXECUTED: 2, PaymentState.SETTLED: 3,
         PaymentState.FAILED: 3}
_FINAL = {PaymentState.SETTLED, PaymentState.FAILED}
_STATE_OF = {PaymentStatus.AUTHORIZED: PaymentState.AUTHORIZED, PaymentStatus.EXECUTED: PaymentState.EXECUTED,
             PaymentStatus.SETTLED: PaymentState.SETTLED, PaymentStatus.FAILED: PaymentState.FAILED}
_MANDATE_RANK = {MandateStatus.AUTHORIZATION_REQUIRED: 0, MandateStatus.AUTHORIZING: 1, MandateStatus.AUTHORIZED: 2,
                 MandateStatus.REVOKED: 3, MandateStatus.FAILED: 3}


class NotRecordedYet(Exception):
    """TrueLayer reports on a payment or mandate we have not recorded yet (a mandate payment can
    execute before our record of it commits): transient, redelivery will find it."""


def advances(current: PaymentState, target: PaymentState) -> bool:
    return current not in _FINAL and (target is PaymentState.FAILED or _RANK[target] > _RANK[current])


def mandate_advances(current: MandateStatus, target: MandateStatus) -> bool:
    return _MANDATE_RANK[current] < 3 and _MANDATE_RANK[target] > _MANDATE_RANK[current]


def grant_state(grant_on: str) -> PaymentState:
    """The state whose arrival grants credits: ``payment_settled`` or ``payment_executed``."""
    return _STATE_OF[PAYMENT_STATUS_OF[grant_on]]


# --- checkout -----------------------------------------------------------------------------------
def record_paths(user_id: str, created: PaymentDoc | MandateDoc) -> list[str]:
    path = payment_path(created.payment_id) if isinstance(created, PaymentDoc) else mandate_path(created.mandate_id)
    return [path, subscription_path(user_id)]


def decide_record(
    docs: Docs,
    user_id: str,
    created: PaymentDoc | MandateDoc,
    update_sub: Callable[[SubscriptionDoc | None], SubscriptionDoc | None] = lambda sub: None,
) -> Decision[bool]:
    """Record a payment or mandate just created at TrueLayer, and what it means for the subscription.

    Recorded once: a duplicate (the same TrueLayer id, from a retried request) changes nothing.
    """
    path = record_paths(user_id, created)[0]
    if docs[path] is not None:
        return Decision(result=False)
    writes: list[Write] = [put(path, created)]
    sub_path = subscription_path(user_id)
    current = docs.get(sub_path)
    sub = update_sub(SubscriptionDoc.from_document(current) if current else None)
    if sub is not None:
        writes.append(put(sub_path, sub))
    return Decision(writes, True)


# --- notifications ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Applied:
    duplicate: bool = False  # this event was applied before
    replan: bool = False  # the subscription moved since the paths were chosen: read again
    state: str | None = None  # the new state, when it moved
    granted: int = 0
    entry_id: str | None = None
    charge_first_period: bool = False  # a mandate is authorised and the first period is unpaid
    user_id: str | None = None
    notes: tuple[str, ...] = field(default=())


def plan_period(payment: PaymentDoc, sub: SubscriptionDoc | None, now: datetime, grace: timedelta) -> Period | None:
    return next_period(sub, now, grace) if payment.kind is PaymentKind.PLAN else None


def grant_entry_id(payment: PaymentDoc, period: Period | None) -> str:
    return monthly_entry_id(payment.user_id, period) if period else f"grant:{payment.payment_id}"


def payment_notification_paths(event: PaymentNotified, payment: PaymentDoc, entry_id: str) -> list[str]:
    return [truelayer_event_path(event.event_id), payment_path(payment.payment_id), subscription_path(payment.user_id),
            *credits.post_paths(payment.user_id, entry_id), payment_issue_path(payment.payment_id)]


def decide_payment_notification(
    docs: Docs, event: PaymentNotified, planned_entry_id: str, grant_on: PaymentState, now: datetime, grace: timedelta
) -> Decision[Applied]:
    event_path = truelayer_event_path(event.event_id)
    if docs[event_path] is not None:
        return Decision(result=Applied(duplicate=True))
    data = docs[payment_path(event.payment_id or "")]
    if data is None:
        raise NotRecordedYet(f"payment {event.payment_id} is not recorded yet")
    payment = PaymentDoc.from_document(data)
    writes: list[Write] = [put(event_path, _processed(event, now))]
    target = _STATE_OF.get(PAYMENT_STATUS_OF.get(event.notification))  # type: ignore[arg-type]
    if target is None or not advances(payment.state, target):
        return Decision(writes, Applied(user_id=payment.user_id))  # late, repeated or informational
    sub_data = docs[subscription_path(payment.user_id)]
    sub = SubscriptionDoc.from_document(sub_data) if sub_data else None
    moved = payment.model_copy(update={"state": target, "updated_at": now, "link": None,
                                       "failure_reason": event.failure_reason if target is PaymentState.FAILED else None,
                                       **({"check_after": None} if target in _FINAL else {})})
    granted, entry_id, notes, sub_changed = 0, None, (), False
    if target is not PaymentState.FAILED and _RANK[target] >= _RANK[grant_on] and payment.granted_entry_id is None:
        period = plan_period(payment, sub, now, grace)
        entry_id = grant_entry_id(payment, period)
        if entry_id != planned_entry_id:
            return Decision(result=Applied(replan=True))
        kind = LedgerKind.MONTHLY if period else LedgerKind.GRANT
        posting = credits.decide_post(docs, payment.user_id, entry_id, kind, payment.credits, now, payment_id=payment.payment_id)
        issue = None if posting.result and posting.result.applied else (
            "entry_exists", f"{entry_id} already exists: payment {payment.payment_id} bought nothing and needs a refund")
        if issue is None:
            writes += posting.writes
            granted = payment.credits
            moved = moved.model_copy(update={"granted_entry_id": entry_id, "period_start": period.start if period else None})
            if period:
                sub, sub_changed = activated(sub or _new_sub(payment, now), payment.plan_id or "", period, now), True
        else:
            notes = (issue[1],)
            if docs[payment_issue_path(payment.payment_id)] is None:
                writes.append(put(payment_issue_path(payment.payment_id), PaymentIssueDoc(
                    payment_id=payment.payment_id, user_id=payment.user_id, kind=issue[0], detail=issue[1],
                    amount_minor=payment.amount_minor, currency=payment.currency, credits=payment.credits, entry_id=entry_id,
                    created_at=now)))
    elif sub and payment.renewal and sub.renewal_payment_id == payment.payment_id:
        sub, sub_changed = sub.model_copy(update={"renewal_state": target, "updated_at": now}), True
    writes.append(put(payment_path(payment.payment_id), moved))
    if sub is not None and sub_changed:
        writes.append(put(subscription_path(payment.user_id), sub))
    return Decision(writes, Applied(state=target.value, granted=granted, entry_id=entry_id, user_id=payment.user_id, notes=notes))


def mandate_notification_paths(event: PaymentNotified, mandate: MandateDoc) -> list[str]:
    return [truelayer_event_path(event.event_id), mandate_path(mandate.mandate_id), subscription_path(mandate.user_id)]


def decide_mandate_notification(docs: Docs, event: PaymentNotified, now: datetime) -> Decision[Applied]:
    data = docs[mandate_path(event.mandate_id or "")]
    if data is None:
        raise NotRecordedYet(f"mandate {event.mandate_id} is not recorded yet")
    mandate = MandateDoc.from_document(data)
    sub_data = docs[subscription_path(mandate.user_id)]
    sub = SubscriptionDoc.from_document(sub_data) if sub_data else None
    event_path = truelayer_event_path(event.event_id)
    if docs[event_path] is not None:
        return Decision(result=Applied(duplicate=True, charge_first_period=_first_unpaid(sub, mandate), user_id=mandate.user_id))
    writes: list[Write] = [put(event_path, _processed(event, now))]
    target = MANDATE_STATUS_OF.get(event.notification)
    if target is not None and mandate_advances(mandate.status, target):
        mandate = mandate.model_copy(update={"status": target, "updated_at": now})
        writes.append(put(mandate_path(mandate.mandate_id), mandate))
        if sub is not None and sub.mandate_id == mandate.mandate_id:
            sub = sub.model_copy(update={"mandate_status": target, "updated_at": now,
                                         **({"renews_at": None} if target is MandateStatus.REVOKED else {})})
            writes.append(put(subscription_path(mandate.user_id), sub))
    applied = Applied(state=mandate.status.value, charge_first_period=_first_unpaid(sub, mandate), user_id=mandate.user_id)
    return Decision(writes, applied)


def _first_unpaid(sub: SubscriptionDoc | None, mandate: MandateDoc) -> bool:
    """The mandate is the subscription's, authorised, and its first period is not paid or charged."""
    return bool(sub and sub.mandate_id == mandate.mandate_id and mandate.status is MandateStatus.AUTHORIZED
                and sub.status is SubscriptionStatus.PENDING and sub.renewal_payment_id is None)


def _processed(event: PaymentNotified, now: datetime) -> ProcessedEvent:
    return ProcessedEvent(event_id=event.event_id, notification=event.notification, payment_id=event.payment_id,
                          mandate_id=event.mandate_id, processed_at=now, expires_at=now + PROCESSED_EVENT_LIFETIME)


def _new_sub(payment: PaymentDoc, now: datetime) -> SubscriptionDoc:
    return SubscriptionDoc(user_id=payment.user_id, plan_id=payment.plan_id or "", created_at=now, updated_at=now)


# --- reconciliation: what a lost webhook would have said ------------------------------------------
_RECONCILE_NAMESPACE = uuid.UUID("6f1d2c1e-8f0e-4a57-9a43-0c1b7f3e2d10")
RECONCILE_FOR = PROCESSED_EVENT_LIFETIME  # past TrueLayer's 72 h of webhook retries, with margin
RECONCILE_MAX_INTERVAL = timedelta(hours=1)
_WEBHOOK_OF_PAYMENT = {status: webhook for webhook, status in PAYMENT_STATUS_OF.items()}
_WEBHOOK_OF_MANDATE = {status: webhook for webhook, status in MANDATE_STATUS_OF.items()}
_MANDATE_SETTLED = {MandateStatus.AUTHORIZED, MandateStatus.REVOKED, MandateStatus.FAILED}


def reconciled_event_id(resource_id: str, status: str) -> str:
    """The same for every reconciler run that finds this resource in this status, so two ticks (or
    a tick and a redelivery) apply it once; a late webhook has TrueLayer's own id but finds the
    payment already moved, and the grant's ledger id cannot be written twice."""
    return str(uuid.uuid5(_RECONCILE_NAMESPACE, f"reconcile:{resource_id}:{status}"))


def payment_webhook_missed(current: PaymentState, remote_status: str) -> str | None:
    """The webhook type TrueLayer would have sent for ``remote_status``, if it is news to us."""
    try:
        webhook = _WEBHOOK_OF_PAYMENT.get(PaymentStatus(remote_status))
    except ValueError:
        return None
    return webhook if webhook and advances(current, _STATE_OF[PAYMENT_STATUS_OF[webhook]]) else None


def mandate_webhook_missed(current: MandateStatus, remote_status: str) -> str | None:
    try:
        webhook = _WEBHOOK_OF_MANDATE.get(MandateStatus(remote_status))
    except ValueError:
        return None
    return webhook if webhook and mandate_advances(current, MANDATE_STATUS_OF[webhook]) else None


def payment_settled(state: PaymentState) -> bool:
    return state in _FINAL


def mandate_settled(status: MandateStatus) -> bool:
    """Nothing left to reconcile: authorised (renewals take over), revoked or failed."""
    return status in _MANDATE_SETTLED


def next_check(now: datetime, created_at: datetime, checks: int, after: timedelta) -> datetime | None:
    """Backoff: after, 2x, 4x ... capped at an hour; None once past TrueLayer's retry window."""
    if now - created_at > RECONCILE_FOR:
        return None
    return now + min(after * (2 ** min(checks + 1, 16)), RECONCILE_MAX_INTERVAL)
