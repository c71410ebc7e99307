"""A local Clerk stand-in: a dev issuer with its own RSA keys, its JWKS served on loopback.

Tokens it mints are shaped like Clerk's v2 session tokens (RS256; ``iss``, ``sub``, ``azp``,
``sid``, ``iat``/``nbf``/``exp`` with Clerk's 60 s life; ``v: 2``, ``sts``, ``fva``), so the
production verifier is the code under test. A caller that runs longer than a minute holds a
``token_source`` (a fresh token when the last is near its end), as Clerk's ``getToken()`` does.
Keys live in the stack's state folder; ``rotate`` adds a key, which the JWKS serves at once.
``POST /dev/sign-in`` mints a token for the web app's local "sign in as" (loopback origins only;
never in production).

    python -m devstack.clerk_dev serve --port 8092 --keys .devstack/clerk
"""

import argparse
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


TOKEN_LIFETIME_S = 60  # Clerk's session-token life


class DevIssuer:
    def __init__(self, keys_dir: Path, issuer: str) -> None:
        self.keys_dir = Path(keys_dir)
        self.issuer = issuer

    def ensure_key(self) -> str:
        kids = self.kids()
        return kids[-1] if kids else self.rotate()

    def rotate(self) -> str:
        """A new signing key (the old ones stay in the JWKS); returns its kid."""
        self.keys_dir.mkdir(parents=True, exist_ok=True)
        kid = f"ins_dev_{int(time.time() * 1000):x}{secrets.token_hex(3)}"
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        (self.keys_dir / f"{kid}.pem").write_bytes(pem)
        return kid

    def kids(self) -> list[str]:
        return sorted(path.stem for path in self.keys_dir.glob("*.pem")) if self.keys_dir.exists() else []

    def private_key(self, kid: str):
        return serialization.load_pem_private_key((self.keys_dir / f"{kid}.pem").read_bytes(), password=None)

    def jwks(self) -> dict:
        keys = []
        for kid in self.kids():
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private_key(kid).public_key()))
            keys.append({**jwk, "kid": kid, "alg": "RS256", "use": "sig"})
        return {"keys": keys}

    def mint(
        self, user_id: str, *, azp: str, admin: bool = False, lifetime_s: int = TOKEN_LIFETIME_S, kid: str | None = None,
        **claims: object,
    ) -> str:
        """A v2 session token; ``claims`` add to or override the standard ones (``None`` drops one)."""
        kid = kid or self.ensure_key()
        now = int(time.time())
        payload = {
            "v": 2,
            "iss": self.issuer,
            "sub": user_id,
            "azp": azp,
            "sid": f"sess_{secrets.token_hex(8)}",
            "sts": "active",
            "fva": [0, -1],  # minutes since the first factor was verified; no second factor
            "jti": secrets.token_hex(10),
            "iat": now,
            "nbf": now - 5,
            "exp": now + lifetime_s,
            **({"role": "admin"} if admin else {}),
            **claims,
        }
        payload = {name: value for name, value in payload.items() if value is not None}
        return jwt.encode(payload, self.private_key(kid), algorithm="RS256", headers={"kid": kid})

    def token_source(self, user_id: str, *, azp: str, admin: bool = False) -> Callable[[], str]:
        """A current token on every call: re-minted when the last has under 15 s left."""
        lock, held = threading.Lock(), {"token": "", "exp": 0.0}

        def current() -> str:
            with lock:
                if held["exp"] - time.time() < 15:
                    held["token"] = self.mint(user_id, azp=azp, admin=admin)
                    held["exp"] = time.time() + TOKEN_LIFETIME_S
                return str(held["token"])

        return current


_LOOPBACK_ORIGIN = re.compile(r"^http://(127\.0\.0\.1|localhost)(:\d{1,5})?$")
_DEV_USER_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def dev_sign_in(issuer: DevIssuer, environ) -> tuple[str, dict]:
    """``POST /dev/sign-in {userId, admin}``: the web app's local "sign in as". A loopback origin
    only, and the token's ``azp`` is that origin, so the API's own checks still apply."""
    origin = environ.get("HTTP_ORIGIN", "")
    if not _LOOPBACK_ORIGIN.match(origin):
        return "403 Forbidden", {"error": "dev sign-in is for loopback origins only"}
    try:
        body = json.loads(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0) or 0) or b"{}")
        user_id, admin = body["userId"], bool(body.get("admin", False))
    except (ValueError, KeyError, TypeError):
        return "400 Bad Request", {"error": "send {userId, admin}"}
    if not isinstance(user_id, str) or not _DEV_USER_ID.match(user_id):
        return "400 Bad Request", {"error": "userId: 1-64 letters, digits, _ or -"}
    return "200 OK", {"token": issuer.mint(user_id, azp=origin, admin=admin), "userId": user_id}


def _app(issuer: DevIssuer):
    def app(environ, start_response):
        if environ.get("PATH_INFO") == "/dev/sign-in":
            origin = environ.get("HTTP_ORIGIN", "")
            cors = [("Access-Control-Allow-Origin", origin), ("Vary", "Origin"), ("Access-Control-Allow-Headers", "Content-Type"),
                    ("Access-Control-Allow-Methods", "POST, OPTIONS")] if _LOOPBACK_ORIGIN.match(origin) else []
            if environ["REQUEST_METHOD"] == "OPTIONS":
                start_response("204 No Content", cors)
                return [b""]
            status, answer = dev_sign_in(issuer, environ) if environ["REQUEST_METHOD"] == "POST" else ("405 Method Not Allowed", {})
            start_response(status, [("Content-Type", "application/json"), *cors])
            return [json.dumps(answer).encode()]
        if environ.get("PATH_INFO") != "/.well-known/jwks.json":
            start_response("404 Not Found", [("Content-Type", "application/json")])
            return [b'{"error": "not found"}']
        body = json.dumps(issuer.jwks()).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    return app


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack.clerk_dev")
    parser.add_argument("command", choices=["serve"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8092)
    parser.add_argument("--keys", type=Path, required=True)
    args = parser.parse_args(argv)
    issuer = DevIssuer(args.keys, f"http://{args.host}:{args.port}")
    issuer.ensure_key()
    make_server(args.host, args.port, _app(issuer), handler_class=_QuietHandler).serve_forever()


if __name__ == "__main__":
    main()
