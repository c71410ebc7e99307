"""Every forged or stale session token gets a 401 with the JSON error shape; a rotated key works at once."""

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization

from devstack.clerk_dev import DevIssuer


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(stack, user_id: str, **overrides) -> dict:
    now = int(time.time())
    return {"iss": stack.clerk_issuer, "sub": user_id, "azp": stack.base_url, "iat": now, "nbf": now - 5, "exp": now + 60, **overrides}


def _hs256_with_public_key(issuer: DevIssuer, claims: dict) -> str:
    kid = issuer.ensure_key()
    public_pem = issuer.private_key(kid).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = f"{_b64(json.dumps({'alg': 'HS256', 'typ': 'JWT', 'kid': kid}).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def _tampered(token: str, stack) -> str:
    header, _, signature = token.split(".")
    payload = _b64(json.dumps(_claims(stack, "user_victim")).encode())
    return f"{header}.{payload}.{signature}"


FORGERIES = {
    "expired": lambda issuer, stack: issuer.mint("user_x", azp=stack.base_url, exp=int(time.time()) - 60),
    "not yet valid": lambda issuer, stack: issuer.mint("user_x", azp=stack.base_url, nbf=int(time.time()) + 60),
    "wrong issuer": lambda issuer, stack: issuer.mint("user_x", azp=stack.base_url, iss="https://clerk.evil.example"),
    "wrong azp": lambda issuer, stack: issuer.mint("user_x", azp="https://evil.example"),
    "pending session (v2)": lambda issuer, stack: issuer.mint("user_x", azp=stack.base_url, sts="pending"),
    "alg none": lambda issuer, stack: jwt.encode(_claims(stack, "user_x"), None, algorithm="none"),
    "HS256 signed with the public key": lambda issuer, stack: _hs256_with_public_key(issuer, _claims(stack, "user_x")),
    "unknown kid": lambda issuer, stack: DevIssuer(issuer.keys_dir.parent / "stranger-keys", issuer.issuer).mint("user_x", azp=stack.base_url),
    "tampered payload": lambda issuer, stack: _tampered(issuer.mint("user_x", azp=stack.base_url), stack),
    "no subject": lambda issuer, stack: jwt.encode(
        {k: v for k, v in _claims(stack, "user_x").items() if k != "sub"}, issuer.private_key(issuer.ensure_key()),
        algorithm="RS256", headers={"kid": issuer.ensure_key()}),
    "garbage": lambda issuer, stack: "not.a.jwt",
}


@pytest.mark.parametrize("forgery", FORGERIES)
def test_forged_tokens_get_401(stack, issuer, forgery):
    token = FORGERIES[forgery](issuer, stack)
    response = requests.get(f"{stack.base_url}/credits", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "unauthorized"


def test_a_missing_token_gets_401(stack):
    response = requests.post(f"{stack.base_url}/jobs/create", json={"prompt": "x", "durationSec": 5}, timeout=10)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_a_session_cookie_is_not_a_credential(stack, issuer):
    """Only a header carries a token: a cookie would ride along on another site's requests."""
    token = issuer.mint("user_cookie", azp=stack.base_url)
    response = requests.get(f"{stack.base_url}/credits", cookies={"__session": token}, timeout=10)
    assert response.status_code == 401
    forwarded = requests.get(f"{stack.base_url}/credits", headers={"X-Forwarded-Authorization": f"Bearer {token}"}, timeout=10)
    assert forwarded.status_code == 200  # API Gateway's header still carries the caller's token


def test_a_rotated_signing_key_is_accepted_at_once(stack, issuer):
    old = issuer.mint("user_rotation", azp=stack.base_url)
    assert requests.get(f"{stack.base_url}/credits", headers={"Authorization": f"Bearer {old}"}, timeout=10).status_code == 200
    new_kid = issuer.rotate()
    new = issuer.mint("user_rotation", azp=stack.base_url, kid=new_kid)
    assert requests.get(f"{stack.base_url}/credits", headers={"Authorization": f"Bearer {new}"}, timeout=10).status_code == 200


def test_admin_endpoints_refuse_ordinary_users(make_user):
    user = make_user()
    response = user.client.request("POST", "/admin/grants", json={"userId": user.user_id, "credits": 100, "grantId": "g1"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert user.client.credits()["balance"] == 0
