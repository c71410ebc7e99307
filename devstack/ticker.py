"""A local Cloud Scheduler: publishes a clock tick every ``--interval`` seconds."""

import argparse
import time
from datetime import UTC, datetime

from functions.adapters.pubsub import PubSubPublisher
from functions.settings import get_settings
from schemas.events import ClockTicked


def tick(publisher: PubSubPublisher) -> None:
    publisher.publish(ClockTicked(occurred_at=datetime.now(UTC)))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack.ticker")
    parser.add_argument("--interval", type=float, default=60.0)
    args = parser.parse_args(argv)
    publisher = PubSubPublisher(get_settings().gcp_project)
    while True:
        tick(publisher)
        time.sleep(args.interval)


if __name__ == "__main__":
    main()
