"""The local key pairs: ours for signing API requests, the stand-in's for signing webhooks.

All live in one folder of the stack's state (``.devstack/truelayer``), generated on first use:

- ``client-signing.pem`` / ``client-signing.kid``: our request-signing key (EC P-521). The
  functions get the private PEM as ``TRUELAYER_SIGNING_PRIVATE_KEY``; the stand-in checks every
  ``Tl-Signature`` against its public half, as TrueLayer checks the key uploaded to its Console.
- ``webhook/{kid}.pem``: the stand-in's webhook-signing keys; the newest signs, all are in the
  JWKS it serves (``rotate`` adds one, so a new ``kid`` appears as after a key rotation).
- ``foreign.pem``: a key served from a JWKS URL outside the allow-list, for forged webhooks.
"""

import json
import secrets
import time
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

CLIENT_KEY = "client-signing"
FOREIGN_KEY = "foreign"


def new_pem() -> str:
    key = ec.generate_private_key(ec.SECP521R1())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def public_pem(private_pem: str) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def jwk(private_pem: str, kid: str) -> dict:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return {**json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key())), "kid": kid, "alg": "ES512", "use": "sig"}


class LocalKeys:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def ensure(self) -> "LocalKeys":
        (self.folder / "webhook").mkdir(parents=True, exist_ok=True)
        if not (self.folder / f"{CLIENT_KEY}.pem").exists():
            (self.folder / f"{CLIENT_KEY}.pem").write_text(new_pem())
            (self.folder / f"{CLIENT_KEY}.kid").write_text(f"local-{secrets.token_hex(4)}")
        if not (self.folder / f"{FOREIGN_KEY}.pem").exists():
            (self.folder / f"{FOREIGN_KEY}.pem").write_text(new_pem())
        if not self.webhook_kids():
            self.rotate()
        return self

    # --- ours ------------------------------------------------------------------------------
    @property
    def client_kid(self) -> str:
        return (self.folder / f"{CLIENT_KEY}.kid").read_text().strip()

    @property
    def client_private_pem(self) -> str:
        return (self.folder / f"{CLIENT_KEY}.pem").read_text()

    # --- the stand-in's ----------------------------------------------------------------------
    def rotate(self) -> str:
        """A new webhook-signing key, which signs from now on; returns its kid."""
        kid = f"tl-webhook-{int(time.time() * 1000):x}{secrets.token_hex(2)}"
        (self.folder / "webhook" / f"{kid}.pem").write_text(new_pem())
        return kid

    def webhook_kids(self) -> list[str]:
        return sorted(path.stem for path in (self.folder / "webhook").glob("*.pem"))

    def webhook_key(self, kid: str | None = None) -> tuple[str, str]:
        kid = kid or self.webhook_kids()[-1]
        return kid, (self.folder / "webhook" / f"{kid}.pem").read_text()

    def webhook_jwks(self) -> dict:
        return {"keys": [jwk(self.webhook_key(kid)[1], kid) for kid in self.webhook_kids()]}

    def foreign_key(self) -> tuple[str, str]:
        return "foreign-key", (self.folder / f"{FOREIGN_KEY}.pem").read_text()

    def foreign_jwks(self) -> dict:
        kid, pem = self.foreign_key()
        return {"keys": [jwk(pem, kid)]}
