"""The plan catalogue from the product spec. Prices are in minor units of the billing currency.

The spec lists USD prices; TrueLayer takes GBP or EUR only, so the currency and every price are
configuration (``Settings``) and the spec's numbers are only the defaults.
"""

from collections.abc import Mapping
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Plan:
    plan_id: str
    name: str
    monthly_credits: int
    price_minor: int


PLANS: tuple[Plan, ...] = (
    Plan("starter", "Starter", 80, 1036),
    Plan("creator", "Creator", 250, 3063),
    Plan("studio", "Studio", 500, 5950),
)
EXTRA_CREDIT_PRICE_MINOR = 25


def plan_named(plan_id: str) -> Plan | None:
    return next((plan for plan in PLANS if plan.plan_id == plan_id), None)


@dataclass(frozen=True)
class Catalogue:
    """The plans at their configured prices, in one billing currency."""

    plans: tuple[Plan, ...]
    extra_credit_price_minor: int
    currency: str

    def plan(self, plan_id: str) -> Plan | None:
        return next((plan for plan in self.plans if plan.plan_id == plan_id), None)

    def topup_price_minor(self, credits: int) -> int:
        return credits * self.extra_credit_price_minor


def priced(currency: str, plan_prices_minor: Mapping[str, int], extra_credit_price_minor: int) -> Catalogue:
    """The catalogue with prices overridden by ``plan_prices_minor`` (plan id -> minor units)."""
    unknown = set(plan_prices_minor) - {plan.plan_id for plan in PLANS}
    if unknown:
        raise ValueError(f"prices given for unknown plans: {', '.join(sorted(unknown))}")
    plans = tuple(replace(plan, price_minor=plan_prices_minor.get(plan.plan_id, plan.price_minor)) for plan in PLANS)
    return Catalogue(plans, extra_credit_price_minor, currency)
