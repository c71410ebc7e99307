"""Paying for credits: the payment events, the documents that record payments and subscriptions,
and the HTTP bodies of ``/subscribe``, ``/topup`` and ``/account``.

Collections: ``payments/{paymentId}`` (TrueLayer's payment id), ``mandates/{mandateId}``,
``subscriptions/{userId}`` and ``truelayer_events/{eventId}`` (webhook events already applied).
"""

from datetime import UTC, datetime
from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from schemas.base import WireModel
from schemas.documents import Document
from schemas.events import Event
from schemas.truelayer import TRUELAYER_ID, MandateStatus

PLAN_ID = r"^[a-z0-9_-]{1,32}$"
MIN_TOPUP_CREDITS = 10
MAX_TOPUP_CREDITS = 1000

RenewWith = Literal["link", "mandate"]


# --- events -------------------------------------------------------------------------------------
class PaymentNotified(Event):
    """TrueLayer said, in a webhook whose signature we verified, that a payment or mandate moved."""

    step: ClassVar[str] = "truelayer"
    event_id: str = Field(pattern=TRUELAYER_ID)
    notification: str = Field(min_length=1, max_length=64)  # the webhook type, e.g. payment_settled
    payment_id: str | None = Field(default=None, pattern=TRUELAYER_ID)
    mandate_id: str | None = Field(default=None, pattern=TRUELAYER_ID)
    failure_reason: str | None = Field(default=None, max_length=200)

    @property
    def idempotency_key(self) -> str:
        return f"truelayer:{self.event_id}"


class RenewalClockTicked(Event):
    """The billing scheduler's tick: request the renewals due at ``occurredAt``.

    The time is the event's, not the consumer's clock, so a tick stamped in the future (a test,
    or an operator catching up) renews what would be due then.
    """

    step: ClassVar[str] = "renewal-tick"
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @property
    def idempotency_key(self) -> str:
        return f"renewal-tick:{self.occurred_at.isoformat()}"


class RenewalRequested(Event):
    """One subscription's next period is due: charge its mandate or issue a payment link."""

    step: ClassVar[str] = "renewal"
    user_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    period_start: datetime | None = None  # the period to pay for; None: the first one (a mandate just authorised)

    @property
    def idempotency_key(self) -> str:
        return f"renewal:{self.user_id}:{self.period_start.isoformat() if self.period_start else 'first'}"


# --- documents ----------------------------------------------------------------------------------
class PaymentKind(StrEnum):
    TOPUP = "topup"
    PLAN = "plan"


class PaymentState(StrEnum):
    """Our view of a payment; it only moves forward (``settled`` and ``failed`` are final)."""

    PENDING = "pending"  # created; the user has not authorised it yet
    AUTHORIZED = "authorized"
    EXECUTED = "executed"
    SETTLED = "settled"
    FAILED = "failed"


class PaymentDoc(Document):
    payment_id: str
    user_id: str
    kind: PaymentKind
    state: PaymentState = PaymentState.PENDING
    amount_minor: int = Field(ge=1)
    currency: str
    credits: int = Field(ge=1)  # what it buys: the top-up, or the plan's monthly credits
    plan_id: str | None = None
    mandate_id: str | None = None  # charged on this mandate (no user action)
    renewal: bool = False  # pays a renewal (or, on a mandate, the first period)
    link: str | None = None  # the Hosted Payment Page, while the user has to authorise it
    truelayer_user_id: str | None = None
    granted_entry_id: str | None = None
    period_start: datetime | None = None  # the plan period it paid for, set when granted
    failure_reason: str | None = None
    created_at: datetime
    updated_at: datetime
    check_after: datetime | None = None  # when the reconciler next asks TrueLayer; None: final, or given up
    checks: int = 0  # times the reconciler asked (its backoff)


class MandateDoc(Document):
    mandate_id: str
    user_id: str
    plan_id: str
    status: MandateStatus = MandateStatus.AUTHORIZATION_REQUIRED
    created_at: datetime
    updated_at: datetime
    check_after: datetime | None = None
    checks: int = 0


