"""The webhook verifier: only TrueLayer's signature over exactly these bytes, by a key from an
allow-listed key set, is accepted; key rotation is picked up at once; forgeries cannot make us
refetch keys in a loop."""

import base64
import json

import jwt
import pytest
from truelayer_signing import HttpMethod, sign_with_pem

from devstack.truelayer_standin.keys import jwk, new_pem
from devstack.truelayer_standin.webhooks import with_event_id
from functions.adapters.truelayer_webhooks import JwkSets, UnverifiedWebhook, WebhookVerifier
from tests.payments.conftest import JWKS_URL

PATH = "/webhooks/truelayer"
BODY = {"type": "payment_settled", "payment_id": "p-1", "metadata": {"cineweave_credits": "40"}}


@pytest.fixture
def signed(standin):
    def sign(signature: str = "valid", body: dict | None = None) -> tuple[bytes, dict[str, str]]:
        raw, headers = standin.webhooks.signed(with_event_id(body or BODY), signature)
        return raw.encode(), headers

    return sign


def test_a_webhook_signed_by_the_allow_listed_key_set_verifies(verifier, signed, jwks_fetches):
    raw, headers = signed()
    verifier.verify(PATH, headers, raw)
    verifier.verify(PATH, {name.lower(): value for name, value in headers.items()}, raw)  # header case is irrelevant
    assert jwks_fetches == [JWKS_URL]  # fetched once, then cached


@pytest.mark.parametrize("signature", ["missing", "corrupt"])
def test_no_signature_or_a_corrupt_one_is_refused(verifier, signed, signature):
    raw, headers = signed(signature)
    with pytest.raises(UnverifiedWebhook):
        verifier.verify(PATH, headers, raw)


def test_a_valid_signature_by_a_key_set_outside_the_allow_list_is_refused_unfetched(verifier, signed, jwks_fetches):
    raw, headers = signed("foreign-jku")
    with pytest.raises(UnverifiedWebhook, match="not allowed"):
        verifier.verify(PATH, headers, raw)
    assert jwks_fetches == []  # the forger's URL is never even fetched


def test_a_replayed_signature_over_a_changed_body_timestamp_or_path_is_refused(verifier, signed):
    raw, headers = signed()
    tampered = raw.replace(b'"cineweave_credits":"40"', b'"cineweave_credits":"400"')
    assert tampered != raw
    for path, hdrs, body in [
        (PATH, headers, tampered),
        (PATH, {**headers, "X-TL-Webhook-Timestamp": "2020-01-01T00:00:00Z"}, raw),
        ("/webhooks/other", headers, raw),
        (PATH, headers, raw + b" "),
    ]:
        with pytest.raises(UnverifiedWebhook):
            verifier.verify(path, hdrs, body)


def test_a_signature_that_does_not_cover_the_timestamp_is_refused(verifier, keys):
    raw = json.dumps(with_event_id(BODY))
    kid, pem = keys.webhook_key()
    signature = sign_with_pem(kid, pem).set_jku(JWKS_URL).set_method(HttpMethod.POST).set_path(PATH).set_body(raw).sign()
    with pytest.raises(UnverifiedWebhook, match="Missing Required Header"):
        verifier.verify(PATH, {"Tl-Signature": signature, "X-TL-Webhook-Timestamp": "2027-01-01T00:00:00Z"}, raw.encode())


@pytest.mark.parametrize("signature", ["garbage", "a..b", "e30..AAAA", "eyJhbGciOiJFUzUxMiJ9..AAAA"])
def test_malformed_signatures_are_refused_not_crashed_on(verifier, signature):
    with pytest.raises(UnverifiedWebhook):
        verifier.verify(PATH, {"Tl-Signature": signature, "X-TL-Webhook-Timestamp": "t"}, b"{}")


