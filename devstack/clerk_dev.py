"""A local Clerk stand-in: a dev issuer with its own RSA keys, its JWKS served on loopback.

Tokens it mints are shaped like Clerk session tokens (RS256, ``iss``, ``sub``, ``azp``, ``sid``,
``iat``/``nbf``/``exp``), so the production verifier is the code under test. Keys live in the
stack's state folder; ``rotate`` adds a key, which the JWKS serves at once.

    python -m devstack.clerk_dev serve --port 8092 --keys .devstack/clerk
"""

import argparse
import json
import secrets
import time
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


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
        self, user_id: str, *, azp: str, admin: bool = False, lifetime_s: int = 3600, kid: str | None = None, **claims: object
    ) -> str:
        kid = kid or self.ensure_key()
        now = int(time.time())
        payload = {
            "iss": self.issuer,
            "sub": user_id,
            "azp": azp,
            "sid": f"sess_{secrets.token_hex(8)}",
            "iat": now,
            "nbf": now - 5,
            "exp": now + lifetime_s,
            **({"role": "admin"} if admin else {}),
            **claims,
        }
        return jwt.encode(payload, self.private_key(kid), algorithm="RS256", headers={"kid": kid})


def _app(issuer: DevIssuer):
    def app(environ, start_response):
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
