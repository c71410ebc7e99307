"""The session-token verifier against a JWKS served on loopback: claims, v2 tokens, rotation, outages."""

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from functions.adapters.clerk import ClerkKeys, ClerkVerifier, InvalidToken
from tests.helpers import wait_until

ISSUER, AZP = "https://clerk.cineweave.test", "https://app.cineweave.test"


class KeySet:
    """Clerk's JWKS endpoint on 127.0.0.1; ``down`` makes it answer 503 (or garbage)."""

    def __init__(self) -> None:
        self.keys: dict[str, rsa.RSAPrivateKey] = {}
        self.fetches = 0
        self.down: str | None = None  # None, "503" or "garbage"
        keyset = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server name
                keyset.fetches += 1
                if keyset.down == "503":
                    self.send_response(503)
                    self.end_headers()
                    return
                body = b"<html>oops</html>" if keyset.down == "garbage" else json.dumps(keyset.jwks()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/jwks.json"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()

    def add(self, kid: str) -> None:
        self.keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwks(self) -> dict:
        return {"keys": [{**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(k.public_key())), "kid": kid, "alg": "RS256"}
                         for kid, k in self.keys.items()]}

    def token(self, kid: str, **claims) -> str:
        now = int(time.time())
        # A jti of its own, as Clerk's tokens have: two tokens minted in one second still differ.
        payload = {"iss": ISSUER, "sub": "user_1", "azp": AZP, "iat": now, "nbf": now, "exp": now + 60,
                   "jti": uuid.uuid4().hex, **claims}
        payload = {name: value for name, value in payload.items() if value is not None}
        return jwt.encode(payload, self.keys[kid], algorithm="RS256", headers={"kid": kid})

    def v2(self, kid: str = "k1", **claims) -> str:
        return self.token(kid, **{"v": 2, "sts": "active", "fva": [3, -1], "sid": "sess_1", **claims})


@pytest.fixture
def keyset():
    keys = KeySet()
    keys.add("k1")
    yield keys
    keys.server.shutdown()


def _verifier(keyset: KeySet, min_refresh: float = 0.0, admins=(), lifespan: float = 300, max_stale: float = 3600) -> ClerkVerifier:
    keys = ClerkKeys(keyset.url, lifespan_s=lifespan, min_refresh_interval_s=min_refresh, max_stale_s=max_stale)
    return ClerkVerifier(ISSUER, (AZP,), keys, leeway_s=5, admin_user_ids=admins)


def test_a_good_token_names_the_user(keyset):
    principal = _verifier(keyset).verify(keyset.token("k1"))
    assert (principal.user_id, principal.is_admin) == ("user_1", False)


def test_a_v2_token_as_clerk_mints_it_is_accepted_with_or_without_azp(keyset):
    verifier = _verifier(keyset)
    org = {"id": "org_1", "rol": "admin", "slg": "studio", "per": "", "fpm": ""}
    assert verifier.verify(keyset.v2(o=org)).user_id == "user_1"
    assert verifier.verify(keyset.v2(azp=None)).user_id == "user_1"  # minted outside a browser
    assert not verifier.verify(keyset.v2(o=org)).is_admin  # an organisation role is not ours


def test_a_verified_token_is_accepted_from_memory_until_it_expires_and_then_verified_again(keyset):
    now = [time.time()]
    keys = ClerkKeys(keyset.url, min_refresh_interval_s=0.0)
    verifier = ClerkVerifier(ISSUER, (AZP,), keys, leeway_s=5, clock=lambda: now[0])
    looked_up = []
    real_key = keys.key
    keys.key = lambda kid: looked_up.append(kid) or real_key(kid)
    token = keyset.token("k1", exp=int(now[0]) + 60)
    assert [verifier.verify(token).user_id for _ in range(3)] == ["user_1"] * 3
    assert looked_up == ["k1"]  # verified once; the others answered from memory
    assert verifier.verify(keyset.token("k1", sub="user_2")).user_id == "user_2"  # per token
    now[0] += 66  # past exp and the leeway: memory no longer vouches for it
    verifier.verify(token)
    assert looked_up == ["k1", "k1", "k1"]
    long_lived = keyset.token("k1", exp=int(now[0]) + 3600)
    verifier.verify(long_lived)
    now[0] += 61  # a token that lives an hour is still remembered for a minute at most
    verifier.verify(long_lived)
    assert looked_up == ["k1", "k1", "k1", "k1", "k1"]


