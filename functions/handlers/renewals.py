"""schedule_renewals (renewal-clock-ticked) and renew_subscription (renewal-requested).

The scheduler only finds subscriptions whose renewal is due and requests each one; the renewal
itself runs per subscription, so one user's failing payment never holds up another's. A renewal
charges the authorised mandate if there is one, and otherwise (the common case: commercial VRP
may not be available to us) sends the user a new payment link. Either way the new period's
credits arrive only with its verified payment, through grant_credits.
"""

import logging
from datetime import timedelta

from functions.adapters.truelayer import TrueLayerRejected
from functions.bootstrap import Deps
from functions.core import subscriptions
from functions.core.jobs import put
from functions.core.paths import SUBSCRIPTIONS, payment_path, subscription_path
from functions.core.subscriptions import RenewalAction, RenewalPlan
from functions.handlers.payments import catalogue, metadata, record
from functions.store import Decision, Query
from schemas.payments import PaymentDoc, PaymentKind, PaymentState, RenewalClockTicked, RenewalRequested, SubscriptionDoc

log = logging.getLogger(__name__)
BATCH = 500


def schedule_renewals(event: RenewalClockTicked, deps: Deps) -> None:
    as_of, lead, grace = event.occurred_at, _lead(deps), _grace(deps)
    rows = deps.store.query(Query(SUBSCRIPTIONS, where=[("renewsAt", "<=", as_of + lead)], order_by="renewsAt", limit=BATCH))
    for _, data in rows:
        sub = SubscriptionDoc.from_document(data)
        if subscriptions.renewal_due(sub, as_of, lead, grace):
            deps.publisher.publish(RenewalRequested(user_id=sub.user_id, period_start=sub.renews_at, occurred_at=as_of))


def renew_subscription(event: RenewalRequested, deps: Deps) -> None:
    path = subscription_path(event.user_id)
    data = deps.store.get(path)
    sub = SubscriptionDoc.from_document(data) if data else None
    plan = subscriptions.plan_renewal(sub, event.period_start, event.occurred_at, _grace(deps), _failed_on_mandate(deps, sub))
    if plan.action == RenewalAction.LAPSE:
        deps.store.decide([path], lambda docs: _decide_lapse(docs, event, deps.now()))
    elif plan.action != RenewalAction.NOTHING:
        assert sub is not None
        try:
            try:
                _charge(deps, sub, event, plan)
            except TrueLayerRejected as exc:
                if plan.action != RenewalAction.CHARGE_MANDATE or not sub.truelayer_user_id:
                    raise
                log.warning("mandate charge refused (%s); sending a payment link instead", exc, extra={"user_id": sub.user_id})
                _charge(deps, sub, event, RenewalPlan(RenewalAction.SEND_LINK, plan.attempt))
        except TrueLayerRejected as exc:  # permanent: retrying the same request cannot help; the next tick may
            log.error("renewal of %s refused by TrueLayer: %s", sub.user_id, exc, extra={"user_id": sub.user_id})
    else:
        log.info("renewal of %s for %s: %s", event.user_id, event.period_start, plan.reason, extra={"user_id": event.user_id})


def _charge(deps: Deps, sub: SubscriptionDoc, event: RenewalRequested, plan: RenewalPlan) -> None:
    cat, now = catalogue(deps), deps.now()
    priced = cat.plan(sub.plan_id)
    if priced is None:
        log.error("subscription of %s is on unknown plan %s", sub.user_id, sub.plan_id, extra={"user_id": sub.user_id})
        return
    on_mandate = plan.action == RenewalAction.CHARGE_MANDATE
    # The same period and attempt always send the same key, so a redelivered request cannot charge twice.
    period = event.period_start.isoformat() if event.period_start else "first"
    key = f"renewal-{sub.user_id}-{period}-{plan.attempt}-{'mandate' if on_mandate else 'link'}"
    created = deps.truelayer.create_payment(
        amount_minor=priced.price_minor, currency=cat.currency,
        user=None if on_mandate else {"id": sub.truelayer_user_id or ""},
        metadata=metadata(sub.user_id, PaymentKind.PLAN, priced.monthly_credits, priced.plan_id),
        idempotency_key=key, mandate_id=sub.mandate_id if on_mandate else None,
    )
    link = None if on_mandate else deps.truelayer.payment_link(created, deps.settings.truelayer_return_uri)
    payment = PaymentDoc(
        payment_id=created.id, user_id=sub.user_id, kind=PaymentKind.PLAN, amount_minor=priced.price_minor,
        currency=cat.currency, credits=priced.monthly_credits, plan_id=priced.plan_id, renewal=True,
        mandate_id=sub.mandate_id if on_mandate else None, link=link, truelayer_user_id=sub.truelayer_user_id,
        created_at=now, updated_at=now,
    )

    def open_renewal(current: SubscriptionDoc | None) -> SubscriptionDoc | None:
        if current is None or current.current_period_end != event.period_start:
            return None  # paid or lapsed meanwhile: the payment is recorded, the subscription left alone
        return current.model_copy(update={"renewal_for": event.period_start, "renewal_payment_id": created.id,
                                          "renewal_state": PaymentState.PENDING, "renewal_attempts": plan.attempt,
                                          "updated_at": now})

    if record(deps, sub.user_id, payment, open_renewal):
        log.info("renewal %s of %s for %s: %s", plan.attempt, sub.user_id, period, "mandate charged" if on_mandate else "link sent",
                 extra={"user_id": sub.user_id})


def _decide_lapse(docs, event: RenewalRequested, now) -> Decision[bool]:
    data = docs[subscription_path(event.user_id)]
    sub = SubscriptionDoc.from_document(data) if data else None
    if sub is None or sub.current_period_end != event.period_start or sub.renews_at is None:
        return Decision(result=False)
    return Decision([put(subscription_path(event.user_id), subscriptions.lapsed(sub, now))], True)


def _failed_on_mandate(deps: Deps, sub: SubscriptionDoc | None) -> bool:
    """The open renewal's charge on the mandate failed: try a payment link next."""
    if not sub or not sub.renewal_payment_id or sub.renewal_state is not PaymentState.FAILED:
        return False
    data = deps.store.get(payment_path(sub.renewal_payment_id))
    return bool(data and data.get("mandateId"))


def _lead(deps: Deps) -> timedelta:
    return timedelta(hours=deps.settings.renewal_link_lead_hours)


def _grace(deps: Deps) -> timedelta:
    return timedelta(days=deps.settings.renewal_grace_days)
