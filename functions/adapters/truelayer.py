"""TrueLayer Payments API v3 client: access token, payments, mandates, Hosted Payment Page links.

Every POST carries an ``Idempotency-Key`` and a ``Tl-Signature``: a detached JWS (ES512,
``tl_version`` 2) over the method, the path, the ``Idempotency-Key`` header and the exact body
bytes sent, made with ``truelayer-signing``. The access token (client credentials) is cached
until shortly before it expires.
"""

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests
from truelayer_signing import HttpMethod, sign_with_pem

from schemas.truelayer import CreatedResource, Resource, TokenResponse

TOKEN_MARGIN_S = 60.0  # renew this long before expiry, so a token never dies in flight


@dataclass(frozen=True)
class Endpoints:
    auth_url: str  # the token is at {auth_url}/connect/token
    api_base: str
    hpp_base: str  # Hosted Payment Page
    webhook_jwks: str  # where TrueLayer's webhook signing keys are published


ENVIRONMENTS = {
    "sandbox": Endpoints(
        "https://auth.truelayer-sandbox.com", "https://api.truelayer-sandbox.com",
        "https://payment.truelayer-sandbox.com", "https://webhooks.truelayer-sandbox.com/.well-known/jwks",
    ),
    "production": Endpoints(
        "https://auth.truelayer.com", "https://api.truelayer.com",
        "https://payment.truelayer.com", "https://webhooks.truelayer.com/.well-known/jwks",
    ),
}


def endpoints(environment: str, auth_url: str | None = None, api_base: str | None = None, hpp_base: str | None = None) -> Endpoints:
    """The environment's hosts, each overridable (the local stack points them at its stand-in)."""
    default = ENVIRONMENTS[environment]
    return Endpoints(
        (auth_url or default.auth_url).rstrip("/"),
        (api_base or default.api_base).rstrip("/"),
        (hpp_base or default.hpp_base).rstrip("/"),
        default.webhook_jwks,
    )


@dataclass(frozen=True)
class Credentials:
    client_id: str
    client_secret: str
    signing_key_id: str
    signing_key_pem: str


class TrueLayerUnavailable(Exception):
    """Transient: TrueLayer is unreachable, busy (429, 5xx) or still working on the same key (409)."""


