"""The TrueLayer client against the stand-in's app (in process): signed, idempotent requests,
a cached token, and failures sorted into transient and permanent."""

import pytest
import requests
from truelayer_signing import HttpMethod, verify_with_pem

from devstack.truelayer_standin.keys import LocalKeys, public_pem
from functions.adapters.truelayer import (
    Credentials,
    TrueLayerClient,
    TrueLayerRejected,
    TrueLayerUnavailable,
    endpoints,
)
from tests.payments.conftest import STANDIN, AppSession

PAYER = {"name": "Ada Lovelace", "email": "ada@example.com"}


def _pay(client: TrueLayerClient, key: str = "key-1", amount: int = 1000, **extra):
    return client.create_payment(amount_minor=amount, currency="GBP", user=PAYER, metadata={"k": "v"}, idempotency_key=key, **extra)


def test_posts_carry_an_idempotency_key_and_a_signature_truelayer_accepts(truelayer, session, standin, keys):
    created = _pay(truelayer)
    post = next(s for s in session.sent if s["url"].endswith("/v3/payments"))
    assert post["headers"]["Idempotency-Key"] == "key-1"
    assert standin.requests[-1]["signature"] == "valid" and standin.requests[-1]["status"] == 201
    assert created.status == "authorization_required" and created.resource_token and created.user_id
    payment = truelayer.payment(created.id)
    assert (payment.amount_in_minor, payment.currency, payment.status) == (1000, "GBP", "authorization_required")


def test_the_signature_covers_method_path_idempotency_key_and_body(truelayer, session, keys, standin_app):
    captured = {}

    class Recording(AppSession):
        def request(self, method, url, timeout=None, headers=None, data=None):
            if url.endswith("/v3/payments"):
                captured.update(headers=headers, body=data.decode())
            return super().request(method, url, timeout, headers, data)

    client = TrueLayerClient(truelayer.urls, Credentials("cineweave-local", "local-truelayer-secret", keys.client_kid,
                                                         keys.client_private_pem), "local-merchant-account",
                             session=Recording(standin_app))
    _pay(client)
    check = verify_with_pem(public_pem(keys.client_private_pem)).set_method(HttpMethod.POST).set_path("/v3/payments")
    check.add_header("Idempotency-Key", "key-1").set_body(captured["body"]).verify(captured["headers"]["Tl-Signature"])
    with pytest.raises(Exception):
        verify_with_pem(public_pem(keys.client_private_pem)).set_method(HttpMethod.POST).set_path("/v3/payments") \
            .add_header("Idempotency-Key", "key-2").set_body(captured["body"]).verify(captured["headers"]["Tl-Signature"])


def test_the_token_is_fetched_once_and_renewed_before_it_expires(keys, standin_app):
    session, clock = AppSession(standin_app), [0.0]
    client = TrueLayerClient(endpoints("sandbox", STANDIN, STANDIN, STANDIN),
                             Credentials("cineweave-local", "local-truelayer-secret", keys.client_kid, keys.client_private_pem),
                             "local-merchant-account", session=session, clock=lambda: clock[0])
    _pay(client, "a")
    _pay(client, "b")
    tokens = lambda: sum(s["url"].endswith("/connect/token") for s in session.sent)  # noqa: E731
    assert tokens() == 1
    clock[0] = 3600 - 59  # the token lives 3600 s; it is renewed 60 s early
    _pay(client, "c")
    assert tokens() == 2


def test_the_same_key_returns_the_same_payment_and_another_body_is_refused(truelayer):
    first = _pay(truelayer, "same")
    assert _pay(truelayer, "same").id == first.id
    with pytest.raises(TrueLayerRejected) as refused:
        _pay(truelayer, "same", amount=1001)
    assert refused.value.status == 422


