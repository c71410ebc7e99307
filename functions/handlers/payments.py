"""POST /subscribe, POST /topup, GET /account: payment links, and what the user has paid for.

Credits never arrive here: a link only starts a payment. They arrive when TrueLayer's verified
webhook says the money moved (``payment_events``).
"""

import uuid
from datetime import timedelta
from collections.abc import Callable
from typing import TypeVar

from functions.adapters.truelayer import TrueLayerRejected, TrueLayerUnavailable
from functions.bootstrap import Deps
from functions.core import payments
from functions.core.errors import InputRejected
from functions.core.jobs import load_user
from functions.core.paths import PAYMENTS, payment_path, subscription_path, user_path
from functions.core.plans import Catalogue, priced
from functions.core.subscriptions import in_force
from functions.http.body import json_object
from functions.http.endpoint import Call, Reply
from functions.http.errors import ApiError
from functions.store import Query
from schemas.payments import (
    AccountView,
    CheckoutResponse,
    MandateDoc,
    Payer,
    PaymentDoc,
    PaymentKind,
    PaymentState,
    PaymentView,
    SubscribeRequest,
    SubscriptionDoc,
    SubscriptionStatus,
    SubscriptionView,
    TopUpRequest,
)
from schemas.truelayer import MandateStatus

RECENT_PAYMENTS = 20
T = TypeVar("T")


def catalogue(deps: Deps) -> Catalogue:
    s = deps.settings
    return priced(s.billing_currency, s.plan_prices_minor, s.extra_credit_price_minor)


def subscribe(call: Call, deps: Deps) -> Reply:
    body = SubscribeRequest.model_validate(json_object(call.request))
    cat = catalogue(deps)
    plan = cat.plan(body.plan_id)
    if plan is None:
        raise InputRejected("unknown_plan", f"there is no plan {body.plan_id!r}", "planId")
    if body.renew_with == "mandate" and not deps.settings.truelayer_mandates_enabled:
        raise InputRejected("mandates_unavailable", "renewal by mandate (commercial VRP) is not available", "renewWith")
    now = deps.now()
    sub = _subscription(deps, call.user_id)
    if in_force(sub, now):
        raise ApiError(409, "already_subscribed", "the subscription is paid until its renewal date; it renews by itself")
    user = payer_for(body.payer, known_truelayer_user(deps, call.user_id, sub))
    meta = metadata(call.user_id, PaymentKind.PLAN, plan.monthly_credits, plan.plan_id)
    tl, return_uri = deps.truelayer, deps.settings.truelayer_return_uri
    if body.renew_with == "mandate":
        created = at_truelayer(lambda: tl.create_mandate(currency=cat.currency, max_amount_minor=plan.price_minor, user=user,
                                                         metadata=meta, idempotency_key=str(uuid.uuid4())))
        created_doc: PaymentDoc | MandateDoc = MandateDoc(mandate_id=created.id, user_id=call.user_id, plan_id=plan.plan_id,
                                                     created_at=now, updated_at=now)
        link, changes = tl.mandate_link(created, return_uri), {"mandate_id": created.id, "mandate_status": MandateStatus.AUTHORIZATION_REQUIRED}
    else:
        created = at_truelayer(lambda: tl.create_payment(amount_minor=plan.price_minor, currency=cat.currency, user=user,
                                                         metadata=meta, idempotency_key=str(uuid.uuid4())))
        link = tl.payment_link(created, return_uri)
        created_doc = PaymentDoc(payment_id=created.id, user_id=call.user_id, kind=PaymentKind.PLAN, amount_minor=plan.price_minor,
                            currency=cat.currency, credits=plan.monthly_credits, plan_id=plan.plan_id, link=link,
                            truelayer_user_id=created.user_id, created_at=now, updated_at=now)
        changes = {"mandate_id": None, "mandate_status": None}

    def update(current: SubscriptionDoc | None) -> SubscriptionDoc:
        base = current or SubscriptionDoc(user_id=call.user_id, plan_id=plan.plan_id, created_at=now, updated_at=now)
        status = base.status if base.status is SubscriptionStatus.ACTIVE else SubscriptionStatus.PENDING
        return base.model_copy(update={"plan_id": plan.plan_id, "renew_with": body.renew_with, "status": status, "updated_at": now,
                                       "truelayer_user_id": created.user_id or base.truelayer_user_id, **changes})

    record(deps, call.user_id, created_doc, update)
    return 201, CheckoutResponse(link=link, payment_id=getattr(created_doc, "payment_id", None), mandate_id=getattr(created_doc, "mandate_id", None),
                                 amount_minor=plan.price_minor, currency=cat.currency, credits=plan.monthly_credits)


