"""Rate limits as fixed windows: a rule, the window a moment falls in, and what a count means.

A counter counts one caller's requests under one rule in one window (``user:u1:read:1764612000``).
Windows are fixed, so a counter document is written only during its own window and then expires:
no document sees a sustained stream of writes for longer than one window.
"""

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    name: str  # read, create, write, payment, anonymous, callback
    limit: int  # requests per window
    window_s: int


@dataclass(frozen=True)
class Window:
    start: int  # Unix seconds
    end: int

    def reset_s(self, now: float) -> int:
        """Whole seconds until the window ends, at least 1 (what Retry-After and X-RateLimit-Reset say)."""
        return max(1, math.ceil(self.end - now))


def window_of(rule: Rule, now: float) -> Window:
    start = int(now // rule.window_s) * rule.window_s
    return Window(start, start + rule.window_s)


def counter_id(subject: str, rule: Rule, window: Window) -> str:
    return f"{subject}:{rule.name}:{window.start}"


@dataclass(frozen=True)
class Quota:
    """Where one caller stands under one rule, after counting this request."""

    rule: Rule
    used: int
    reset_s: int

    @property
    def allowed(self) -> bool:
        return self.used <= self.rule.limit

    @property
    def remaining(self) -> int:
        return max(0, self.rule.limit - self.used)

    def headers(self) -> dict[str, str]:
        headers = {"X-RateLimit-Limit": str(self.rule.limit), "X-RateLimit-Remaining": str(self.remaining),
                   "X-RateLimit-Reset": str(self.reset_s)}
        if not self.allowed:
            headers["Retry-After"] = str(self.reset_s)
        return headers


def tightest(quotas: list[Quota]) -> Quota:
    """Of a caller's counters under one rule (its user's and its key's), the one nearest its limit."""
    return max(quotas, key=lambda quota: quota.used - quota.rule.limit)
