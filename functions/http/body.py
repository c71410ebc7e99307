"""Reads a JSON object body, or says clearly why it is not one."""

import json
from typing import Any

import flask

from functions.http.errors import ApiError


def json_object(request: flask.Request) -> dict[str, Any]:
    try:
        payload = json.loads(request.get_data(cache=True) or b"null")
    except (ValueError, RecursionError) as exc:
        # ValueError covers bad UTF-8, bad JSON and integers past Python's 4300-digit limit;
        # RecursionError, arrays or objects nested thousands deep.
        raise ApiError(400, "invalid_json", f"the body is not valid JSON: {str(exc)[:200]}") from exc
    if not isinstance(payload, dict):
        raise ApiError(400, "invalid_json", "the body must be a JSON object")
    return payload