def topup(call: Call, deps: Deps) -> Reply:
    body = TopUpRequest.model_validate(json_object(call.request))
    cat, now = catalogue(deps), deps.now()
    amount = cat.topup_price_minor(body.credits)
    user = payer_for(body.payer, known_truelayer_user(deps, call.user_id, _subscription(deps, call.user_id)))
    created = at_truelayer(lambda: deps.truelayer.create_payment(
        amount_minor=amount, currency=cat.currency, user=user, metadata=metadata(call.user_id, PaymentKind.TOPUP, body.credits),
        idempotency_key=str(uuid.uuid4())))
    link = deps.truelayer.payment_link(created, deps.settings.truelayer_return_uri)
    record(deps, call.user_id, PaymentDoc(
        payment_id=created.id, user_id=call.user_id, kind=PaymentKind.TOPUP, amount_minor=amount, currency=cat.currency,
        credits=body.credits, link=link, truelayer_user_id=created.user_id, created_at=now, updated_at=now))
    return 201, CheckoutResponse(link=link, payment_id=created.id, amount_minor=amount, currency=cat.currency, credits=body.credits)


def get_account(call: Call, deps: Deps) -> Reply:
    user = load_user({user_path(call.user_id): deps.store.get(user_path(call.user_id))}, call.user_id, deps.now())
    recent = [PaymentDoc.from_document(data) for _, data in deps.store.query(
        Query(PAYMENTS, where=[("userId", "==", call.user_id)], order_by="createdAt", descending=True, limit=RECENT_PAYMENTS))]
    sub = _subscription(deps, call.user_id)
    view = None
    if sub is not None:
        plan = catalogue(deps).plan(sub.plan_id)
        renewal = deps.store.get(payment_path(sub.renewal_payment_id)) if sub.renewal_payment_id else None
        view = SubscriptionView(
            plan_id=sub.plan_id, plan_name=plan.name if plan else sub.plan_id, monthly_credits=plan.monthly_credits if plan else 0,
            status=sub.status, renew_with=sub.renew_with, current_period_start=sub.current_period_start,
            current_period_end=sub.current_period_end, renews_at=sub.renews_at, mandate_status=sub.mandate_status,
            renewal=payment_view(PaymentDoc.from_document(renewal)) if renewal else None)
    return 200, AccountView(user_id=call.user_id, balance=user.balance, subscription=view, payments=[payment_view(p) for p in recent])


# --- shared with renewals -----------------------------------------------------------------------
def at_truelayer(request: Callable[[], T]) -> T:
    """Calls TrueLayer for an HTTP handler: its failures become 503 (try again) or 502 (refused)."""
    try:
        return request()
    except TrueLayerUnavailable as exc:
        raise ApiError(503, "payment_provider_unavailable", "the payment provider is busy; try again shortly") from exc
    except TrueLayerRejected as exc:
        raise ApiError(502, "payment_provider_refused", f"the payment provider refused the payment: {exc.detail}") from exc


def payer_for(payer: Payer | None, known_user_id: str | None) -> dict[str, str]:
    """TrueLayer's ``user``: its id once it knows the user, plus whatever the user told us now."""
    if payer is None and known_user_id is None:
        raise InputRejected("payer_required", "the first payment needs payer.name and payer.email (or payer.phone)", "payer")
    details = payer.model_dump(exclude_none=True) if payer else {}
    return {**({"id": known_user_id} if known_user_id else {}), **details}


def known_truelayer_user(deps: Deps, user_id: str, sub: SubscriptionDoc | None) -> str | None:
    if sub and sub.truelayer_user_id:
        return sub.truelayer_user_id
    rows = deps.store.query(Query(PAYMENTS, where=[("userId", "==", user_id)], order_by="createdAt", descending=True, limit=1))
    return rows[0][1].get("truelayerUserId") if rows else None


def metadata(user_id: str, kind: PaymentKind, credits: int, plan_id: str | None = None) -> dict[str, str]:
    """Echoed in TrueLayer's webhooks; for people reading TrueLayer's console, never trusted for amounts."""
    meta = {"cineweave_user": user_id, "cineweave_kind": kind.value, "cineweave_credits": str(credits)}
    return {**meta, **({"cineweave_plan": plan_id} if plan_id else {})}


def payment_view(payment: PaymentDoc) -> PaymentView:
    return PaymentView(
        payment_id=payment.payment_id, kind=payment.kind, state=payment.state, amount_minor=payment.amount_minor,
        currency=payment.currency, credits=payment.credits, plan_id=payment.plan_id,
        link=payment.link if payment.state is PaymentState.PENDING else None, period_start=payment.period_start,
        failure_reason=payment.failure_reason, created_at=payment.created_at, updated_at=payment.updated_at)


def record(deps: Deps, user_id: str, created: PaymentDoc | MandateDoc, update_sub=lambda sub: None) -> bool:
    """Records what was just created at TrueLayer; false if it was recorded before. The payments
    reconciler asks TrueLayer about it if it is still open after ``payment_reconcile_after_s``."""
    created = created.model_copy(update={"check_after": created.created_at + timedelta(seconds=deps.settings.payment_reconcile_after_s)})
    return bool(deps.store.decide(payments.record_paths(user_id, created),
                                  lambda docs: payments.decide_record(docs, user_id, created, update_sub)))


def _subscription(deps: Deps, user_id: str) -> SubscriptionDoc | None:
    data = deps.store.get(subscription_path(user_id))
    return SubscriptionDoc.from_document(data) if data else None
