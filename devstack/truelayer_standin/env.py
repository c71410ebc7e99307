"""The settings that point the functions at the stand-in, for ``StackConfig.functions_env``.

Every value is local-only: the signing key is generated into the stack's state folder.
"""

from pathlib import Path

from devstack.truelayer_standin.keys import LocalKeys

LOCAL_CLIENT_ID = "cineweave-local"
LOCAL_CLIENT_SECRET = "local-truelayer-secret"
LOCAL_MERCHANT_ACCOUNT_ID = "local-merchant-account"


def functions_env(standin_url: str, keys_dir: Path, public_base_url: str) -> dict[str, str]:
    keys = LocalKeys(keys_dir).ensure()
    return {
        "TRUELAYER_ENVIRONMENT": "sandbox",
        "TRUELAYER_CLIENT_ID": LOCAL_CLIENT_ID,
        "TRUELAYER_CLIENT_SECRET": LOCAL_CLIENT_SECRET,
        "TRUELAYER_SIGNING_KEY_ID": keys.client_kid,
        "TRUELAYER_SIGNING_PRIVATE_KEY": keys.client_private_pem,
        "TRUELAYER_MERCHANT_ACCOUNT_ID": LOCAL_MERCHANT_ACCOUNT_ID,
        "TRUELAYER_AUTH_URL": standin_url,
        "TRUELAYER_API_BASE": standin_url,
        "TRUELAYER_HPP_BASE": f"{standin_url}/hpp",
        "TRUELAYER_RETURN_URI": f"{public_base_url}/account",
        "TRUELAYER_WEBHOOK_JKU_ALLOWLIST": f"{standin_url}/.well-known/jwks",
        "TRUELAYER_MANDATES_ENABLED": "true",
        "TRUELAYER_JWKS_MIN_REFRESH_INTERVAL_S": "0.2",
    }
