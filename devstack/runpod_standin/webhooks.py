"""End-of-job webhook delivery, as RunPod does it: POST the status JSON, retry a failure twice.

Every delivery runs on its own daemon thread, so a slow or dead receiver never blocks the API.
Each attempt is written to a ``DeliveryLog`` that ``/_control/webhooks`` reads back.
"""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import requests

from devstack.runpod_standin.faults import DeliveryPlan

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    DELIVERED = "delivered"
    FAILED = "failed"  # one attempt failed; a retry may follow
    GAVE_UP = "gave-up"  # every attempt failed
    DROPPED = "dropped"  # a fault control swallowed it


class DeliveryLog:
    """Thread-safe record of webhook attempts, newest last."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: list[dict[str, Any]] = []

    def record(self, job_id: str, url: str | None, outcome: str, **details: Any) -> None:
        entry = {"at": self._clock(), "jobId": job_id, "url": url, "outcome": outcome, **details}
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


@dataclass(frozen=True)
class DeliveryPolicy:
    retries: int = 2
    retry_delay_s: float = 10.0
    timeout_s: float = 10.0


class WebhookSender:
    def __init__(
        self,
        policy: DeliveryPolicy,
        delivery_log: DeliveryLog,
        post: Callable[..., requests.Response] = requests.post,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._policy = policy
        self._log = delivery_log
        self._post = post  # one connection per attempt: concurrent duplicates really overlap
        self._sleep = sleep
        self._generation = 0  # bumped by reset: deliveries of an older generation stop

    def reset(self) -> None:
        self._generation += 1

    def send(self, job_id: str, url: str, body: dict[str, Any], plan: DeliveryPlan) -> None:
        """Starts delivering in the background, as ``plan`` says."""
        if plan.copies == 0:
            self._log.record(job_id, url, Outcome.DROPPED)
            return
        generation = self._generation
        if plan.concurrent:
            for copy in range(plan.copies):
                self._spawn(self._deliver, job_id, url, body, plan.delay_s, copy, generation)
        else:
            self._spawn(self._deliver_in_turn, job_id, url, body, plan, generation)

    def _deliver_in_turn(
        self, job_id: str, url: str, body: dict[str, Any], plan: DeliveryPlan, generation: int
    ) -> None:
        for copy in range(plan.copies):
            self._deliver(job_id, url, body, plan.delay_s if copy == 0 else 0.0, copy, generation)

    def _deliver(
        self, job_id: str, url: str, body: dict[str, Any], delay_s: float, copy: int, generation: int
    ) -> None:
        if delay_s:
            self._sleep(delay_s)
        attempts = 1 + self._policy.retries
        for attempt in range(1, attempts + 1):
            if generation != self._generation:
                return
            outcome = self._attempt(url, body)
            details = {"copy": copy, "attempt": attempt, **outcome}
            if "statusCode" in outcome and 200 <= outcome["statusCode"] < 300:
                self._log.record(job_id, url, Outcome.DELIVERED, **details)
                return
            self._log.record(job_id, url, Outcome.FAILED, **details)
            if attempt < attempts:
                self._sleep(self._policy.retry_delay_s)
        self._log.record(job_id, url, Outcome.GAVE_UP, copy=copy, attempts=attempts)

    def _attempt(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            response = self._post(url, json=body, timeout=self._policy.timeout_s)
        except requests.RequestException as error:
            log.info("webhook to %s failed: %s", url, error)
            return {"error": f"{type(error).__name__}: {error}"[:300]}
        return {"statusCode": response.status_code}

    @staticmethod
    def _spawn(target: Callable[..., None], *args: Any) -> None:
        threading.Thread(target=target, args=args, daemon=True, name="webhook").start()