class PaymentIssueDoc(Document):
    """The operator queue (``payment_issues/{paymentId}``): money TrueLayer moved that bought nothing.

    Written in the same commit as the payment's move, so no settled payment is ever only a log
    line. An operator refunds it at TrueLayer or grants by hand, then marks it resolved."""

    payment_id: str
    user_id: str
    kind: Literal["entry_exists"]  # its ledger entry (this period's monthly credits) was already written
    detail: str = Field(max_length=500)
    amount_minor: int
    currency: str
    credits: int
    entry_id: str | None = None
    created_at: datetime
    resolved_at: datetime | None = None
    resolution: str | None = Field(default=None, max_length=500)


class SubscriptionStatus(StrEnum):
    PENDING = "pending"  # the first period is not paid yet
    ACTIVE = "active"  # a paid period; ``renewsAt`` says whether and when it renews
    LAPSED = "lapsed"  # a renewal went unpaid past the grace period, or renewals were stopped


class SubscriptionDoc(Document):
    user_id: str
    plan_id: str
    status: SubscriptionStatus = SubscriptionStatus.PENDING
    renew_with: RenewWith = "link"
    current_period_start: datetime | None = None
    current_period_end: datetime | None = None
    anchor_day: int | None = Field(default=None, ge=1, le=31)  # periods end on this day of the month (or the last)
    renews_at: datetime | None = None  # set while renewals run: what the scheduler queries
    truelayer_user_id: str | None = None
    mandate_id: str | None = None
    mandate_status: MandateStatus | None = None
    renewal_for: datetime | None = None  # the period the open renewal payment pays (None: the first)
    renewal_payment_id: str | None = None
    renewal_state: PaymentState | None = None
    renewal_attempts: int = 0
    created_at: datetime
    updated_at: datetime


class ProcessedEvent(Document):
    """A TrueLayer webhook event already applied; written in the same commit as its effects."""

    event_id: str
    notification: str
    payment_id: str | None = None
    mandate_id: str | None = None
    processed_at: datetime
    expires_at: datetime | None = None  # Firestore's TTL deletes it after TrueLayer's 72 h of retries


# --- HTTP ---------------------------------------------------------------------------------------
class Payer(WireModel):
    """Who pays, as TrueLayer needs it the first time (later payments reuse TrueLayer's user id)."""

    name: str = Field(min_length=1, max_length=140)
    email: str | None = Field(default=None, pattern=r"^[^@\s]{1,64}@[^@\s]{1,255}$")
    phone: str | None = Field(default=None, pattern=r"^\+[0-9]{6,15}$")

    @model_validator(mode="after")
    def _reachable(self) -> "Payer":
        # TrueLayer refuses a payer with neither (our 502); say so as a 422 before calling it.
        if not (self.email or self.phone):
            raise ValueError("payer needs an email or a phone")
        return self


class SubscribeRequest(WireModel):
    plan_id: str = Field(pattern=PLAN_ID)
    renew_with: RenewWith = "link"  # "mandate" needs TrueLayer commercial VRP (TRUELAYER_MANDATES_ENABLED)
    payer: Payer | None = None


class TopUpRequest(WireModel):
    credits: int = Field(ge=MIN_TOPUP_CREDITS, le=MAX_TOPUP_CREDITS, strict=True)
    payer: Payer | None = None


class CheckoutResponse(WireModel):
    """Where the user authorises: a payment (``paymentId``) or, for renewals by mandate, a mandate."""

    link: str
    payment_id: str | None = None
    mandate_id: str | None = None
    amount_minor: int
    currency: str
    credits: int


class PaymentView(WireModel):
    payment_id: str
    kind: PaymentKind
    state: PaymentState
    amount_minor: int
    currency: str
    credits: int
    plan_id: str | None = None
    link: str | None = None  # only while pending
    period_start: datetime | None = None
    failure_reason: str | None = None
    created_at: datetime
    updated_at: datetime


class SubscriptionView(WireModel):
    plan_id: str
    plan_name: str
    monthly_credits: int
    status: SubscriptionStatus
    renew_with: RenewWith
    current_period_start: datetime | None = None
    current_period_end: datetime | None = None
    renews_at: datetime | None = None  # the renewal date; absent when it will not renew
    mandate_status: MandateStatus | None = None
    renewal: PaymentView | None = None  # the open renewal payment (its link, while unpaid)


class AccountView(WireModel):
    user_id: str
    balance: int
    subscription: SubscriptionView | None = None
    payments: list[PaymentView]
