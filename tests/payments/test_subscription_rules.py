"""Pure rules: billing periods, renewal planning, forward-only payment and mandate states."""

from datetime import UTC, datetime, timedelta

import pytest

from functions.core.payments import advances, grant_state, mandate_advances
from functions.core.plans import priced
from functions.core.subscriptions import (
    MAX_RENEWAL_ATTEMPTS,
    RenewalAction,
    add_month,
    monthly_entry_id,
    next_period,
    plan_renewal,
    renewal_due,
)
from schemas.payments import PaymentState, SubscriptionDoc, SubscriptionStatus
from schemas.truelayer import MandateStatus

T0 = datetime(2027, 1, 31, 9, 30, tzinfo=UTC)
GRACE = timedelta(days=7)


def _sub(**fields) -> SubscriptionDoc:
    return SubscriptionDoc(**{"user_id": "u", "plan_id": "starter", "created_at": T0, "updated_at": T0, **fields})


def test_periods_end_on_the_anchor_day_clamped_to_short_months():
    assert add_month(T0, 31) == datetime(2027, 2, 28, 9, 30, tzinfo=UTC)
    assert add_month(datetime(2027, 2, 28, 9, 30, tzinfo=UTC), 31) == datetime(2027, 3, 31, 9, 30, tzinfo=UTC)
    assert add_month(datetime(2027, 12, 15, tzinfo=UTC), 15) == datetime(2028, 1, 15, tzinfo=UTC)
    assert add_month(datetime(2028, 1, 30, tzinfo=UTC), 30) == datetime(2028, 2, 29, tzinfo=UTC)  # leap year


def test_periods_from_firestore_timestamps_can_be_written_back():
    from google.api_core.datetime_helpers import DatetimeWithNanoseconds

    stored = DatetimeWithNanoseconds(2027, 1, 31, 9, 30, nanosecond=5000, tzinfo=UTC)
    period = next_period(_sub(status=SubscriptionStatus.ACTIVE, current_period_end=stored, anchor_day=31), stored, GRACE)
    # ``replace`` would have returned a DatetimeWithNanoseconds that the Firestore client cannot encode.
    assert type(period.end) is datetime and period.end == datetime(2027, 2, 28, 9, 30, 0, 5, tzinfo=UTC)


def test_contiguous_periods_start_in_distinct_months_so_monthly_ids_never_repeat():
    sub, ids = None, []
    for _ in range(30):
        period = next_period(sub, (sub.current_period_end if sub else T0) - timedelta(days=2), GRACE)
        ids.append(monthly_entry_id("u", period))
        sub = _sub(status=SubscriptionStatus.ACTIVE, current_period_start=period.start, current_period_end=period.end,
                   anchor_day=period.anchor_day)
    assert len(set(ids)) == 30
    assert ids[:3] == ["monthly:u:2027-01", "monthly:u:2027-02", "monthly:u:2027-03"]


def test_a_payment_after_the_grace_period_starts_a_fresh_period_now():
    sub = _sub(status=SubscriptionStatus.ACTIVE, current_period_start=T0, current_period_end=add_month(T0, 31), anchor_day=31)
    late = sub.current_period_end + GRACE + timedelta(seconds=1)
    period = next_period(sub, late, GRACE)
    assert period.start == late and period.anchor_day == late.day
    within = next_period(sub, sub.current_period_end + GRACE, GRACE)
    assert within.start == sub.current_period_end


@pytest.mark.parametrize(("current", "target", "moves"), [
    (PaymentState.PENDING, PaymentState.SETTLED, True),
    (PaymentState.EXECUTED, PaymentState.SETTLED, True),
    (PaymentState.SETTLED, PaymentState.EXECUTED, False),
    (PaymentState.EXECUTED, PaymentState.AUTHORIZED, False),
    (PaymentState.SETTLED, PaymentState.FAILED, False),
    (PaymentState.FAILED, PaymentState.SETTLED, False),
    (PaymentState.AUTHORIZED, PaymentState.FAILED, True),
    (PaymentState.SETTLED, PaymentState.SETTLED, False),
])
def test_payment_states_only_move_forward(current, target, moves):
    assert advances(current, target) is moves


