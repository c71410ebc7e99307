"""Signed webhooks, as TrueLayer sends them, with the faults a test may ask for.

Each webhook is a JSON body with ``X-TL-Webhook-Timestamp`` and a ``Tl-Signature`` whose JWS
header names the key set (``jku``) and signs the timestamp and content type, like TrueLayer's.
A non-2xx answer is retried ``retries`` times. Every attempt is logged with the exact headers
and body sent, so a test can replay (or tamper with) a delivered webhook.

Signature variants: ``valid``; ``corrupt`` (the signature's last bytes altered); ``foreign-jku``
(a valid signature by a key whose JWKS is served here but outside the allow-list); ``missing``.
"""

import json
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

import requests
from truelayer_signing import HttpMethod, sign_with_pem

from devstack.truelayer_standin.keys import LocalKeys

SIGNATURES = ("valid", "corrupt", "foreign-jku", "missing")


class WebhookSender:
    def __init__(
        self, url: str, keys: LocalKeys, jwks_url: str, foreign_jwks_url: str, retries: int = 2,
        retry_delay_s: float = 1.0, post: Callable[..., requests.Response] = requests.post,
    ) -> None:
        self.url, self._keys, self._jwks_url, self._foreign_jwks_url = url, keys, jwks_url, foreign_jwks_url
        self._retries, self._retry_delay_s, self._post = retries, retry_delay_s, post
        self._lock = threading.Lock()
        self._log: list[dict[str, Any]] = []

    def send(self, bodies: list[dict[str, Any]], copies: int = 1, concurrent: bool = False, signature: str = "valid") -> list[str]:
        """Delivers ``bodies`` in order, in the background; returns their event ids."""
        bodies = [with_event_id(body) for body in bodies]
        threading.Thread(target=self._deliver_all, args=(bodies, copies, concurrent, signature), daemon=True).start()
        return [body["event_id"] for body in bodies]

    def signed(self, body: dict[str, Any], signature: str = "valid") -> tuple[str, dict[str, str]]:
        """The exact body and headers a delivery of ``body`` carries."""
        raw = json.dumps(body, separators=(",", ":"))
        return raw, self._headers(raw, signature)

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._log)

    def clear(self) -> None:
        with self._lock:
            self._log.clear()

    def _deliver_all(self, bodies: list[dict[str, Any]], copies: int, concurrent: bool, signature: str) -> None:
        for body in bodies:
            raw, headers = self.signed(body, signature)
            if concurrent:
                start = threading.Barrier(copies)
                threads = [threading.Thread(target=self._deliver, args=(body, raw, headers, n, start), daemon=True)
                           for n in range(copies)]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
            else:
                for n in range(copies):
                    self._deliver(body, raw, headers, n)

    def _headers(self, raw: str, signature: str) -> dict[str, str]:
        timestamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        headers = {"X-TL-Webhook-Timestamp": timestamp, "Content-Type": "application/json"}
        if signature == "missing":
            return headers
        kid, pem = self._keys.foreign_key() if signature == "foreign-jku" else self._keys.webhook_key()
        jku = self._foreign_jwks_url if signature == "foreign-jku" else self._jwks_url
        signed = (sign_with_pem(kid, pem).set_jku(jku).set_method(HttpMethod.POST).set_path(urlparse(self.url).path or "/")
                  .add_header("X-Tl-Webhook-Timestamp", timestamp).add_header("Content-Type", "application/json")
                  .set_body(raw).sign())
        if signature == "corrupt":
            signed = signed[:-6] + ("AAAAAA" if not signed.endswith("AAAAAA") else "BBBBBB")
        return {**headers, "Tl-Signature": signed}

    def _deliver(self, body: dict[str, Any], raw: str, headers: dict[str, str], copy: int,
                 start: threading.Barrier | None = None) -> None:
        if start is not None:
            start.wait(timeout=5)  # the copies leave together: concurrent duplicates really overlap
        for attempt in range(1, self._retries + 2):
            entry = {"at": time.time(), "eventId": body["event_id"], "type": body["type"], "copy": copy, "attempt": attempt,
                     "url": self.url, "headers": headers, "body": raw}
            try:
                response = self._post(self.url, data=raw.encode(), headers=headers, timeout=10)
                entry["statusCode"] = response.status_code
            except requests.RequestException as exc:
                entry["error"] = f"{type(exc).__name__}: {exc}"[:300]
            with self._lock:
                self._log.append(entry)
            if 200 <= entry.get("statusCode", 0) < 300:
                return
            if attempt <= self._retries:
                time.sleep(self._retry_delay_s)


def with_event_id(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "event_id": str(uuid.uuid4()), "event_version": 1}
