"""The per-job token in RunPod's webhook URL: RunPod does not sign webhooks, so we sign the URL."""

import hashlib
import hmac


def token_for(secret: str, job_id: str) -> str:
    return hmac.new(secret.encode(), f"runpod-webhook:{job_id}".encode(errors="replace"), hashlib.sha256).hexdigest()


def is_valid(secret: str, job_id: str, token: str) -> bool:
    # Bytes, not str: compare_digest raises TypeError on a non-ASCII str, and anyone can send one.
    return bool(secret) and hmac.compare_digest(token_for(secret, job_id).encode(), token.encode(errors="replace"))
