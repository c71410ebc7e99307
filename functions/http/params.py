"""Query parameters read the way the OpenAPI document describes them."""

from functions.http.endpoint import Call
from functions.http.errors import ApiError


def int_param(call: Call, name: str, default: int, low: int, high: int) -> int:
    raw = call.request.args.get(name)
    if raw is None:
        return default
    # ASCII digits only, and few: str.isdigit() also accepts "²" and int() refuses 4300+ digits.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9) or not low <= int(raw) <= high:
        raise ApiError(400, "invalid_parameter", f"{name} must be an integer from {low} to {high}", name)
    return int(raw)
