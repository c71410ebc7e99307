"""Cloud Function entry points. Each is a line: parse, hand to a handler, map errors.

Deployed one function per entry point (see infra_terraform); locally the gateway serves the HTTP
ones and the event host serves the Pub/Sub push ones, from this same module.
"""

from collections.abc import Callable
from typing import Any

import flask
import functions_framework
from cloudevents.http import CloudEvent

from functions import logs
from functions.bootstrap import deps
from functions.settings import get_settings
from functions.events.envelope import consume
from functions.handlers import create_job as creation
from functions.handlers import admin, api_keys, credits_api, expiry, jobs_api, metrics, reserve, settlement, submission
from functions.handlers import deliveries, event_stream, failures, lineage, operator_queue, payment_events, payments
from functions.handlers import renewals, templates_api, webhooks_api
from functions.handlers.auth import authenticate
from functions.http.endpoint import Call, Reply, serve
from schemas.events import ClockTicked, Event, GenerationFinished, JobCanceled, JobRequested, JobReserved, JobStatusChanged
from schemas.payments import PaymentNotified, RenewalClockTicked, RenewalRequested
from schemas.webhooks import WebhooksClockTicked
from schemas.topics import topic_for

logs.configure(get_settings().gcp_project)


def _http(request: flask.Request, name: str, handler: Callable[[Call, Any], Reply]) -> flask.Response:
    d = deps()
    return serve(
        request,
        name,
        lambda call: handler(call, d),
        authenticate=lambda token: authenticate(d, token),
        allowed_origins=d.settings.cors_allowed_origins,
        limiter=d.rate_limiter,
        upload_max_bytes=d.settings.image_max_bytes,
    )


def _event(cloud_event: CloudEvent, model: type[Event], handler: Callable[[Any, Any], None]) -> None:
    consumer = topic_for(model).consumer
    consume(cloud_event.data, model, lambda event: handler(event, deps()),
            record=lambda failed: failures.record_failure(failed, consumer, deps()))


# --- HTTP ---------------------------------------------------------------------------------------
@functions_framework.http
def create_job(request: flask.Request) -> flask.Response:
    return _http(request, "create_job", creation.create_job)


@functions_framework.http
def get_job(request: flask.Request) -> flask.Response:
    return _http(request, "get_job", jobs_api.get_job)


@functions_framework.http
def list_jobs(request: flask.Request) -> flask.Response:
    return _http(request, "list_jobs", jobs_api.list_jobs)


@functions_framework.http
def job_events(request: flask.Request) -> flask.Response:
    return _http(request, "job_events", event_stream.stream_job)


@functions_framework.http
def cancel_job(request: flask.Request) -> flask.Response:
    return _http(request, "cancel_job", jobs_api.cancel_job)


@functions_framework.http
def remix_job(request: flask.Request) -> flask.Response:
    return _http(request, "remix_job", lineage.remix_job)


@functions_framework.http
def extend_job(request: flask.Request) -> flask.Response:
    return _http(request, "extend_job", lineage.extend_job)


@functions_framework.http
def get_credits(request: flask.Request) -> flask.Response:
    return _http(request, "get_credits", credits_api.get_credits)


@functions_framework.http
def list_plans(request: flask.Request) -> flask.Response:
    return _http(request, "list_plans", credits_api.list_plans)


@functions_framework.http
def list_templates(request: flask.Request) -> flask.Response:
    return _http(request, "list_templates", templates_api.list_templates)


@functions_framework.http
def admin_grant_credits(request: flask.Request) -> flask.Response:
    return _http(request, "admin_grant_credits", credits_api.admin_grant_credits)


@functions_framework.http
def admin_list_jobs(request: flask.Request) -> flask.Response:
    return _http(request, "admin_list_jobs", admin.list_jobs)


@functions_framework.http
def admin_list_users(request: flask.Request) -> flask.Response:
    return _http(request, "admin_list_users", admin.list_users)


@functions_framework.http
def admin_daily_stats(request: flask.Request) -> flask.Response:
    return _http(request, "admin_daily_stats", admin.daily_stats)


@functions_framework.http
def admin_operator_queue(request: flask.Request) -> flask.Response:
    return _http(request, "admin_operator_queue", operator_queue.operator_queue)


@functions_framework.http
def admin_resolve_payment_issue(request: flask.Request) -> flask.Response:
    return _http(request, "admin_resolve_payment_issue", operator_queue.resolve_payment_issue)


