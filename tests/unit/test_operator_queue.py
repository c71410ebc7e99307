"""The operator queue through the real endpoint wrapper: a settled payment that bought nothing and a
record the clock tick skipped both show up for an admin, and an issue is resolved once."""

import json
from datetime import timedelta

import flask

from functions.adapters.clerk import Principal
from functions.core import jobs
from functions.core.paths import job_path, payment_issue_path
from functions.handlers import expiry, operator_queue
from functions.http.endpoint import serve
from functions.store import Decision, Put
from schemas.events import ClockTicked
from schemas.payments import PaymentIssueDoc
from tests.unit.fakes import make_deps


def _call(deps, function: str, path: str, handler, body: dict | None = None, admin: bool = True) -> tuple[int, dict]:
    request = flask.Request.from_values(path=path, method="POST" if body is not None else "GET", json=body,
                                        headers={"Authorization": "Bearer t"})
    response = serve(request, function, lambda call: handler(call, deps),
                     authenticate=lambda token: Principal("user_ops", admin), allowed_origins=())
    return response.status_code, json.loads(response.get_data())


def test_the_admin_sees_payment_issues_and_skipped_tick_records_and_resolves_an_issue_once():
    deps = make_deps()
    issue = PaymentIssueDoc(payment_id="pay-1", user_id="user_a", kind="entry_exists", detail="grant:pay-1 already exists",
                            amount_minor=250, currency="GBP", credits=10, entry_id="grant:pay-1", created_at=deps.now())
    deps.store.decide([payment_issue_path("pay-1")], lambda docs: Decision([jobs.put(payment_issue_path("pay-1"), issue)]))
    bad = {"jobId": "job_bad", "status": "queued", "updatedAt": deps.now() - timedelta(hours=1)}  # not a JobDoc
    deps.store.decide([job_path("job_bad")], lambda docs: Decision([Put(job_path("job_bad"), bad)]))
    expiry.expire_jobs(ClockTicked(occurred_at=deps.now()), deps)

    assert _call(deps, "admin_operator_queue", "/admin/queue", operator_queue.operator_queue, admin=False)[0] == 403
    status, queue = _call(deps, "admin_operator_queue", "/admin/queue", operator_queue.operator_queue)
    assert status == 200
    assert [(i["paymentId"], i["credits"], i.get("resolvedAt")) for i in queue["paymentIssues"]] == [("pay-1", 10, None)]
    assert [(f["step"], f["recordId"], f["attempts"]) for f in queue["tickFailures"]] == [("reconcile_running", "jobs/job_bad", 1)]

    path, resolve = "/admin/queue/payments/pay-1/resolve", operator_queue.resolve_payment_issue
    status, resolved = _call(deps, "admin_resolve_payment_issue", path, resolve, {"note": "refunded at TrueLayer"})
    assert status == 200 and resolved["resolution"] == "user_ops: refunded at TrueLayer" and resolved["resolvedAt"]
    status, again = _call(deps, "admin_resolve_payment_issue", path, resolve, {"note": "second try"})
    assert again["resolution"] == "user_ops: refunded at TrueLayer"  # the first resolution stands
    assert _call(deps, "admin_resolve_payment_issue", "/admin/queue/payments/nope/resolve", resolve, {"note": "x"})[0] == 404
