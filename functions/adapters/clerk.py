"""Verifies Clerk session tokens (RS256 JWTs) against the instance's JWKS.

PyJWT's ``PyJWKClient`` waits 30 s before refetching on an unknown ``kid``, so after a key
rotation valid tokens would fail for half a minute. This cache refetches at once on an unknown
``kid``, at most once per ``min_refresh_interval_s`` (a forged ``kid`` cannot make us hammer Clerk).
"""

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt
import requests

USER_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class InvalidToken(Exception):
    """Any reason a token is not accepted. The message is for logs, never for the client."""


@dataclass(frozen=True)
class Principal:
    user_id: str
    is_admin: bool


class JwksCache:
    def __init__(
        self,
        url: str,
        fetch: Callable[[str], dict[str, Any]] | None = None,
        lifespan_s: float = 300.0,
        min_refresh_interval_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = url
        self._fetch = fetch or _fetch_json
        self._lifespan_s = lifespan_s
        self._min_refresh_interval_s = min_refresh_interval_s
        self._clock = clock
        self._keys: dict[str, Any] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()

    def key(self, kid: str) -> Any:
        fresh = self._fetched_at is not None and self._clock() - self._fetched_at < self._lifespan_s
        if fresh and kid in self._keys:
            return self._keys[kid]
        with self._lock:
            since = None if self._fetched_at is None else self._clock() - self._fetched_at
            if kid not in self._keys or since is None or since >= self._lifespan_s:
                if since is None or since >= self._min_refresh_interval_s:
                    self._refresh()
        if kid not in self._keys:
            raise InvalidToken(f"unknown signing key {kid!r}")
        return self._keys[kid]

    def _refresh(self) -> None:
        try:
            keys = jwt.PyJWKSet.from_dict(self._fetch(self._url)).keys
        except (requests.RequestException, jwt.PyJWKSetError, ValueError) as exc:
            raise InvalidToken(f"cannot load the signing keys: {exc}") from exc
        self._keys = {key.key_id: key.key for key in keys if key.key_id}
        self._fetched_at = self._clock()


def _fetch_json(url: str) -> dict[str, Any]:
    response = requests.get(url, timeout=5)
    response.raise_for_status()
    return response.json()


class ClerkVerifier:
    def __init__(
        self,
        issuer: str,
        authorized_parties: tuple[str, ...],
        jwks: JwksCache,
        leeway_s: int = 5,
        admin_user_ids: tuple[str, ...] = (),
    ) -> None:
        self._issuer = issuer
        self._authorized_parties = frozenset(authorized_parties)
        self._jwks = jwks
        self._leeway_s = leeway_s
        self._admin_user_ids = frozenset(admin_user_ids)

    def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"malformed token: {exc}") from exc
        if header.get("alg") != "RS256":
            raise InvalidToken(f"algorithm {header.get('alg')!r} is not accepted")
        key = self._jwks.key(str(header.get("kid", "")))
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                issuer=self._issuer,
                leeway=self._leeway_s,
                options={"require": ["exp", "iat", "nbf", "iss", "sub"], "verify_aud": False},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        if claims.get("azp") not in self._authorized_parties:
            raise InvalidToken(f"authorized party {claims.get('azp')!r} is not allowed")
        user_id = claims["sub"]
        if not isinstance(user_id, str) or not USER_ID.match(user_id):
            raise InvalidToken("subject is not a user id")
        is_admin = claims.get("role") == "admin" or user_id in self._admin_user_ids
        return Principal(user_id=user_id, is_admin=is_admin)
