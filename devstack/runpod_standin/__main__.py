"""``python -m devstack.runpod_standin --port P [...]``: see the package docstring."""

import argparse
import logging

from devstack.runpod_standin.app import serve
from devstack.runpod_standin.config import StandInConfig
from devstack.runpod_standin.webhooks import DeliveryPolicy


def main(argv: list[str] | None = None) -> None:
    defaults = StandInConfig()
    parser = argparse.ArgumentParser(prog="python -m devstack.runpod_standin", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True, help="0 picks a free port (printed)")
    parser.add_argument("--endpoint-id", default=defaults.endpoint_id)
    parser.add_argument("--api-key", default=defaults.api_key)
    parser.add_argument("--worker-key", default=None, help="workers' raw Authorization (default: --api-key)")
    parser.add_argument("--webhook-retries", type=int, default=DeliveryPolicy.retries)
    parser.add_argument("--webhook-retry-delay-s", type=float, default=DeliveryPolicy.retry_delay_s)
    parser.add_argument("--webhook-timeout-s", type=float, default=DeliveryPolicy.timeout_s)
    parser.add_argument("--result-retention-s", type=float, default=defaults.result_retention_s)
    parser.add_argument("--min-execution-timeout-ms", type=int, default=defaults.min_execution_timeout_ms)
    parser.add_argument("--min-ttl-ms", type=int, default=defaults.min_ttl_ms)
    parser.add_argument("--poll-hold-s", type=float, default=defaults.poll_hold_s)
    parser.add_argument("--tick-s", type=float, default=defaults.tick_s)
    parser.add_argument("--verbose", action="store_true", help="log every HTTP request")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.INFO if args.verbose else logging.WARNING)
    config = StandInConfig(
        endpoint_id=args.endpoint_id,
        api_key=args.api_key,
        worker_key=args.worker_key,
        webhook=DeliveryPolicy(args.webhook_retries, args.webhook_retry_delay_s, args.webhook_timeout_s),
        result_retention_s=args.result_retention_s,
        min_execution_timeout_ms=args.min_execution_timeout_ms,
        min_ttl_ms=args.min_ttl_ms,
        poll_hold_s=args.poll_hold_s,
        tick_s=args.tick_s,
    )
    serve(config, args.host, args.port)


if __name__ == "__main__":
    main()