class TrueLayerRejected(Exception):
    """Permanent: TrueLayer refused the request (4xx). ``detail`` is TrueLayer's explanation."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"TrueLayer answered {status}: {detail}")
        self.status, self.detail = status, detail


_TRANSIENT_STATUSES = {408, 409, 429}


class TrueLayerClient:
    def __init__(
        self,
        urls: Endpoints,
        credentials: Credentials,
        merchant_account_id: str,
        scopes: str = "payments",
        session: requests.Session | None = None,
        timeout_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.urls = urls
        self._credentials = credentials
        self._merchant_account_id = merchant_account_id
        self._scopes = scopes
        self._http = session or requests.Session()
        self._timeout_s = timeout_s
        self._clock = clock
        self._token: tuple[str, float] | None = None  # (token, monotonic expiry)
        self._lock = threading.Lock()

    # --- resources ---------------------------------------------------------------------------
    def create_payment(
        self, *, amount_minor: int, currency: str, user: dict[str, str] | None, metadata: dict[str, str],
        idempotency_key: str, mandate_id: str | None = None,
    ) -> CreatedResource:
        """A single payment into our merchant account, or (``mandate_id``) a payment on a mandate."""
        method: dict[str, Any] = (
            {"type": "mandate", "mandate_id": mandate_id}
            if mandate_id
            else {"type": "bank_transfer", "provider_selection": {"type": "user_selected"}, "beneficiary": self._beneficiary()}
        )
        body = {"amount_in_minor": amount_minor, "currency": currency, "payment_method": method,
                "user": user, "metadata": metadata}
        return CreatedResource.model_validate(self._post("/v3/payments", _without_none(body), idempotency_key))

    def create_mandate(
        self, *, currency: str, max_amount_minor: int, user: dict[str, str] | None, metadata: dict[str, str], idempotency_key: str
    ) -> CreatedResource:
        """A commercial VRP mandate allowing one payment of at most ``max_amount_minor`` a month."""
        body = {
            "mandate": {"type": "commercial", "provider_selection": {"type": "user_selected"}, "beneficiary": self._beneficiary()},
            "currency": currency,
            "user": user,
            "constraints": {
                "maximum_individual_amount": max_amount_minor,
                "periodic_limits": {"month": {"maximum_amount": max_amount_minor, "period_alignment": "consent"}},
            },
            "metadata": metadata,
        }
        return CreatedResource.model_validate(self._post("/v3/mandates", _without_none(body), idempotency_key))

    def payment(self, payment_id: str) -> Resource:
        return Resource.model_validate(self._send("GET", f"/v3/payments/{payment_id}"))

    def mandate(self, mandate_id: str) -> Resource:
        return Resource.model_validate(self._send("GET", f"/v3/mandates/{mandate_id}"))

    def payment_link(self, created: CreatedResource, return_uri: str) -> str:
        return self._hpp_link("payments", "payment_id", created, return_uri)

    def mandate_link(self, created: CreatedResource, return_uri: str) -> str:
        return self._hpp_link("mandates", "mandate_id", created, return_uri)

    # --- plumbing ----------------------------------------------------------------------------
    def _beneficiary(self) -> dict[str, str]:
        return {"type": "merchant_account", "merchant_account_id": self._merchant_account_id}

    def _hpp_link(self, kind: str, id_name: str, created: CreatedResource, return_uri: str) -> str:
        if not created.resource_token:
            raise ValueError(f"{created.id} has no resource token: nobody needs to authorise it")
        return (f"{self.urls.hpp_base}/{kind}#{id_name}={created.id}&resource_token={created.resource_token}"
                f"&return_uri={quote(return_uri, safe=':/')}")

    def _post(self, path: str, body: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        raw = json.dumps(body, separators=(",", ":"))
        signature = (
            sign_with_pem(self._credentials.signing_key_id, self._credentials.signing_key_pem)
            .set_method(HttpMethod.POST)
            .set_path(path)
            .add_header("Idempotency-Key", idempotency_key)
            .set_body(raw)
            .sign()
        )
        headers = {"Idempotency-Key": idempotency_key, "Tl-Signature": signature, "Content-Type": "application/json"}
        return self._send("POST", path, data=raw.encode(), headers=headers)

    def _send(self, method: str, path: str, headers: dict[str, str] | None = None, **kwargs: Any) -> dict[str, Any]:
        for attempt in (1, 2):
            response = self._request(method, self.urls.api_base + path,
                                     headers={**(headers or {}), "Authorization": f"Bearer {self._access_token()}"}, **kwargs)
            if response.status_code == 401 and attempt == 1:
                self._token = None  # revoked or expired early: one fresh token, then give up
                continue
            return _json_or_raise(response)
        raise AssertionError("unreachable")

    def _access_token(self) -> str:
        with self._lock:
            if self._token and self._clock() < self._token[1]:
                return self._token[0]
            form = {"grant_type": "client_credentials", "client_id": self._credentials.client_id,
                    "client_secret": self._credentials.client_secret, "scope": self._scopes}
            token = TokenResponse.model_validate(_json_or_raise(self._request("POST", f"{self.urls.auth_url}/connect/token", data=form)))
            self._token = (token.access_token, self._clock() + max(0.0, token.expires_in - TOKEN_MARGIN_S))
            return token.access_token

    def _request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        try:
            return self._http.request(method, url, timeout=self._timeout_s, **kwargs)
        except requests.RequestException as exc:
            raise TrueLayerUnavailable(f"{method} {url}: {exc}") from exc


def _json_or_raise(response: requests.Response) -> dict[str, Any]:
    if response.status_code >= 500 or response.status_code in _TRANSIENT_STATUSES:
        raise TrueLayerUnavailable(f"TrueLayer answered {response.status_code}: {response.text[:300]}")
    try:
        payload = response.json()
    except ValueError:
        payload = {}
    if response.status_code >= 400:
        detail = payload.get("detail") or payload.get("title") or payload.get("error") or response.text[:300]
        raise TrueLayerRejected(response.status_code, str(detail))
    return payload


def _without_none(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if value is not None}
