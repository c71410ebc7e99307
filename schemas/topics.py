"""The one registry of Pub/Sub topics: which event each carries and which function consumes it.

Terraform, the local stack and the publisher all read this table; nothing else names a topic.
"""

from dataclasses import dataclass

from schemas.events import (
    ClockTicked,
    Event,
    GenerationFinished,
    JobCanceled,
    JobRequested,
    JobReserved,
    JobStatusChanged,
)
from schemas.payments import PaymentNotified, RenewalClockTicked, RenewalRequested
from schemas.webhooks import WebhooksClockTicked


@dataclass(frozen=True)
class Topic:
    name: str
    event: type[Event]
    consumer: str  # the event function (entry point in functions/main.py) subscribed to it


TOPICS: tuple[Topic, ...] = (
    Topic("job-requested", JobRequested, "reserve_credits"),
    Topic("job-reserved", JobReserved, "submit_job"),
    Topic("job-canceled", JobCanceled, "cancel_generation"),
    Topic("generation-finished", GenerationFinished, "settle_job"),
    Topic("clock-ticked", ClockTicked, "expire_jobs"),
    Topic("payment-notified", PaymentNotified, "grant_credits"),
    Topic("renewal-clock-ticked", RenewalClockTicked, "schedule_renewals"),
    Topic("renewal-requested", RenewalRequested, "renew_subscription"),
    Topic("job-status-changed", JobStatusChanged, "deliver_webhooks"),
    Topic("webhooks-clock-ticked", WebhooksClockTicked, "retry_webhooks"),
)

DEAD_LETTER_SUFFIX = "-dead-letter"


def topic_for(event_type: type[Event]) -> Topic:
    for topic in TOPICS:
        if topic.event is event_type:
            return topic
    raise KeyError(f"no topic carries {event_type.__name__}")


def topic_named(name: str) -> Topic:
    for topic in TOPICS:
        if topic.name == name:
            return topic
    raise KeyError(f"no topic named {name}")


@dataclass(frozen=True)
class DeliveryPolicy:
    """How every push subscription retries and dead-letters, locally and in production alike."""

    ack_deadline_s: int = 60
    min_backoff_s: int = 1
    max_backoff_s: int = 60
    max_delivery_attempts: int = 10


DELIVERY = DeliveryPolicy()
