"""Nothing after a commit may fail on input: headers from the edge are validated and bounded before
the job is written, so a created job is always announced with an event that validates, and a
refused request writes nothing (no job pending, no active-job slot held)."""

import json
import re

import flask
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from functions.adapters.clerk import Principal
from functions.core import jobs
from functions.core.paths import JOBS, user_path
from functions.handlers import create_job, reserve
from functions.http import trace_context
from functions.http.endpoint import serve
from functions.store import Decision, Query
from schemas.documents import UserDoc
from schemas.events import JobRequested
from tests.unit.fakes import make_deps

ODD_TRACE_HEADERS = [
    {"X-Cloud-Trace-Context": "f" * 100},  # over-long: main stored it and then failed to announce the job
    {"X-Cloud-Trace-Context": "4bf92f3577b34da6a3ce929d0e0e4736" + "0" * 5000 + "/1;o=1"},
    {"X-Cloud-Trace-Context": "not a trace/abc;o=1"},
    {"X-Cloud-Trace-Context": "/"},
    {"X-Cloud-Trace-Context": "é" * 10},
    {"traceparent": "00-" + "a" * 32 + "-" + "b" * 16},
    {"traceparent": "00-" + "0" * 32 + "-" + "b" * 16 + "-01"},
    {"traceparent": "x" * 10_000},
]


def _deps():
    deps = make_deps()
    deps.store.decide([user_path("user_a")], lambda docs: Decision([jobs.put(user_path("user_a"), UserDoc(
        user_id="user_a", balance=10, created_at=deps.now()))]))
    return deps


def _create(deps, headers: dict[str, str]):
    request = flask.Request.from_values(path="/jobs/create", method="POST", json={"prompt": "a storm", "durationSec": 5},
                                        headers={"Authorization": "Bearer t", **headers})
    response = serve(request, "create_job", lambda call: create_job.create_job(call, deps),
                     authenticate=lambda token: Principal("user_a", False), allowed_origins=())
    return response.status_code, json.loads(response.get_data())


def _check_nothing_stranded(deps, status: int) -> None:
    stored = [data for _, data in deps.store.query(Query(JOBS))]
    active = deps.store.get(user_path("user_a"))["activeJobs"] if deps.store.get(user_path("user_a")) else 0
    announced = [e for e in deps.publisher.events if isinstance(e, JobRequested)]
    if status == 202:
        assert len(stored) == 1 and active == 1
        assert [e.job_id for e in announced] == [stored[0]["jobId"]]
        for event in announced:  # the event survives the trip through Pub/Sub
            JobRequested.model_validate_json(event.model_dump_json(by_alias=True))
        reserve.reserve_credits(announced[0], deps)
        assert deps.store.query(Query(JOBS))[0][1]["status"] == "reserved"
    else:
        assert 400 <= status < 500 and stored == [] and active == 0 and announced == []


@pytest.mark.parametrize("headers", ODD_TRACE_HEADERS, ids=range(len(ODD_TRACE_HEADERS)))
def test_a_malformed_or_over_long_trace_header_never_strands_a_job(headers):
    deps = _deps()
    status, body = _create(deps, headers)
    assert status == 202, body  # a tracing header is never a reason to refuse a request: a new trace starts
    _check_nothing_stranded(deps, status)
    (stored,) = [data for _, data in deps.store.query(Query(JOBS))]
    assert re.fullmatch(r"[0-9a-f]{32}", stored["traceId"])


def test_a_well_formed_trace_is_kept_from_either_header():
    for headers, trace in [({"X-Cloud-Trace-Context": "4BF92F3577B34DA6A3CE929D0E0E4736/12;o=1"}, "4bf92f3577b34da6a3ce929d0e0e4736"),
                           ({"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}, "0af7651916cd43dd8448eb211c80319c")]:
        deps = _deps()
        assert _create(deps, headers)[0] == 202
        assert deps.publisher.events[0].trace_id == trace
    parsed = trace_context.from_headers({"X-Cloud-Trace-Context": "4bf92f3577b34da6a3ce929d0e0e4736/12;o=1"})
    assert parsed == trace_context.TraceContext("4bf92f3577b34da6a3ce929d0e0e4736", f"{12:016x}", True)


@pytest.mark.parametrize("key", ["", "k" * 256, "with space", "é"])
def test_a_bad_idempotency_key_is_refused_before_anything_is_written(key):
    deps = _deps()
    status, body = _create(deps, {"Idempotency-Key": key})
    assert status == 400 and body["error"]["field"] == "Idempotency-Key"
    _check_nothing_stranded(deps, status)


_header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7e), max_size=300)


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(cloud=_header_text, parent=_header_text, key=st.one_of(st.none(), _header_text))
def test_any_edge_headers_either_refuse_with_nothing_written_or_announce_the_job(cloud, parent, key):
    deps = _deps()
    headers = {"X-Cloud-Trace-Context": cloud, "traceparent": parent, **({"Idempotency-Key": key} if key is not None else {})}
    status, _ = _create(deps, headers)
    _check_nothing_stranded(deps, status)
