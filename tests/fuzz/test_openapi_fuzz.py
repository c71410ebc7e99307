"""Fuzzing the HTTP API from its own OpenAPI document (schemathesis), on the local stack.

Every operation, with generated paths, query parameters, headers and bodies (valid and invalid),
sent in turn as a user, as an admin and with no token. Each response must be no 5xx, conform to
the document (status code, content type, body schema), and every 4xx must carry the JSON error
shape. Seeded (hypothesis ``derandomize``) and bounded, so the run is the same every time; raise
``CINEWEAVE_FUZZ_EXAMPLES`` for a longer hunt.

The fuzzing identities hold no credits, so a generated job is rejected at reservation and never
reaches a worker. A generated ``imageUrl`` is fetched by create_job under the local stack's
``OUTBOUND_LOOPBACK_ONLY`` rule: loopback addresses only and no name looked up but ``localhost``,
so nothing leaves the machine.
"""

import collections
import itertools
import os
import uuid
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from functions.core import webhook_token
from schemas.errors import ErrorBody

pytestmark = pytest.mark.e2e

OPENAPI = Path(__file__).resolve().parents[2] / "schemas" / "generated" / "openapi.json"
EXAMPLES = int(os.environ.get("CINEWEAVE_FUZZ_EXAMPLES", "30"))

schema = schemathesis.openapi.from_path(OPENAPI)


def error_shape(ctx, response, case) -> bool | None:
    """Every 4xx is ``{"error": {"code", "message", "field"?}}`` as JSON."""
    if 400 <= response.status_code < 500:
        assert response.headers.get("content-type", [""])[0].startswith("application/json"), response.headers
        ErrorBody.model_validate_json(response.content)
    return None


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance, error_shape]


@pytest.fixture(scope="module")
def identities(stack, issuer) -> dict[str, itertools.cycle]:
    """Per operation, the identities to send its cases as, in turn (the generation order is
    seeded, so which case goes as whom is the same on every run)."""
    suffix = uuid.uuid4().hex[:8]
    mint = lambda user, admin=False: issuer.mint(f"user_fuzz_{user}_{suffix}", azp=stack.base_url, admin=admin, lifetime_s=3600)  # noqa: E731  (a fuzz run outlives a 60 s token)
    headers = [("user", {"Authorization": f"Bearer {mint('user')}"}),
               ("admin", {"Authorization": f"Bearer {mint('admin', admin=True)}"}),
               ("anonymous", {})]
    return collections.defaultdict(lambda: itertools.cycle(headers))


@pytest.fixture(scope="module")
def session() -> requests.Session:
    return requests.Session()


@schema.parametrize()
@settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_the_api_answers_every_generated_request_by_its_contract(case, stack, identities, session):
    who, headers = next(identities[case.operation.label])
    if case.path == "/webhooks/runpod" and who == "user" and isinstance(case.query, dict):
        # Half the time, a real token for the generated job id: the body parser is reached too.
        job_id = str(case.query.get("jobId", ""))
        if len(job_id) % 2 == 0:
            case.query["token"] = webhook_token.token_for(stack.runpod_webhook_secret, job_id)
    case.call_and_validate(base_url=stack.base_url, headers=headers, session=session, checks=CHECKS, timeout=30)
