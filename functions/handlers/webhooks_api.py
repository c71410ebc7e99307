"""The webhook API: the default secret, account endpoints (create, list, delete, rotate), and the
record of deliveries with a manual redelivery."""

import secrets as random
from datetime import timedelta

from functions.bootstrap import Deps
from functions.core import webhooks
from functions.core.errors import InputRejected, NotFound
from functions.core.paths import WEBHOOK_DELIVERIES, endpoint_path, delivery_path, job_path
from functions.handlers.create_job import announce
from functions.http.params import int_param
from functions.handlers.webhook_targets import check_receiver, default_secret, endpoints_of, live_secrets, seal_new
from functions.http.body import json_object
from functions.http.endpoint import Call, Reply
from functions.http.errors import ApiError
from functions.store import Decision, Delete, Put, Query
from schemas.events import JobStatusChanged
from schemas.jobs import JobStatus
from schemas.webhooks import (
    CreateEndpointRequest,
    DeliveryList,
    DeliveryView,
    EndpointCreated,
    EndpointList,
    EndpointView,
    RotateSecretRequest,
    SecretView,
    WebhookDeliveryDoc,
    WebhookEndpointDoc,
)


def get_secret(call: Call, deps: Deps) -> Reply:
    """Like Replicate's default secret: it signs the webhooks of jobs created with a ``webhookUrl``."""
    doc = default_secret(deps, call.user_id)
    return 200, SecretView(secret=live_secrets(deps, doc.secrets, deps.now())[0])


def create_endpoint(call: Call, deps: Deps) -> Reply:
    body = CreateEndpointRequest.model_validate(json_object(call.request))
    check_receiver(deps, body.url, "url")
    if len(endpoints_of(deps, call.user_id)) >= deps.settings.webhook_max_endpoints:
        raise InputRejected("too_many_endpoints", f"at most {deps.settings.webhook_max_endpoints} webhook endpoints per account", status=409)
    now = deps.now()
    plain, sealed = seal_new(deps, now)
    endpoint = WebhookEndpointDoc(endpoint_id=f"ep_{random.token_hex(12)}", user_id=call.user_id, url=body.url,
                                  events=tuple(dict.fromkeys(body.events)), secrets=(sealed,), created_at=now)
    path = endpoint_path(endpoint.endpoint_id)
    deps.store.decide([path], lambda docs: Decision([Put(path, endpoint.to_document())]))
    return 201, EndpointCreated(**_view(endpoint, deps).model_dump(), secret=plain)


def list_endpoints(call: Call, deps: Deps) -> Reply:
    return 200, EndpointList(endpoints=[_view(e, deps) for e in endpoints_of(deps, call.user_id)])


def delete_endpoint(call: Call, deps: Deps) -> Reply:
    endpoint = _owned(deps, call.user_id, call.params["endpointId"])
    path = endpoint_path(endpoint.endpoint_id)
    deps.store.decide([path], lambda docs: Decision([Delete(path)]))
    return 200, _view(endpoint, deps)


def rotate_secret(call: Call, deps: Deps) -> Reply:
    """A new secret signs from now on; the previous one also signs for ``overlapSeconds``, so a
    receiver can switch over without dropping a message."""
    body = RotateSecretRequest.model_validate(json_object(call.request) if call.request.get_data() else {})
    endpoint = _owned(deps, call.user_id, call.params["endpointId"])
    now = deps.now()
    plain, sealed = seal_new(deps, now)
    path = endpoint_path(endpoint.endpoint_id)

    def decide(docs) -> Decision[WebhookEndpointDoc]:
        if docs[path] is None:
            raise NotFound(f"webhook endpoint {endpoint.endpoint_id} not found", "endpointId")
        current = WebhookEndpointDoc.from_document(docs[path])
        until = now + timedelta(seconds=body.overlap_seconds)
        kept = tuple(s.model_copy(update={"expires_at": min(s.expires_at or until, until)}) for s in current.secrets
                     if s.expires_at is None or s.expires_at > now)
        rotated = current.model_copy(update={"secrets": (sealed, *kept[:1])})  # at most two sign at once
        return Decision([Put(path, rotated.to_document())], rotated)

    rotated = deps.store.decide([path], decide)
    return 200, EndpointCreated(**_view(rotated, deps).model_dump(), secret=plain)


def list_deliveries(call: Call, deps: Deps) -> Reply:
    limit = int_param(call, "limit", default=20, low=1, high=100)
    cursor = call.request.args.get("cursor")
    job_id = call.request.args.get("jobId")
    where = [("userId", "==", call.user_id)] + ([("jobId", "==", job_id)] if job_id else [])
    start_after = None
    if cursor:
        if not (cursor.startswith("msg_") and cursor[4:].isalnum() and len(cursor) <= 64):
            raise ApiError(400, "invalid_cursor", "cursor is not one this API issued", "cursor")
        start_after = delivery_path(cursor)
    rows = deps.store.query(Query(WEBHOOK_DELIVERIES, where=where, order_by="createdAt", descending=True,
                                  limit=limit + 1, start_after=start_after))
    page = [WebhookDeliveryDoc.from_document(data) for _, data in rows[:limit]]
    return 200, DeliveryList(deliveries=[delivery_view(d) for d in page],
                             next_cursor=page[-1].webhook_id if len(rows) > limit else None)


def redeliver(call: Call, deps: Deps) -> Reply:
    """Send a delivery again (same id and body, a fresh retry schedule), whatever became of it."""
    webhook_id = call.params["deliveryId"]
    now = deps.now()
    again = deps.store.decide([delivery_path(webhook_id)],
                              lambda docs: webhooks.decide_redeliver(docs, webhook_id, call.user_id, now))
    if again is None:
        raise NotFound(f"delivery {webhook_id} not found", "deliveryId")
    job = deps.store.get(job_path(again.job_id))
    status = JobStatus(job["status"]) if job else JobStatus.EXPIRED
    # deliver_webhooks sends the job's due deliveries; if this publish is lost, the tick sends it.
    announce(deps, JobStatusChanged(job_id=again.job_id, status=status, occurred_at=now))
    return 202, delivery_view(again)


def delivery_view(delivery: WebhookDeliveryDoc) -> DeliveryView:
    return DeliveryView(
        id=delivery.webhook_id, job_id=delivery.job_id, endpoint_id=delivery.endpoint_id, url=delivery.url,
        event=delivery.event, status=delivery.status, attempts=[a.model_dump() for a in delivery.attempts],
        next_attempt_at=delivery.next_attempt_at, created_at=delivery.created_at, updated_at=delivery.updated_at,
    )


def _owned(deps: Deps, user_id: str, endpoint_id: str) -> WebhookEndpointDoc:
    data = deps.store.get(endpoint_path(endpoint_id))
    if data is None or data.get("userId") != user_id:
        raise NotFound(f"webhook endpoint {endpoint_id} not found", "endpointId")
    return WebhookEndpointDoc.from_document(data)


def _view(endpoint: WebhookEndpointDoc, deps: Deps) -> EndpointView:
    now = deps.now()
    previous = [s.expires_at for s in endpoint.secrets[1:] if s.expires_at and s.expires_at > now]
    return EndpointView(id=endpoint.endpoint_id, url=endpoint.url, events=list(endpoint.events),
                        created_at=endpoint.created_at, previous_secret_expires_at=previous[0] if previous else None)