@functions_framework.http
def admin_metrics(request: flask.Request) -> flask.Response:
    return _http(request, "admin_metrics", metrics.admin_metrics)


@functions_framework.http
def runpod_webhook(request: flask.Request) -> flask.Response:
    return _http(request, "runpod_webhook", settlement.runpod_webhook)


@functions_framework.http
def subscribe(request: flask.Request) -> flask.Response:
    return _http(request, "subscribe", payments.subscribe)


@functions_framework.http
def topup(request: flask.Request) -> flask.Response:
    return _http(request, "topup", payments.topup)


@functions_framework.http
def get_account(request: flask.Request) -> flask.Response:
    return _http(request, "get_account", payments.get_account)


@functions_framework.http
def create_key(request: flask.Request) -> flask.Response:
    return _http(request, "create_key", api_keys.create_key)


@functions_framework.http
def list_keys(request: flask.Request) -> flask.Response:
    return _http(request, "list_keys", api_keys.list_keys)


@functions_framework.http
def revoke_key(request: flask.Request) -> flask.Response:
    return _http(request, "revoke_key", api_keys.revoke_key)


@functions_framework.http
def truelayer_webhook(request: flask.Request) -> flask.Response:
    return _http(request, "truelayer_webhook", payment_events.truelayer_webhook)


@functions_framework.http
def get_webhook_secret(request: flask.Request) -> flask.Response:
    return _http(request, "get_webhook_secret", webhooks_api.get_secret)


@functions_framework.http
def create_webhook_endpoint(request: flask.Request) -> flask.Response:
    return _http(request, "create_webhook_endpoint", webhooks_api.create_endpoint)


@functions_framework.http
def list_webhook_endpoints(request: flask.Request) -> flask.Response:
    return _http(request, "list_webhook_endpoints", webhooks_api.list_endpoints)


@functions_framework.http
def delete_webhook_endpoint(request: flask.Request) -> flask.Response:
    return _http(request, "delete_webhook_endpoint", webhooks_api.delete_endpoint)


@functions_framework.http
def rotate_webhook_secret(request: flask.Request) -> flask.Response:
    return _http(request, "rotate_webhook_secret", webhooks_api.rotate_secret)


@functions_framework.http
def list_webhook_deliveries(request: flask.Request) -> flask.Response:
    return _http(request, "list_webhook_deliveries", webhooks_api.list_deliveries)


@functions_framework.http
def redeliver_webhook(request: flask.Request) -> flask.Response:
    return _http(request, "redeliver_webhook", webhooks_api.redeliver)


# --- Pub/Sub push -------------------------------------------------------------------------------
@functions_framework.cloud_event
def reserve_credits(cloud_event: CloudEvent) -> None:
    _event(cloud_event, JobRequested, reserve.reserve_credits)


@functions_framework.cloud_event
def submit_job(cloud_event: CloudEvent) -> None:
    _event(cloud_event, JobReserved, submission.submit_job)


@functions_framework.cloud_event
def cancel_generation(cloud_event: CloudEvent) -> None:
    _event(cloud_event, JobCanceled, submission.cancel_generation)


@functions_framework.cloud_event
def settle_job(cloud_event: CloudEvent) -> None:
    _event(cloud_event, GenerationFinished, settlement.settle_job)


@functions_framework.cloud_event
def expire_jobs(cloud_event: CloudEvent) -> None:
    _event(cloud_event, ClockTicked, expiry.expire_jobs)


@functions_framework.cloud_event
def grant_credits(cloud_event: CloudEvent) -> None:
    _event(cloud_event, PaymentNotified, payment_events.grant_credits)


@functions_framework.cloud_event
def schedule_renewals(cloud_event: CloudEvent) -> None:
    _event(cloud_event, RenewalClockTicked, renewals.schedule_renewals)


@functions_framework.cloud_event
def renew_subscription(cloud_event: CloudEvent) -> None:
    _event(cloud_event, RenewalRequested, renewals.renew_subscription)


@functions_framework.cloud_event
def deliver_webhooks(cloud_event: CloudEvent) -> None:
    _event(cloud_event, JobStatusChanged, deliveries.deliver_webhooks)


@functions_framework.cloud_event
def retry_webhooks(cloud_event: CloudEvent) -> None:
    _event(cloud_event, WebhooksClockTicked, deliveries.retry_webhooks)
