"""The session-token verifier against an in-memory JWKS: claims, algorithms, key rotation."""

import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from functions.adapters.clerk import ClerkVerifier, InvalidToken, JwksCache

ISSUER, AZP = "https://clerk.cineweave.test", "https://app.cineweave.test"


class KeySet:
    def __init__(self) -> None:
        self.keys: dict[str, rsa.RSAPrivateKey] = {}
        self.fetches = 0

    def add(self, kid: str) -> None:
        self.keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def fetch(self, url: str) -> dict:
        self.fetches += 1
        return {"keys": [{**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(k.public_key())), "kid": kid, "alg": "RS256"}
                         for kid, k in self.keys.items()]}

    def token(self, kid: str, **claims) -> str:
        now = int(time.time())
        payload = {"iss": ISSUER, "sub": "user_1", "azp": AZP, "iat": now, "nbf": now, "exp": now + 60, **claims}
        return jwt.encode(payload, self.keys[kid], algorithm="RS256", headers={"kid": kid})


@pytest.fixture
def keyset() -> KeySet:
    keys = KeySet()
    keys.add("k1")
    return keys


def _verifier(keyset: KeySet, clock=time.monotonic, min_refresh: float = 0.0, admins=()) -> ClerkVerifier:
    jwks = JwksCache("https://clerk/.well-known/jwks.json", fetch=keyset.fetch, min_refresh_interval_s=min_refresh, clock=clock)
    return ClerkVerifier(ISSUER, (AZP,), jwks, leeway_s=5, admin_user_ids=admins)


def test_a_good_token_names_the_user(keyset):
    principal = _verifier(keyset).verify(keyset.token("k1"))
    assert (principal.user_id, principal.is_admin) == ("user_1", False)


def test_admin_comes_from_the_role_claim_or_the_allow_list(keyset):
    assert _verifier(keyset).verify(keyset.token("k1", role="admin")).is_admin
    assert _verifier(keyset, admins=("user_1",)).verify(keyset.token("k1")).is_admin


BAD_CLAIMS = {  # times are offsets from the moment the test runs, not from collection
    "expired": lambda now: {"exp": now - 30},
    "not yet valid": lambda now: {"nbf": now + 30},
    "wrong issuer": lambda now: {"iss": "https://evil"},
    "wrong azp": lambda now: {"azp": "https://evil"},
    "no azp": lambda now: {"azp": None},
    "path in subject": lambda now: {"sub": "users/../admin"},
    "empty subject": lambda now: {"sub": ""},
}


@pytest.mark.parametrize("case", BAD_CLAIMS)
def test_bad_claims_are_refused(keyset, case):
    with pytest.raises(InvalidToken):
        _verifier(keyset).verify(keyset.token("k1", **BAD_CLAIMS[case](int(time.time()))))


def test_leeway_accepts_a_few_seconds_of_clock_skew(keyset):
    _verifier(keyset).verify(keyset.token("k1", exp=int(time.time()) - 2))


def test_a_new_key_is_fetched_at_once_but_unknown_kids_cannot_hammer_the_jwks(keyset):
    now = [1000.0]
    verifier = _verifier(keyset, clock=lambda: now[0], min_refresh=1.0)
    verifier.verify(keyset.token("k1"))
    keyset.add("k2")
    now[0] += 1.0
    assert verifier.verify(keyset.token("k2")).user_id == "user_1"  # rotation: no 30 s cooldown
    fetches = keyset.fetches
    forged = jwt.encode({"sub": "x"}, keyset.keys["k1"], algorithm="RS256", headers={"kid": "forged-kid"})
    for _ in range(20):
        with pytest.raises(InvalidToken):
            verifier.verify(forged)
    assert keyset.fetches == fetches  # within the interval: no refetch per forged kid
