"""The check both RunPod-facing APIs run first: the right endpoint id, then the right key."""

import hmac

from flask import request

from devstack.runpod_standin.service import ApiError


def guard(endpoint_id: str, authorization: str) -> None:
    """Raises 404 for another endpoint id, 401 unless ``Authorization`` is exactly as expected."""
    if (request.view_args or {}).get("endpoint_id") != endpoint_id:
        raise ApiError(404, "endpoint not found")
    if not hmac.compare_digest(request.headers.get("Authorization", "").encode(), authorization.encode()):
        raise ApiError(401, "Unauthorized")
