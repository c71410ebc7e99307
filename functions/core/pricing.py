"""What a GPU second costs, by the GPU that served it (RunPod bills each type at its own price).

The worker reports the device's own name (``NVIDIA H100 80GB HBM3``, ``NVIDIA L40S``); the price
table names types briefly (``H100``, ``L40S``). A name matches the longest table key it contains,
ignoring case and spaces, so ``L40S`` is never priced as an ``L40``.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass

UNKNOWN_GPU = "unknown"


def _squash(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


@dataclass(frozen=True)
class GpuPrices:
    per_second_usd: Mapping[str, float]  # price table key -> USD per GPU second
    fallback_usd: float  # a GPU the table does not name (or none reported): the preferred type's price

    def gpu_type(self, reported: str | None) -> str:
        """The price table's name for a reported device, else ``unknown``."""
        if reported:
            squashed = _squash(reported)
            for key in sorted(self.per_second_usd, key=lambda k: -len(_squash(k))):
                if _squash(key) and _squash(key) in squashed:
                    return key
        return UNKNOWN_GPU

    def price(self, gpu_type: str) -> float:
        return self.per_second_usd.get(gpu_type, self.fallback_usd)

    def cost_usd(self, gpu_seconds: float, gpu_type: str) -> float:
        return round(gpu_seconds * self.price(gpu_type), 6)
