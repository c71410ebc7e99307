"""The plan catalogue from the product spec. Prices are in minor units of the billing currency."""

from dataclasses import dataclass


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
