"""Reads a JSON object body, or says clearly why it is not one."""

import json
from typing import Any

import flask

from functions.http.errors import ApiError


def json_object(request: flask.Request, any_label: bool = False) -> dict[str, Any]:
    """The body as a JSON object. It must be labelled ``application/json``: a browser sends that
    label cross-site only after a CORS preflight, so another site cannot post JSON to us as a
    "simple" ``text/plain`` request. ``any_label`` is for providers' signed webhooks, whose label
    is theirs to choose and whose signature, not a browser credential, is what admits them."""
    if not any_label and request.mimetype != "application/json":
        raise ApiError(415, "unsupported_media_type", "send the body as Content-Type: application/json", "Content-Type")
    try:
        payload = json.loads(request.get_data(cache=True) or b"null")
    except (ValueError, RecursionError) as exc:
        # ValueError covers bad UTF-8, bad JSON and integers past Python's 4300-digit limit;
        # RecursionError, arrays or objects nested thousands deep.
        raise ApiError(400, "invalid_json", f"the body is not valid JSON: {str(exc)[:200]}") from exc
    if not isinstance(payload, dict):
        raise ApiError(400, "invalid_json", "the body must be a JSON object")
    return payload
