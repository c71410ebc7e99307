"""Faults armed through ``/_control``: what the next ``/run`` calls, jobs and webhooks suffer.

A plain object guarded by the service's lock; each rule is consumed as it applies.
"""

from collections import deque
from dataclasses import dataclass
from enum import StrEnum

from devstack.runpod_standin.state import Fate


class WebhookAction(StrEnum):
    DROP = "drop"
    DUPLICATE = "duplicate"
    DELAY = "delay"


@dataclass
class WebhookRule:
    action: WebhookAction
    remaining: int  # how many more webhooks it applies to
    job_id: str | None = None  # only this job's webhook, when set
    delay_s: float = 0.0
    concurrent: bool = False

    def matches(self, job_id: str) -> bool:
        return self.remaining > 0 and self.job_id in (None, job_id)


@dataclass(frozen=True)
class DeliveryPlan:
    """How one job's webhook goes out."""

    copies: int = 1  # 0: dropped
    concurrent: bool = False
    delay_s: float = 0.0


@dataclass(frozen=True)
class RunError:
    status: int
    retry_after_s: float | None = None


class FaultPlan:
    def __init__(self) -> None:
        self._run_errors: deque[RunError] = deque()
        self._fates: deque[tuple[Fate, str | None]] = deque()
        self._webhook_rules: list[WebhookRule] = []

    def arm_run_errors(self, error: RunError, count: int) -> None:
        self._run_errors.extend([error] * count)

    def next_run_error(self) -> RunError | None:
        return self._run_errors.popleft() if self._run_errors else None

    def arm_fates(self, fate: Fate, count: int, error: str | None = None) -> None:
        self._fates.extend([(fate, error)] * count)

    def next_fate(self) -> tuple[Fate, str | None] | None:
        return self._fates.popleft() if self._fates else None

    def arm_webhook(self, rule: WebhookRule) -> None:
        self._webhook_rules.append(rule)

    def webhook_plan(self, job_id: str) -> DeliveryPlan:
        """Consumes the rules that apply to this job's webhook; rules for its id come first."""
        drop = duplicate = concurrent = False
        delay_s = 0.0
        applied: set[WebhookAction] = set()
        for rule in sorted(self._webhook_rules, key=lambda r: r.job_id is None):
            if rule.action in applied or not rule.matches(job_id):
                continue
            applied.add(rule.action)
            rule.remaining -= 1
            if rule.action == WebhookAction.DROP:
                drop = True
            elif rule.action == WebhookAction.DUPLICATE:
                duplicate, concurrent = True, rule.concurrent
            else:
                delay_s = rule.delay_s
        self._webhook_rules = [rule for rule in self._webhook_rules if rule.remaining > 0]
        copies = 0 if drop else 2 if duplicate else 1
        return DeliveryPlan(copies=copies, concurrent=concurrent, delay_s=delay_s)

    def describe(self) -> dict[str, object]:
        return {
            "runErrors": [vars(error) for error in self._run_errors],
            "jobFates": [{"fate": fate, "error": error} for fate, error in self._fates],
            "webhookRules": [vars(rule) for rule in self._webhook_rules],
        }