def test_mandate_states_only_move_forward():
    assert mandate_advances(MandateStatus.AUTHORIZATION_REQUIRED, MandateStatus.AUTHORIZED)
    assert mandate_advances(MandateStatus.AUTHORIZED, MandateStatus.REVOKED)
    assert not mandate_advances(MandateStatus.REVOKED, MandateStatus.AUTHORIZED)
    assert not mandate_advances(MandateStatus.AUTHORIZED, MandateStatus.AUTHORIZING)


def test_the_granting_state_is_configuration():
    assert grant_state("payment_settled") is PaymentState.SETTLED
    assert grant_state("payment_executed") is PaymentState.EXECUTED


def test_prices_and_currency_are_configuration_with_the_spec_numbers_as_defaults():
    catalogue = priced("EUR", {"creator": 2900}, 30)
    assert [(p.plan_id, p.price_minor) for p in catalogue.plans] == [("starter", 1036), ("creator", 2900), ("studio", 5950)]
    assert catalogue.currency == "EUR" and catalogue.topup_price_minor(40) == 1200
    with pytest.raises(ValueError, match="unknown plans: gold"):
        priced("GBP", {"gold": 1}, 25)


# --- renewals -----------------------------------------------------------------------------------
END = add_month(T0, 31)
ACTIVE = dict(status=SubscriptionStatus.ACTIVE, current_period_start=T0, current_period_end=END, anchor_day=31,
              renews_at=END, truelayer_user_id="tl-user")


def test_a_due_renewal_sends_a_link_without_a_mandate_and_charges_an_authorised_mandate():
    assert plan_renewal(_sub(**ACTIVE), END, END, GRACE, False).action == RenewalAction.SEND_LINK
    with_mandate = _sub(**ACTIVE, mandate_id="m", mandate_status=MandateStatus.AUTHORIZED)
    assert plan_renewal(with_mandate, END, END, GRACE, False).action == RenewalAction.CHARGE_MANDATE
    assert plan_renewal(with_mandate, END, END, GRACE, True).action == RenewalAction.SEND_LINK  # the charge failed


def test_renewal_requests_for_another_period_an_open_renewal_or_a_revoked_mandate_do_nothing():
    assert plan_renewal(_sub(**ACTIVE), END - timedelta(days=31), END, GRACE, False).action == RenewalAction.NOTHING
    open_renewal = _sub(**ACTIVE, renewal_for=END, renewal_payment_id="p", renewal_state=PaymentState.PENDING, renewal_attempts=1)
    assert plan_renewal(open_renewal, END, END, GRACE, False).action == RenewalAction.NOTHING
    failed = open_renewal.model_copy(update={"renewal_state": PaymentState.FAILED})
    assert plan_renewal(failed, END, END, GRACE, False).attempt == 2
    exhausted = failed.model_copy(update={"renewal_attempts": MAX_RENEWAL_ATTEMPTS})
    assert plan_renewal(exhausted, END, END, GRACE, False).action == RenewalAction.NOTHING
    revoked = _sub(**{**ACTIVE, "renews_at": None}, mandate_id="m", mandate_status=MandateStatus.REVOKED)
    assert plan_renewal(revoked, END, END, GRACE, False).action == RenewalAction.NOTHING


def test_an_unpaid_renewal_lapses_after_the_grace_period():
    assert plan_renewal(_sub(**ACTIVE), END, END + GRACE + timedelta(minutes=1), GRACE, False).action == RenewalAction.LAPSE


def test_the_scheduler_sends_links_ahead_of_the_renewal_date_and_charges_mandates_on_it():
    lead = timedelta(hours=72)
    link_sub = _sub(**ACTIVE)
    assert not renewal_due(link_sub, END - lead - timedelta(minutes=1), lead, GRACE)
    assert renewal_due(link_sub, END - lead, lead, GRACE)
    mandate_sub = _sub(**ACTIVE, mandate_id="m", mandate_status=MandateStatus.AUTHORIZED)
    assert not renewal_due(mandate_sub, END - timedelta(minutes=1), lead, GRACE)
    assert renewal_due(mandate_sub, END, lead, GRACE)
    issued = link_sub.model_copy(update={"renewal_for": END, "renewal_payment_id": "p", "renewal_state": PaymentState.PENDING})
    assert not renewal_due(issued, END, lead, GRACE)
    assert renewal_due(issued, END + GRACE + timedelta(minutes=1), lead, GRACE)  # so that it lapses
