"""The plan catalogue from the product spec. Prices are in minor units of the billing currency.

The spec lists USD prices; TrueLayer takes GBP or EUR only, so the currency and every price are
configuration (``Settings``) and the spec's numbers are only the defaults.
"""

from collections.abc import Mapping
from dataclasses import dataclass, replace

from schemas.jobs import Quality, credits_for


@dataclass(frozen=True)
class Plan:
    plan_id: str
    name: str
    monthly_credits: int
    price_minor: int
    target_markup: float  # revenue over GPU cost, minus one: the spec's infrastructure markup


PLANS: tuple[Plan, ...] = (
    Plan("starter", "Starter", 80, 1036, 0.85),
    Plan("creator", "Creator", 250, 3063, 0.75),
    Plan("studio", "Studio", 500, 5950, 0.70),
)
EXTRA_CREDIT_PRICE_MINOR = 25

# What a clip costs, in credits, per quality profile: 1 credit per 5 s segment in both.
#
# Why fast is not cheaper: credits are whole (the ledger reserves, settles and refunds integers),
# so a 5 s clip cannot cost less than one without changing the ledger's rules; and "1 credit = 5 s"
# stays one rule a user can learn. A fast clip uses ~1/30 of the denoising compute (3 steps, no
# CFG, against 50 with CFG), so at 1 credit its margin is the best in the catalogue; that margin
# carries the standard profile, whose GPU cost per credit is close to the cheapest plan's price
# per credit (see the cost table in BENCHMARKS.md: bench_gpu prints margin per plan).
CREDITS_PER_SEGMENT: Mapping[Quality, int] = {Quality.STANDARD: 1, Quality.FAST: 1}


def clip_credits(duration_sec: int, quality: Quality) -> int:
    """The credits a clip of ``duration_sec`` costs in ``quality``."""
    return credits_for(duration_sec) * CREDITS_PER_SEGMENT[quality]


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
