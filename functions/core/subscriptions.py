"""Subscription periods and renewals: pure rules over ``SubscriptionDoc``, no I/O.

A plan payment pays for the subscription's *next unpaid period*: contiguous with the current
one while it is (nearly) current, otherwise starting when the money arrives. Periods end on the
anchor day of the following month (clamped to the month's length), so every period starts in a
later calendar month than the one before and ``monthly:{userId}:{yyyy-mm}`` of its start names
each period once.
"""

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta

from schemas.payments import PaymentState, SubscriptionDoc, SubscriptionStatus
from schemas.truelayer import MandateStatus

MAX_RENEWAL_ATTEMPTS = 3  # payment links or mandate charges per period before waiting for the lapse


def add_month(moment: datetime, anchor_day: int) -> datetime:
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    day = min(anchor_day, calendar.monthrange(year, month)[1])
    # A plain datetime, not ``replace``: Firestore's DatetimeWithNanoseconds loses its nanoseconds
    # field through ``replace`` and then cannot be written back.
    return datetime(year, month, day, moment.hour, moment.minute, moment.second, moment.microsecond, tzinfo=moment.tzinfo)


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime
    anchor_day: int

    @property
    def month(self) -> str:
        return f"{self.start:%Y-%m}"


def next_period(sub: SubscriptionDoc | None, now: datetime, grace: timedelta) -> Period:
    """The period the next plan payment pays for."""
    if sub and sub.current_period_end and sub.anchor_day and sub.current_period_end >= now - grace:
        return Period(sub.current_period_end, add_month(sub.current_period_end, sub.anchor_day), sub.anchor_day)
    return Period(now, add_month(now, now.day), now.day)


def monthly_entry_id(user_id: str, period: Period) -> str:
    return f"monthly:{user_id}:{period.month}"


def renews(sub: SubscriptionDoc) -> bool:
    """A revoked mandate stops renewals; everything else renews (by mandate or by payment link)."""
    return sub.mandate_status is not MandateStatus.REVOKED


def activated(sub: SubscriptionDoc, plan_id: str, period: Period, now: datetime) -> SubscriptionDoc:
    """The subscription once a payment for ``period`` is granted; the open renewal is closed."""
    return sub.model_copy(update={
        "plan_id": plan_id,
        "status": SubscriptionStatus.ACTIVE,
        "current_period_start": period.start,
        "current_period_end": period.end,
        "anchor_day": period.anchor_day,
        "renews_at": period.end if renews(sub) else None,
        "renewal_for": None,
        "renewal_payment_id": None,
        "renewal_state": None,
        "renewal_attempts": 0,
        "updated_at": now,
    })


def in_force(sub: SubscriptionDoc | None, now: datetime) -> bool:
    return bool(sub and sub.status is SubscriptionStatus.ACTIVE and sub.current_period_end and sub.current_period_end > now)


# --- renewals -----------------------------------------------------------------------------------
class RenewalAction:
    NOTHING = "nothing"
    LAPSE = "lapse"
    CHARGE_MANDATE = "charge-mandate"
    SEND_LINK = "send-link"


@dataclass(frozen=True)
class RenewalPlan:
    action: str
    attempt: int = 0
    reason: str = ""


def plan_renewal(
    sub: SubscriptionDoc | None, period_start: datetime | None, as_of: datetime, grace: timedelta, failed_on_mandate: bool
) -> RenewalPlan:
    """What a renewal request for the period starting ``period_start`` (None: the first) calls for."""
    if sub is None or sub.status is SubscriptionStatus.LAPSED:
        return RenewalPlan(RenewalAction.NOTHING, reason="no subscription to renew")
    if sub.current_period_end != period_start:
        return RenewalPlan(RenewalAction.NOTHING, reason="that period is already paid, or not due")
    if not renews(sub):
        return RenewalPlan(RenewalAction.NOTHING, reason="renewals were stopped (mandate revoked)")
    if period_start is None and sub.mandate_status is not MandateStatus.AUTHORIZED:
        return RenewalPlan(RenewalAction.NOTHING, reason="the first period is paid by link at subscribe time")
    if period_start is not None and as_of > period_start + grace:
        return RenewalPlan(RenewalAction.LAPSE)
    tried = sub.renewal_attempts if sub.renewal_payment_id and sub.renewal_for == period_start else 0
    if tried and sub.renewal_state is not PaymentState.FAILED:
        return RenewalPlan(RenewalAction.NOTHING, reason="a renewal payment is already open")
    if tried >= MAX_RENEWAL_ATTEMPTS:
        return RenewalPlan(RenewalAction.NOTHING, reason="out of attempts; the subscription will lapse")
    use_mandate = sub.mandate_status is MandateStatus.AUTHORIZED and not failed_on_mandate
    if not use_mandate and not sub.truelayer_user_id:
        return RenewalPlan(RenewalAction.NOTHING, reason="no TrueLayer user to send a payment link to")
    return RenewalPlan(RenewalAction.CHARGE_MANDATE if use_mandate else RenewalAction.SEND_LINK, attempt=tried + 1)


def renewal_due(sub: SubscriptionDoc, as_of: datetime, link_lead: timedelta, grace: timedelta) -> bool:
    """Whether the scheduler should request the renewal of ``sub`` at ``as_of``."""
    if sub.renews_at is None:
        return False
    lead = link_lead if sub.mandate_status is not MandateStatus.AUTHORIZED else timedelta(0)
    if as_of < sub.renews_at - lead:
        return False
    if as_of > sub.renews_at + grace:
        return True  # to lapse it
    open_renewal = sub.renewal_payment_id and sub.renewal_for == sub.renews_at
    return not open_renewal or (sub.renewal_state is PaymentState.FAILED and sub.renewal_attempts < MAX_RENEWAL_ATTEMPTS)


def lapsed(sub: SubscriptionDoc, now: datetime) -> SubscriptionDoc:
    return sub.model_copy(update={"status": SubscriptionStatus.LAPSED, "renews_at": None, "updated_at": now})