def test_a_rotated_key_is_fetched_at_once_and_a_forged_kid_cannot_force_refetches(keys, signed):
    fetches = []
    clock = [0.0]
    sets = JwkSets(fetch=lambda url: fetches.append(url) or keys.webhook_jwks(), min_refresh_interval_s=30, clock=lambda: clock[0])
    verifier = WebhookVerifier([JWKS_URL], sets)
    verifier.verify(PATH, *reversed(signed()))
    clock[0] = 31.0
    keys.rotate()  # TrueLayer starts signing with a new key
    verifier.verify(PATH, *reversed(signed()))
    assert len(fetches) == 2
    raw, headers = signed()
    header = json.loads(base64.urlsafe_b64decode(headers["Tl-Signature"].split("..")[0] + "=="))
    forged_header = base64.urlsafe_b64encode(json.dumps({**header, "kid": "forged"}).encode()).rstrip(b"=").decode()
    forged = {**headers, "Tl-Signature": forged_header + ".." + headers["Tl-Signature"].split("..")[1]}
    for _ in range(5):
        with pytest.raises(UnverifiedWebhook, match="no key 'forged'"):
            verifier.verify(PATH, forged, raw)
    assert len(fetches) == 2  # within min_refresh_interval_s of the last fetch: no refetch


def test_an_unreachable_or_broken_key_set_refuses_the_webhook(signed):
    def unreachable(url):
        raise ValueError("connection refused")

    raw, headers = signed()
    for fetch in (unreachable, lambda url: {"not": "a jwks"}):
        with pytest.raises(UnverifiedWebhook):
            WebhookVerifier([JWKS_URL], JwkSets(fetch=fetch)).verify(PATH, headers, raw)


def test_p521_keys_published_without_zero_padding_verify(keys):
    """P-521 coordinates are 66 bytes and half of them start with a zero byte, which a JWKS may
    leave out. truelayer-signing pads them back; PyJWT (our Clerk key loader) refuses them, which
    is why the verifier keeps TrueLayer's keys as JSON."""
    while True:
        pem = new_pem()
        key = jwk(pem, "short")
        x = base64.urlsafe_b64decode(key["x"] + "==")
        if x[0] == 0:
            break
    unpadded = {**key, "x": base64.urlsafe_b64encode(x[1:]).rstrip(b"=").decode()}
    with pytest.raises(jwt.InvalidKeyError, match="66 bytes"):
        jwt.PyJWK.from_dict(unpadded)
    raw = json.dumps(with_event_id(BODY))
    signature = (sign_with_pem("short", pem).set_jku(JWKS_URL).set_method(HttpMethod.POST).set_path(PATH)
                 .add_header("X-Tl-Webhook-Timestamp", "2027-01-01T00:00:00Z").set_body(raw).sign())
    verifier = WebhookVerifier([JWKS_URL], JwkSets(fetch=lambda url: {"keys": [unpadded]}))
    verifier.verify(PATH, {"Tl-Signature": signature, "X-TL-Webhook-Timestamp": "2027-01-01T00:00:00Z"}, raw.encode())


def test_truelayer_signing_works_with_the_installed_cryptography():
    """truelayer-signing 0.4.0 caps cryptography below 50; runpod needs 50+. Every call we use works on it."""
    import cryptography

    assert int(cryptography.__version__.split(".")[0]) >= 50
    pem = new_pem()
    from truelayer_signing import extract_jws_header, verify_with_jwks, verify_with_pem

    from devstack.truelayer_standin.keys import public_pem

    signature = sign_with_pem("k", pem).set_jku(JWKS_URL).set_method(HttpMethod.POST).set_path("/p").add_header("A", "1").set_body("{}").sign()
    header = extract_jws_header(signature)
    assert (header.alg, header.kid, header.tl_version, header.tl_headers, header.jku) == ("ES512", "k", "2", "A", JWKS_URL)
    verify_with_pem(public_pem(pem)).set_method(HttpMethod.POST).set_path("/p").add_header("A", "1").set_body("{}").verify(signature)
    verify_with_jwks({"keys": [jwk(pem, "k")]}, header).set_method(HttpMethod.POST).set_path("/p").add_header("A", "1").set_body("{}").verify(signature)