def test_admin_comes_from_the_role_claim_or_the_allow_list(keyset):
    assert _verifier(keyset).verify(keyset.token("k1", role="admin")).is_admin
    assert _verifier(keyset, admins=("user_1",)).verify(keyset.token("k1")).is_admin


BAD_CLAIMS = {  # times are offsets from the moment the test runs, not from collection
    "expired": lambda now: {"exp": now - 30},
    "not yet valid": lambda now: {"nbf": now + 30},
    "wrong issuer": lambda now: {"iss": "https://evil"},
    "wrong azp": lambda now: {"azp": "https://evil"},
    "no azp on a v1 token": lambda now: {"azp": None},
    "path in subject": lambda now: {"sub": "users/../admin"},
    "empty subject": lambda now: {"sub": ""},
    "v2 pending session": lambda now: {"v": 2, "sts": "pending"},
    "v2 without a session status": lambda now: {"v": 2},
    "v2 wrong azp": lambda now: {"v": 2, "sts": "active", "azp": "https://evil"},
    "unknown version": lambda now: {"v": 3, "sts": "active"},
    "malformed fva": lambda now: {"v": 2, "sts": "active", "fva": "recent"},
}


@pytest.mark.parametrize("case", BAD_CLAIMS)
def test_bad_claims_are_refused(keyset, case):
    with pytest.raises(InvalidToken):
        _verifier(keyset).verify(keyset.token("k1", **BAD_CLAIMS[case](int(time.time()))))


def test_leeway_accepts_a_few_seconds_of_clock_skew(keyset):
    _verifier(keyset).verify(keyset.token("k1", exp=int(time.time()) - 2))


def test_a_new_key_is_fetched_at_once_but_unknown_kids_cannot_hammer_the_jwks(keyset):
    verifier = _verifier(keyset, min_refresh=0.3)
    verifier.verify(keyset.token("k1"))
    fetched_at = time.monotonic()
    keyset.add("k2")
    wait_until(lambda: time.monotonic() - fetched_at > 0.3, what="the refresh interval")
    assert verifier.verify(keyset.token("k2")).user_id == "user_1"  # rotation: no 30 s cooldown
    fetches = keyset.fetches
    forged = jwt.encode({"sub": "x"}, keyset.keys["k1"], algorithm="RS256", headers={"kid": "forged-kid"})
    started = time.monotonic()
    for _ in range(20):
        with pytest.raises(InvalidToken):
            verifier.verify(forged)
    # At most one refetch per full interval, however many forged kids (a loaded machine may take
    # longer than one interval for the 20 verifications).
    assert keyset.fetches - fetches <= int((time.monotonic() - started) / 0.3)


@pytest.mark.parametrize("outage", ["503", "garbage"])
def test_the_keys_endpoint_down_past_the_cache_life_logs_nobody_out(keyset, outage):
    """A minute's outage, scaled down: the set's life (0.1 s) runs out while the endpoint is down."""
    verifier = _verifier(keyset, lifespan=0.1, max_stale=60)
    verifier.verify(keyset.v2())
    keyset.down = outage
    down_at, fetches = time.monotonic(), keyset.fetches
    wait_until(lambda: time.monotonic() - down_at > 0.3, what="the key set's life to run out")
    assert verifier.verify(keyset.v2()).user_id == "user_1"
    assert keyset.fetches > fetches  # it did try, and fell back to the keys it had
    keyset.down = None
    keyset.add("k2")
    wait_until(lambda: _try(verifier, keyset.v2("k2")), timeout_s=5, what="the endpoint's return to be noticed")


def test_stale_keys_are_served_only_up_to_the_bound(keyset):
    verifier = _verifier(keyset, lifespan=0.05, max_stale=0.2)
    verifier.verify(keyset.v2())
    keyset.down = "503"
    wait_until(lambda: not _try(verifier, keyset.v2()), timeout_s=5, what="the stale bound to run out")


def test_with_no_keys_ever_fetched_an_outage_refuses(keyset):
    keyset.down = "503"
    with pytest.raises(InvalidToken):
        _verifier(keyset).verify(keyset.v2())


def _try(verifier: ClerkVerifier, token: str) -> bool:
    try:
        verifier.verify(token)
        return True
    except InvalidToken:
        return False
