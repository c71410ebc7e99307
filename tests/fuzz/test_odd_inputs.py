"""Inputs the fuzzer once turned into 500s, kept as plain regression cases: each must now be a 4xx
with the JSON error shape."""

import pytest
import requests

from schemas.errors import ErrorBody

pytestmark = pytest.mark.e2e

HUGE = "9" * 5000  # past Python's 4300-digit int() limit
DEEP = "[" * 30_000 + "]" * 30_000  # past the JSON decoder's recursion limit, within the webhooks' 64 KiB

CASES = [
    # (who, method, path, kwargs, expected status)
    ("user", "POST", "/jobs/create", {"data": f'{{"prompt": "x", "durationSec": 5, "seed": {HUGE}}}'}, 400),
    ("user", "POST", "/jobs/create", {"data": f'{{"prompt": {DEEP}}}'}, 400),
    ("user", "POST", "/jobs/create", {"files": {"prompt": (None, "x"), "durationSec": (None, "²")}}, 422),
    ("user", "POST", "/jobs/create", {"files": {"prompt": (None, "x"), "durationSec": (None, "5"), "seed": (None, HUGE)}}, 422),
    ("user", "POST", "/jobs/create", {"json": {"prompt": "x", "durationSec": 5, "seed": "7"}}, 422),
    ("user", "GET", "/jobs?limit=²", {}, 400),
    ("user", "GET", f"/jobs?limit={HUGE}", {}, 400),
    ("user", "POST", "/topup", {"json": {"credits": 10, "payer": {"name": "no way to reach me"}}}, 422),
    ("admin", "GET", "/admin/jobs?to=9999-12-31", {}, 400),
    ("admin", "GET", "/admin/stats/daily?days=%C2%B2", {}, 400),
    ("admin", "POST", "/admin/grants", {"data": f'{{"userId": "u", "credits": {HUGE}, "grantId": "g"}}'}, 400),
    (None, "POST", "/webhooks/runpod?jobId=job_1&token=%C3%A9", {"json": {}}, 401),
    (None, "POST", "/webhooks/runpod?jobId=%ED%A0%80&token=x", {"json": {}}, 401),
    (None, "POST", "/webhooks/truelayer", {"data": DEEP}, 401),
    (None, "POST", "/webhooks/truelayer", {"data": "[" * (64 * 1024 + 1)}, 413),
]


@pytest.mark.parametrize(("who", "method", "path", "kwargs", "status"), CASES, ids=[f"{c[1]} {c[2][:40]}" for c in CASES])
def test_odd_input_is_a_4xx_with_the_error_shape(stack, issuer, who, method, path, kwargs, status):
    headers = {"Content-Type": "application/json"} if "data" in kwargs else {}
    if who:
        headers["Authorization"] = "Bearer " + issuer.mint(f"user_odd_{who}", azp=stack.base_url, admin=who == "admin")
    response = requests.request(method, stack.base_url + path, headers=headers, timeout=30, **kwargs)
    assert response.status_code == status, response.text[:500]
    ErrorBody.model_validate_json(response.content)
