"""``imageUrl``: fetched once, at create, under public_http's rules; the worker only sees our copy.

Why here and not on the GPU, nor in a CPU function of its own: the job must be validated before
its first write, and a URL image is only known good once its bytes are. Fetched in create_job,
a bad URL (private address, no such host, a redirect, a server that trickles) is a 4xx naming
``imageUrl`` and nothing is stored or charged; a separate function would accept the job first and
reject it later, after a write. The cost is create_job's latency, bounded by
``IMAGE_FETCH_TIMEOUT_S`` for the whole fetch. The bytes then land in ``inputs/`` like an upload
and pass the same checks (guards.check_image), so a GPU never waits on a stranger's server.
"""

from functions.adapters import public_http
from functions.bootstrap import Deps
from functions.core.errors import InputRejected

FIELD = "imageUrl"


def fetch_image_url(deps: Deps, url: str) -> bytes:
    """The bytes served at ``url``, or ``InputRejected`` naming ``imageUrl`` (nothing is written)."""
    settings = deps.settings
    timeout_s = settings.image_fetch_timeout_s
    try:
        response = deps.public_http.get(
            url, timeout_s=timeout_s, max_bytes=settings.image_max_bytes,
            headers={"Accept": "image/png, image/jpeg, image/webp"},
        )
    except public_http.ResponseTooLarge as exc:
        limit = settings.image_max_bytes // (1024 * 1024)
        raise InputRejected("image_too_large", f"the image at imageUrl must be at most {limit} MB", FIELD, 413) from exc
    except public_http.DeadlineExceeded as exc:
        raise InputRejected("image_url_unreachable", f"imageUrl did not answer within {timeout_s:g} s", FIELD) from exc
    except (public_http.UrlRefused, public_http.AddressRefused) as exc:
        raise InputRejected("image_url_refused", f"imageUrl is refused: {exc}", FIELD) from exc
    except public_http.OutboundError as exc:
        raise InputRejected("image_url_unreachable", f"imageUrl could not be fetched: {exc}", FIELD) from exc
    if response.status != 200:
        hint = " (redirects are not followed: give the final URL)" if 300 <= response.status < 400 else ""
        raise InputRejected("image_url_unreachable", f"imageUrl answered HTTP {response.status}{hint}", FIELD)
    return response.body


def check_image_url(deps: Deps, url: str) -> None:
    """Refuses, without touching the network, a URL no fetch may go to (not https, credentials...)."""
    try:
        deps.public_http.check_url(url)
    except public_http.UrlRefused as exc:
        raise InputRejected("image_url_refused", f"imageUrl is refused: {exc}", FIELD) from exc
