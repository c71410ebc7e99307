"""GET /admin/queue and POST /admin/queue/payments/{paymentId}/resolve: what needs a person.

Payments TrueLayer settled that bought nothing (``payment_issues``, written in the commit that
applied the payment) and records a clock-tick step skipped (``tick_failures``). Both are bounded
reads on one ordered field, served by Firestore's automatic single-field indexes.
"""

from functions.bootstrap import Deps
from functions.core.errors import NotFound
from functions.core.paths import PAYMENT_ISSUES, TICK_FAILURES, payment_issue_path
from functions.http.body import json_object
from functions.http.endpoint import Call, Reply
from functions.store import Query
from functions.store.port import Decision, Docs, Put
from schemas.documents import TickFailureDoc
from schemas.operator import OperatorQueue, ResolveIssueRequest, TickFailureView
from schemas.payments import PaymentIssueDoc

SHOWN = 100


def operator_queue(call: Call, deps: Deps) -> Reply:
    issues = [PaymentIssueDoc.from_document(d) for _, d in deps.store.query(
        Query(PAYMENT_ISSUES, order_by="createdAt", descending=True, limit=SHOWN))]
    issues.sort(key=lambda issue: issue.resolved_at is not None)  # stable: unresolved first, each newest first
    failures = [TickFailureDoc.from_document(d) for _, d in deps.store.query(
        Query(TICK_FAILURES, order_by="lastAt", descending=True, limit=SHOWN))]
    return 200, OperatorQueue(
        payment_issues=issues,
        tick_failures=[TickFailureView(step=f.step, record_id=f.record_id, error=f.error, attempts=f.attempts,
                                       first_at=f.first_at, last_at=f.last_at) for f in failures])


def resolve_payment_issue(call: Call, deps: Deps) -> Reply:
    body = ResolveIssueRequest.model_validate(json_object(call.request))
    path, now = payment_issue_path(call.params["paymentId"]), deps.now()

    def decide(docs: Docs) -> Decision[PaymentIssueDoc]:
        if docs[path] is None:
            raise NotFound(f"no open issue for payment {call.params['paymentId']}", "paymentId")
        issue = PaymentIssueDoc.from_document(docs[path])
        if issue.resolved_at is not None:
            return Decision(result=issue)  # resolved before: the first resolution stands
        resolved = issue.model_copy(update={"resolved_at": now, "resolution": f"{call.user_id}: {body.note}"[:500]})
        return Decision([Put(path, resolved.to_document())], resolved)

    return 200, deps.store.decide([path], decide)
