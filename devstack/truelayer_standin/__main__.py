"""``python -m devstack.truelayer_standin --port P --keys DIR --webhook-url URL [...]``: see the package docstring."""

import argparse
import logging

from devstack.truelayer_standin.app import StandIn, serve
from devstack.truelayer_standin.env import LOCAL_CLIENT_ID, LOCAL_CLIENT_SECRET, LOCAL_MERCHANT_ACCOUNT_ID
from devstack.truelayer_standin.keys import LocalKeys
from devstack.truelayer_standin.state import State
from devstack.truelayer_standin.webhooks import WebhookSender


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack.truelayer_standin", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--keys", required=True, help="the key folder (created and filled if empty)")
    parser.add_argument("--webhook-url", required=True, help="where webhooks go, e.g. http://127.0.0.1:8080/webhooks/truelayer")
    parser.add_argument("--client-id", default=LOCAL_CLIENT_ID)
    parser.add_argument("--client-secret", default=LOCAL_CLIENT_SECRET)
    parser.add_argument("--merchant-account-id", default=LOCAL_MERCHANT_ACCOUNT_ID)
    parser.add_argument("--webhook-retries", type=int, default=2)
    parser.add_argument("--webhook-retry-delay-s", type=float, default=1.0)
    parser.add_argument("--verbose", action="store_true", help="log every HTTP request")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.INFO if args.verbose else logging.WARNING)
    keys = LocalKeys(args.keys).ensure()
    base = f"http://{args.host}:{args.port}"
    webhooks = WebhookSender(args.webhook_url, keys, f"{base}/.well-known/jwks", f"{base}/foreign/.well-known/jwks",
                             args.webhook_retries, args.webhook_retry_delay_s)
    serve(StandIn(State(args.client_id, args.client_secret, args.merchant_account_id), keys, webhooks), args.host, args.port)


if __name__ == "__main__":
    main()