def test_a_request_signed_with_another_key_is_refused_and_creates_nothing(keys, tmp_path, standin_app, standin):
    stranger = LocalKeys(tmp_path / "stranger").ensure()
    client = TrueLayerClient(endpoints("sandbox", STANDIN, STANDIN, STANDIN),
                             Credentials("cineweave-local", "local-truelayer-secret", keys.client_kid, stranger.client_private_pem),
                             "local-merchant-account", session=AppSession(standin_app))
    with pytest.raises(TrueLayerRejected) as refused:
        _pay(client)
    assert refused.value.status == 401
    assert standin.state.all("payment") == []


def test_wrong_client_credentials_are_a_permanent_refusal(keys, standin_app):
    client = TrueLayerClient(endpoints("sandbox", STANDIN, STANDIN, STANDIN),
                             Credentials("cineweave-local", "wrong", keys.client_kid, keys.client_private_pem),
                             "local-merchant-account", session=AppSession(standin_app))
    with pytest.raises(TrueLayerRejected):
        _pay(client)


class Scripted:
    """Answers token requests, then the scripted results (a status code or an exception)."""

    def __init__(self, *results):
        self.results = list(results)

    def request(self, method, url, timeout=None, headers=None, data=None):
        response = requests.Response()
        if url.endswith("/connect/token"):
            response.status_code, response._content = 200, b'{"access_token": "t", "expires_in": 3600}'
            return response
        result = self.results.pop(0)
        if isinstance(result, Exception):
            raise result
        response.status_code, response._content = result, b'{"title": "x", "detail": "scripted"}'
        return response


@pytest.mark.parametrize("result", [500, 503, 429, 409, requests.ConnectionError("down"), requests.Timeout("slow")])
def test_busy_or_unreachable_truelayer_is_transient(keys, result):
    client = TrueLayerClient(endpoints("sandbox"), Credentials("c", "s", keys.client_kid, keys.client_private_pem), "m",
                             session=Scripted(result))
    with pytest.raises(TrueLayerUnavailable):
        _pay(client)


def test_a_401_gets_one_fresh_token_then_is_a_refusal(keys):
    session = Scripted(401, 401)
    client = TrueLayerClient(endpoints("sandbox"), Credentials("c", "s", keys.client_kid, keys.client_private_pem), "m", session=session)
    with pytest.raises(TrueLayerRejected):
        _pay(client)
    assert session.results == []


def test_hosted_payment_page_links(truelayer):
    created = _pay(truelayer)
    assert truelayer.payment_link(created, "https://app.test/account?x=1&y=2") == (
        f"{STANDIN}/hpp/payments#payment_id={created.id}&resource_token={created.resource_token}"
        "&return_uri=https://app.test/account%3Fx%3D1%26y%3D2")
    mandate = truelayer.create_mandate(currency="GBP", max_amount_minor=1036, user=PAYER, metadata={}, idempotency_key="m")
    assert truelayer.mandate_link(mandate, "https://app.test/").startswith(f"{STANDIN}/hpp/mandates#mandate_id={mandate.id}&")


def test_production_and_sandbox_hosts():
    assert endpoints("production").api_base == "https://api.truelayer.com"
    assert endpoints("production").webhook_jwks == "https://webhooks.truelayer.com/.well-known/jwks"
    assert endpoints("sandbox").hpp_base == "https://payment.truelayer-sandbox.com"
    assert endpoints("sandbox", api_base="http://127.0.0.1:9/").api_base == "http://127.0.0.1:9"


def test_a_payment_on_an_authorised_mandate_needs_no_authorisation(truelayer, standin):
    mandate = truelayer.create_mandate(currency="GBP", max_amount_minor=1036, user=PAYER, metadata={}, idempotency_key="m")
    with pytest.raises(TrueLayerRejected):
        _pay(truelayer, "on-mandate", amount=1036, mandate_id=mandate.id)  # not authorised yet
    standin.state.move("mandate", mandate.id, "authorized")
    charged = _pay(truelayer, "on-mandate-2", amount=1036, mandate_id=mandate.id)
    assert charged.status == "authorized" and charged.resource_token is None
    with pytest.raises(TrueLayerRejected):
        _pay(truelayer, "too-much", amount=1037, mandate_id=mandate.id)
