"""Seals secrets we must keep readable (webhook signing secrets) before they are stored.

HMAC signing needs the secret itself, so it cannot be stored as a hash like a password. It is
encrypted (Fernet: AES-128-CBC + HMAC-SHA256) with a key from Secret Manager, so a copy of the
database alone signs nothing.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken


class SealBroken(Exception):
    """A sealed value was not sealed with this key (or was altered)."""


class Sealer:
    def __init__(self, key: str) -> None:
        # Any string makes a key: operators paste a random value, not a Fernet-formatted one.
        self._fernet = Fernet(base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest()))

    def seal(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken as exc:
            raise SealBroken("a stored secret cannot be opened with WEBHOOK_SECRETS_KEY") from exc
