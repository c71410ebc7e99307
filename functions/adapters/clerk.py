"""Verifies Clerk session tokens (RS256 JWTs, v1 and v2) against the instance's JWKS.

The key set comes from PyJWT's ``PyJWKClient`` with two rules of ours:
- rotation: an unknown ``kid`` refetches the set at once, at most once per
  ``min_refresh_interval_s`` (PyJWKClient's ``cooldown_duration``; its default of 30 s would
  refuse valid tokens for half a minute after a rotation, and 0 would let forged ``kid`` values
  make us hammer Clerk);
- outages: when a fetch fails (Clerk down, a 5xx, garbage), the last key set fetched is served for
  up to ``max_stale_s`` more, so a JWKS endpoint that is down for a minute logs nobody out.

Clerk's v2 tokens add ``v: 2``, ``sts`` (session status), ``fva``, ``o`` (organisation) and may
leave ``azp`` out when minted outside a browser. A ``pending`` session (a sign-in still missing a
step) is refused, as Clerk's own SDKs refuse it.
"""

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt
from jwt import PyJWKClient
from jwt.exceptions import PyJWKClientConnectionError, PyJWKClientError

log = logging.getLogger(__name__)

USER_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
ACTIVE_SESSION = "active"
MAX_VERIFIED_TOKENS = 10_000
TOKEN_MEMORY_S = 60.0  # the longest a verified token is accepted from memory


class InvalidToken(Exception):
    """Any reason a token is not accepted. The message is for logs, never for the client."""


@dataclass(frozen=True)
class Principal:
    user_id: str
    is_admin: bool
    key_id: str | None = None  # set when the caller used an API key (never admin)


class ClerkKeys(PyJWKClient):
    def __init__(
        self, url: str, lifespan_s: float = 300.0, min_refresh_interval_s: float = 1.0, max_stale_s: float = 3600.0,
        timeout_s: float = 5.0,
    ) -> None:
        super().__init__(url, cache_jwk_set=True, lifespan=lifespan_s, cooldown_duration=min_refresh_interval_s,
                         timeout=timeout_s)
        self._max_stale_s = max_stale_s
        self._last_good: tuple[float, dict[str, Any]] | None = None

    def fetch_data(self) -> Any:
        try:
            data = super().fetch_data()
        except (PyJWKClientConnectionError, PyJWKClientError, ValueError) as exc:
            if self._last_good and time.monotonic() - self._last_good[0] <= self._max_stale_s:
                log.warning("the JWKS endpoint failed (%s); serving the keys fetched %.0f s ago", exc,
                            time.monotonic() - self._last_good[0])
                return self._last_good[1]
            raise
        self._last_good = (time.monotonic(), data)
        return data

    def key(self, kid: str) -> Any:
        try:
            return self.get_signing_key(kid).key
        except (PyJWKClientError, jwt.PyJWKSetError, ValueError) as exc:
            raise InvalidToken(f"no signing key {kid!r}: {exc}") from exc


class ClerkVerifier:
    def __init__(
        self,
        issuer: str,
        authorized_parties: tuple[str, ...],
        keys: ClerkKeys,
        leeway_s: int = 5,
        admin_user_ids: tuple[str, ...] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._issuer = issuer
        self._clock = clock
        self._authorized_parties = frozenset(authorized_parties)
        self._keys = keys
        self._leeway_s = leeway_s
        self._admin_user_ids = frozenset(admin_user_ids)
        self._verified: dict[str, tuple[float, Principal]] = {}  # token -> (accepted until, its caller)
        self._lock = threading.Lock()

    def verify(self, token: str) -> Principal:
        """The token's caller, or ``InvalidToken``.

        A token verified once is accepted again from memory until it expires (its ``exp`` plus the
        leeway, as verifying it again would), for at most ``TOKEN_MEMORY_S``: whether a token is
        good is a function of the token, the keys and the time, and a Clerk session token lives a
        minute. Held no longer than a minute, a token never outlives a withdrawn key by more than
        the key set's own cache does (``CLERK_JWKS_LIFESPAN_S``, 300 s). The check it saves is the
        signature and the claims, about an eighth of a read's CPU."""
        now = self._clock()
        with self._lock:
            cached = self._verified.get(token)
        if cached and now < cached[0]:
            return cached[1]
        principal, exp = self._verify(token)
        with self._lock:
            if len(self._verified) >= MAX_VERIFIED_TOKENS:  # bounded: at worst, tokens are verified again
                self._verified.clear()
            self._verified[token] = (min(exp + self._leeway_s, now + TOKEN_MEMORY_S), principal)
        return principal

    def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"malformed token: {exc}") from exc
        if header.get("alg") != "RS256":
            raise InvalidToken(f"algorithm {header.get('alg')!r} is not accepted")
        key = self._keys.key(str(header.get("kid", "")))
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
        _check_session(claims, self._authorized_parties)
        user_id = claims["sub"]
        if not isinstance(user_id, str) or not USER_ID.match(user_id):
            raise InvalidToken("subject is not a user id")
        # The role claim comes from the session-token template (public metadata); an organisation
        # role (``o.rol``) is the user's role in a customer's organisation, never ours.
        is_admin = claims.get("role") == "admin" or user_id in self._admin_user_ids
        return Principal(user_id=user_id, is_admin=is_admin), float(claims["exp"])


def _check_session(claims: dict[str, Any], authorized_parties: frozenset[str]) -> None:
    """Clerk's rules beyond the signature: the version, the session status and the origin."""
    version = claims.get("v", 1)
    if version not in (1, 2):
        raise InvalidToken(f"session token version {version!r} is not one we know")
    if (version == 2 or "sts" in claims) and claims.get("sts") != ACTIVE_SESSION:
        raise InvalidToken(f"session status {claims.get('sts')!r} is not active")
    azp = claims.get("azp")
    # v2 tokens minted outside a browser carry no azp; one that is there must be ours. A v1 token
    # always names its origin.
    if (azp is not None or version == 1) and azp not in authorized_parties:
        raise InvalidToken(f"authorized party {azp!r} is not allowed")
    fva = claims.get("fva")
    if fva is not None and not (isinstance(fva, list) and len(fva) == 2 and all(isinstance(n, int) for n in fva)):
        raise InvalidToken("fva is not two minute counts")
    org = claims.get("o")
    if org is not None and not isinstance(org, dict):
        raise InvalidToken("o is not an organisation object")
