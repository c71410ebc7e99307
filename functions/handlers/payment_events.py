"""truelayer_webhook (HTTP) and grant_credits (payment-notified).

The webhook checks TrueLayer's signature over the raw body before anything else and answers 401,
with no side effect, to anything it cannot verify. Verified events go to Pub/Sub; grant_credits
applies each one exactly once (the event id is recorded in the same commit as its effects).
"""

import logging
from datetime import timedelta

from functions.adapters.truelayer_webhooks import UnverifiedWebhook
from functions.bootstrap import Deps
from functions.core import payments
from functions.core.paths import mandate_path, payment_path, subscription_path, truelayer_event_path
from functions.http.body import json_object
from functions.http.endpoint import Call, Reply
from functions.http.errors import ApiError
from schemas.payments import MandateDoc, PaymentDoc, PaymentNotified, RenewalRequested, SubscriptionDoc
from schemas.truelayer import MANDATE_STATUS_OF, PAYMENT_STATUS_OF, Webhook

log = logging.getLogger(__name__)
MAX_REPLANS = 5


def truelayer_webhook(call: Call, deps: Deps) -> Reply:
    raw = call.request.get_data(cache=True)  # the exact bytes TrueLayer signed; parsed only once verified
    path = deps.settings.truelayer_webhook_path or call.request.path
    try:
        deps.truelayer_verifier.verify(path, dict(call.request.headers), raw)
    except UnverifiedWebhook as exc:
        log.warning("rejected a TrueLayer webhook: %s", exc)
        raise ApiError(401, "unauthorized", "the webhook signature is not valid") from exc
    hook = Webhook.model_validate(json_object(call.request, any_label=True))
    if hook.type not in PAYMENT_STATUS_OF and hook.type not in MANDATE_STATUS_OF:
        log.info("TrueLayer webhook %s of type %s needs nothing from us", hook.event_id, hook.type)
        return 200, {"received": True}
    if deps.store.get(truelayer_event_path(hook.event_id)) is None:  # TrueLayer retries for days: skip the known
        deps.publisher.publish(PaymentNotified(
            event_id=hook.event_id, notification=hook.type, payment_id=hook.payment_id, mandate_id=hook.mandate_id,
            failure_reason=hook.failure_reason, occurred_at=deps.now()))
    return 200, {"received": True}


def grant_credits(event: PaymentNotified, deps: Deps) -> None:
    if event.payment_id:
        _apply_payment(event, deps)
    elif event.mandate_id:
        _apply_mandate(event, deps)
    else:
        log.warning("TrueLayer event %s (%s) names no payment or mandate", event.event_id, event.notification)


def _apply_payment(event: PaymentNotified, deps: Deps) -> None:
    grace = timedelta(days=deps.settings.renewal_grace_days)
    grant_on = payments.grant_state(deps.settings.truelayer_grant_on)
    for _ in range(MAX_REPLANS):
        now = deps.now()
        data = deps.store.get(payment_path(event.payment_id or ""))
        if data is None and deps.store.get(truelayer_event_path(event.event_id)) is None:
            raise payments.NotRecordedYet(f"payment {event.payment_id} is not recorded yet")
        if data is None:
            return
        payment = PaymentDoc.from_document(data)
        sub_data = deps.store.get(subscription_path(payment.user_id))
        sub = SubscriptionDoc.from_document(sub_data) if sub_data else None
        entry_id = payments.grant_entry_id(payment, payments.plan_period(payment, sub, now, grace))
        applied = deps.store.decide(
            payments.payment_notification_paths(event, payment, entry_id),
            lambda docs: payments.decide_payment_notification(docs, event, entry_id, grant_on, now, grace),
        )
        if not applied.replan:
            break
    else:
        raise payments.NotRecordedYet(f"payment {event.payment_id}: the subscription kept moving")  # transient: retry
    for note in applied.notes:
        log.error(note, extra={"user_id": applied.user_id})
    log.info("TrueLayer %s for payment %s: %s", event.notification, event.payment_id,
             "duplicate" if applied.duplicate else f"state {applied.state}, granted {applied.granted} ({applied.entry_id})",
             extra={"user_id": applied.user_id})


def _apply_mandate(event: PaymentNotified, deps: Deps) -> None:
    data = deps.store.get(mandate_path(event.mandate_id or ""))
    if data is None:
        raise payments.NotRecordedYet(f"mandate {event.mandate_id} is not recorded yet")
    mandate = MandateDoc.from_document(data)
    now = deps.now()
    applied = deps.store.decide(
        payments.mandate_notification_paths(event, mandate), lambda docs: payments.decide_mandate_notification(docs, event, now)
    )
    if applied.charge_first_period:
        # Also on a duplicate: the first announcement may be the thing that was lost; renewals are idempotent.
        deps.publisher.publish(RenewalRequested(user_id=mandate.user_id, period_start=None, occurred_at=now))
    log.info("TrueLayer %s for mandate %s: %s", event.notification, event.mandate_id, applied.state or "duplicate",
             extra={"user_id": mandate.user_id})
