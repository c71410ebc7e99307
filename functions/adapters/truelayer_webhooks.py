"""Verifies TrueLayer webhooks: the ``Tl-Signature`` (detached JWS, ES512) over the raw body.

1. The JWS header's ``jku`` must be exactly one of the allow-listed URLs: the signature is only
   as good as the key set it names, and a forger would name their own.
2. That key set is fetched and cached; a ``kid`` not in it refetches at once, at most once per
   ``min_refresh_interval_s`` per URL (so a forged ``kid`` cannot make us hammer TrueLayer).
3. ``verify_with_jwks`` over POST, the path, the signed headers (``X-TL-Webhook-Timestamp`` must
   be among them) and the body bytes exactly as received.

Keys stay the JSON objects TrueLayer serves: ``truelayer-signing`` zero-pads P-521 coordinates
that a JWKS may publish unpadded, which PyJWT's loader (the Clerk cache's) refuses.
"""

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import requests
from truelayer_signing import HttpMethod, extract_jws_header, verify_with_jwks

TIMESTAMP_HEADER = "X-TL-Webhook-Timestamp"


class UnverifiedWebhook(Exception):
    """Any reason a webhook is not accepted. The message is for logs, never for the caller."""


class JwkSets:
    """JWKS documents by URL, cached for ``lifespan_s``; an unknown ``kid`` refetches."""

    def __init__(
        self,
        fetch: Callable[[str], dict[str, Any]] | None = None,
        lifespan_s: float = 300.0,
        min_refresh_interval_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch or _fetch_json
        self._lifespan_s = lifespan_s
        self._min_refresh_interval_s = min_refresh_interval_s
        self._clock = clock
        self._sets: dict[str, tuple[dict[str, Any], float]] = {}  # url -> (jwks, fetched at)
        self._lock = threading.Lock()

    def containing(self, url: str, kid: str) -> dict[str, Any]:
        """The key set at ``url``, holding ``kid``; ``UnverifiedWebhook`` if it does not."""
        with self._lock:
            cached = self._sets.get(url)
            age = None if cached is None else self._clock() - cached[1]
            stale = age is None or age >= self._lifespan_s
            if stale or (not _has_kid(cached[0], kid) and age >= self._min_refresh_interval_s):  # type: ignore[index]
                cached = self._refresh(url)
        if not _has_kid(cached[0], kid):
            raise UnverifiedWebhook(f"no key {kid!r} in {url}")
        return cached[0]

    def _refresh(self, url: str) -> tuple[dict[str, Any], float]:
        try:
            jwks = self._fetch(url)
        except (requests.RequestException, ValueError) as exc:
            raise UnverifiedWebhook(f"cannot load the key set {url}: {exc}") from exc
        if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
            raise UnverifiedWebhook(f"{url} is not a JWKS document")
        self._sets[url] = (jwks, self._clock())
        return self._sets[url]


def _has_kid(jwks: dict[str, Any], kid: str) -> bool:
    return any(isinstance(key, dict) and key.get("kid") == kid for key in jwks["keys"])


def _fetch_json(url: str) -> dict[str, Any]:
    response = requests.get(url, timeout=5)
    response.raise_for_status()
    return response.json()


class WebhookVerifier:
    def __init__(self, allowed_jkus: Iterable[str], key_sets: JwkSets) -> None:
        self._allowed_jkus = frozenset(allowed_jkus)
        self._key_sets = key_sets

    def verify(self, path: str, headers: Mapping[str, str], body: bytes) -> None:
        """Returns if TrueLayer signed exactly this request; ``UnverifiedWebhook`` otherwise."""
        signature = next((value for name, value in headers.items() if name.lower() == "tl-signature"), "")
        if not signature:
            raise UnverifiedWebhook("no Tl-Signature header")
        try:
            header = extract_jws_header(signature)
        except Exception as exc:  # noqa: BLE001 - the library lets malformed input escape as many types
            raise UnverifiedWebhook(f"malformed Tl-Signature: {exc}") from exc
        if header.jku not in self._allowed_jkus:
            raise UnverifiedWebhook(f"jku {header.jku!r} is not allowed")
        jwks = self._key_sets.containing(header.jku, header.kid)
        try:
            (
                verify_with_jwks(jwks, header)
                .set_method(HttpMethod.POST)
                .set_path(path)
                .add_headers(dict(headers))
                .add_required_header(TIMESTAMP_HEADER)
                .set_body(body.decode("utf-8"))
                .verify(signature)
            )
        except Exception as exc:  # noqa: BLE001 - TlSigningException, or bad key material / encoding
            raise UnverifiedWebhook(f"signature does not verify: {type(exc).__name__}: {exc}") from exc
