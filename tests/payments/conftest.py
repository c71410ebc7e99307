"""Fixtures for the payment tests that run in process: the TrueLayer stand-in's app serving the
production client through a scripted session, and a ``Deps`` of fakes of our own ports.

The end-to-end tests use the shared local-stack fixtures (``tests/conftest.py``) plus
``truelayer_control`` below.
"""

import threading
from typing import Any
from urllib.parse import urlsplit

import flask
import pytest
import requests

from devstack.truelayer_standin.app import StandIn, create_app
from devstack.truelayer_standin.env import LOCAL_CLIENT_ID, LOCAL_CLIENT_SECRET, LOCAL_MERCHANT_ACCOUNT_ID
from devstack.truelayer_standin.keys import LocalKeys
from devstack.truelayer_standin.state import State
from devstack.truelayer_standin.webhooks import WebhookSender
from functions.adapters.truelayer import Credentials, TrueLayerClient, endpoints
from functions.adapters.truelayer_webhooks import JwkSets, WebhookVerifier
from functions.bootstrap import Deps
from functions.settings import Settings
from functions.store.memory import MemoryStore
from tests.helpers import StandInControls
from tests.unit.fakes import Clock, FakePublisher

STANDIN = "http://truelayer.test"
JWKS_URL = f"{STANDIN}/.well-known/jwks"
WEBHOOK_URL = "http://api.test/webhooks/truelayer"


class AppSession:
    """A ``requests.Session`` stand-in that hands each request to a WSGI app in this process."""

    def __init__(self, app: flask.Flask) -> None:
        self._client = app.test_client()
        self._lock = threading.Lock()  # Flask's test client is not meant to be shared by threads
        self.sent: list[dict[str, Any]] = []

    def request(self, method: str, url: str, timeout: float | None = None, headers=None, data=None) -> requests.Response:
        self.sent.append({"method": method, "url": url, "headers": dict(headers or {})})
        with self._lock:
            answer = self._client.open(urlsplit(url).path, method=method, headers=headers, data=data)
        response = requests.Response()
        response.status_code, response._content, response.url = answer.status_code, answer.data, url
        response.headers.update(dict(answer.headers))
        return response


def _nowhere(*args, **kwargs) -> requests.Response:
    raise requests.ConnectionError("unit tests sign and deliver webhooks themselves (flow.webhooks_for)")


@pytest.fixture
def keys(tmp_path) -> LocalKeys:
    return LocalKeys(tmp_path / "truelayer").ensure()


@pytest.fixture
def standin(keys) -> StandIn:
    """The stand-in, in process; its webhooks are not sent anywhere (tests sign and deliver them)."""
    sender = WebhookSender(WEBHOOK_URL, keys, JWKS_URL, f"{STANDIN}/foreign/.well-known/jwks", retries=0,
                           post=_nowhere)
    return StandIn(State(LOCAL_CLIENT_ID, LOCAL_CLIENT_SECRET, LOCAL_MERCHANT_ACCOUNT_ID), keys, sender)


@pytest.fixture
def standin_app(standin) -> flask.Flask:
    return create_app(standin)


@pytest.fixture
def session(standin_app) -> AppSession:
    return AppSession(standin_app)


@pytest.fixture
def truelayer(keys, session) -> TrueLayerClient:
    return TrueLayerClient(
        endpoints("sandbox", STANDIN, STANDIN, f"{STANDIN}/hpp"),
        Credentials(LOCAL_CLIENT_ID, LOCAL_CLIENT_SECRET, keys.client_kid, keys.client_private_pem),
        LOCAL_MERCHANT_ACCOUNT_ID, scopes="payments recurring_payments:commercial", session=session,
    )


@pytest.fixture
def jwks_fetches() -> list[str]:
    return []


@pytest.fixture
def verifier(keys, jwks_fetches) -> WebhookVerifier:
    def fetch(url: str) -> dict:
        jwks_fetches.append(url)
        return keys.webhook_jwks() if url == JWKS_URL else keys.foreign_jwks()

    return WebhookVerifier([JWKS_URL], JwkSets(fetch=fetch, min_refresh_interval_s=0))


@pytest.fixture
def make_payment_deps(truelayer, verifier):
    def make(**settings: Any) -> Deps:
        defaults = {"truelayer_mandates_enabled": True, "truelayer_return_uri": "https://app.test/account"}
        return Deps(Settings(**{**defaults, **settings}), clock=Clock(), store=MemoryStore(), publisher=FakePublisher(),
                    truelayer=truelayer, truelayer_verifier=verifier)

    return make


@pytest.fixture
def deps(make_payment_deps) -> Deps:
    return make_payment_deps()


@pytest.fixture
def truelayer_control(stack):
    """The local stack's TrueLayer stand-in: its controls, reset before the test."""
    return StandInControls(stack.truelayer_url).reset()
