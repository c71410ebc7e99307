"""What a clip costs us and earns: GPU seconds -> dollars, and the margin at each plan's price.

Pure arithmetic for ``bench_gpu --clips``. A plan's revenue per credit is its price over its
monthly credits; top-ups are ``EXTRA_CREDIT_PRICE_MINOR`` a credit. Prices are in minor units of
the billing currency, converted to USD at ``USD_PER_BILLING_UNIT`` (the admin console's rate).
"""

from dataclasses import dataclass

from functions.core.plans import EXTRA_CREDIT_PRICE_MINOR, PLANS, CREDITS_PER_SEGMENT
from schemas.jobs import Quality, segments_for

GPU_PRICE_PER_SECOND_USD = 0.00116  # functions' default (H100 serverless); the bench takes --gpu-price
USD_PER_BILLING_UNIT = 1.27


@dataclass(frozen=True)
class PriceList:
    """Revenue per credit, in USD, by name: each plan, then ``top-up``."""

    per_credit_usd: dict[str, float]

    @classmethod
    def default(cls, usd_per_billing_unit: float = USD_PER_BILLING_UNIT) -> "PriceList":
        rates = {plan.plan_id: plan.price_minor / 100 / plan.monthly_credits * usd_per_billing_unit for plan in PLANS}
        rates["top-up"] = EXTRA_CREDIT_PRICE_MINOR / 100 * usd_per_billing_unit
        return cls(rates)


@dataclass(frozen=True)
class ClipCost:
    duration_sec: int
    quality: Quality
    gpu_seconds: float
    usd: float
    credits: int
    margins: dict[str, float]  # by price name: (revenue - cost) / revenue

    @property
    def worst_margin(self) -> float:
        return min(self.margins.values())


def clip_cost(duration_sec: int, quality: Quality, gpu_seconds: float, prices: PriceList,
              gpu_price_per_second_usd: float = GPU_PRICE_PER_SECOND_USD) -> ClipCost:
    """The cost of one clip that held the GPU ``gpu_seconds``, and its margin at every price."""
    usd = gpu_seconds * gpu_price_per_second_usd
    credits = segments_for(duration_sec) * CREDITS_PER_SEGMENT[quality]
    margins = {name: (credits * rate - usd) / (credits * rate) for name, rate in prices.per_credit_usd.items()}
    return ClipCost(duration_sec, quality, gpu_seconds, usd, credits, margins)


def break_even_gpu_seconds(duration_sec: int, quality: Quality, prices: PriceList,
                           gpu_price_per_second_usd: float = GPU_PRICE_PER_SECOND_USD) -> float:
    """The GPU seconds at which the cheapest price of a credit just covers the clip."""
    credits = segments_for(duration_sec) * CREDITS_PER_SEGMENT[quality]
    return credits * min(prices.per_credit_usd.values()) / gpu_price_per_second_usd

