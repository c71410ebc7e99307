"""A local Cloud Scheduler: a clock tick and a webhook tick every ``--interval`` seconds, a renewal
tick every hour."""

import argparse
import time
from datetime import UTC, datetime

from functions.adapters.pubsub import PubSubPublisher
from functions.settings import get_settings
from schemas.events import ClockTicked
from schemas.payments import RenewalClockTicked
from schemas.webhooks import WebhooksClockTicked


RENEWAL_INTERVAL_S = 3600.0


def tick(publisher: PubSubPublisher) -> None:
    publisher.publish(ClockTicked(occurred_at=datetime.now(UTC)))
    publisher.publish(WebhooksClockTicked(occurred_at=datetime.now(UTC)))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack.ticker")
    parser.add_argument("--interval", type=float, default=60.0)
    args = parser.parse_args(argv)
    publisher = PubSubPublisher(get_settings().gcp_project)
    next_renewal = time.monotonic()
    while True:
        tick(publisher)
        if time.monotonic() >= next_renewal:  # as Terraform's hourly billing scheduler does
            publisher.publish(RenewalClockTicked())
            next_renewal += RENEWAL_INTERVAL_S
        time.sleep(args.interval)


if __name__ == "__main__":
    main()
