"""The public HTTP surface: which path and method reach which function.

The local gateway routes with this table and the OpenAPI document is generated from it, so the
two cannot drift apart. Path parameters are written ``{name}``.
"""

import re
from dataclasses import dataclass

from pydantic import BaseModel

from schemas import admin, api, keys, metrics, operator, payments, webhooks
from schemas.jobs import JobStatus


@dataclass(frozen=True)
class QueryParam:
    """A query parameter, as the OpenAPI document describes it (the handler checks it the same way)."""

    name: str
    schema: dict
    required: bool = False


def _limit(default: int, high: int) -> QueryParam:
    return QueryParam("limit", {"type": "integer", "minimum": 1, "maximum": high, "default": default})


_ID = r"^[A-Za-z0-9_-]{1,64}$"
_JOB_CURSOR = QueryParam("cursor", {"type": "string", "pattern": r"^job_[A-Za-z0-9]{1,60}$"})
_DAY_OR_TIME = {"anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]}


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str
    summary: str
    # "user": a session token or an API key; "session": a session token only (API keys never
    # manage keys); "admin": a session token with the admin role; "public": no credentials.
    auth: str = "user"
    request: type[BaseModel] | None = None  # the JSON body, for the OpenAPI document
    response: type[BaseModel] | None = None
    status: int = 200
    upload_field: str | None = None  # also accepts multipart/form-data with this file field
    # The rate-limit rule (functions/http/rate_limits.py); None: "read" for GET, "write" otherwise.
    rate: str | None = None
    # The largest body accepted (413 past it, before it is read); None: 16 KiB for POST, none for
    # GET/DELETE, and for an upload route the image limit plus room for the form.
    max_body: int | None = None
    query: tuple[QueryParam, ...] = ()
    cache_s: int | None = None  # a public answer the same for everyone: Cache-Control max-age
    stream: bool = False  # answers text/event-stream, each event's data a ``response``

    @property
    def pattern(self) -> re.Pattern[str]:
        return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[A-Za-z0-9_-]{1,64})", self.path) + "$")

    def body_limit(self, upload_max_bytes: int) -> int:
        if self.max_body is not None:
            return self.max_body
        if self.upload_field:
            return upload_max_bytes + 64 * 1024  # the image plus the form's other fields and framing
        return 16 * 1024 if self.method in ("POST", "PUT", "PATCH") else 0

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method != self.method:
            return None
        found = self.pattern.match(path)
        return found.groupdict() if found else None


ROUTES: tuple[Route, ...] = (
    Route("POST", "/jobs/create", "create_job", "Create a video job",
          request=api.CreateJobRequest, response=api.CreateJobResponse, status=202, upload_field="image", rate="create"),
    Route("GET", "/jobs", "list_jobs", "List the caller's jobs, newest first", response=api.JobList,
          query=(_limit(20, 100), _JOB_CURSOR)),
    Route("GET", "/jobs/{jobId}", "get_job", "A job's status, progress and video", response=api.JobView),
    Route("POST", "/jobs/{jobId}/remix", "remix_job", "A new clip with a done clip's settings and seed, and a new prompt",
          request=api.RemixRequest, response=api.CreateJobResponse, status=202, rate="create"),
    Route("GET", "/jobs/{jobId}/events", "job_events",
          "Server-sent events: the job's view at each change, until it ends (resumable with Last-Event-ID)",
          response=api.JobView, stream=True),
    Route("POST", "/jobs/{jobId}/extend", "extend_job",
          "Continue a done clip from its last frame (charged for the added seconds; at most 30 s in all)",
          request=api.ExtendRequest, response=api.CreateJobResponse, status=202, rate="create"),
    Route("POST", "/jobs/{jobId}/cancel", "cancel_job", "Cancel a job and refund its credits", response=api.JobView),
    Route("GET", "/credits", "get_credits", "Balance and recent ledger entries", response=api.CreditsView),
    Route("GET", "/plans", "list_plans", "Plans and credit prices", auth="public", response=api.PlanList),
    Route("GET", "/templates", "list_templates", "Curated prompt templates (camera moves, lighting, styles, subjects)",
          auth="public", response=api.TemplateList, cache_s=3600),
    Route("POST", "/admin/grants", "admin_grant_credits", "Grant credits to a user", auth="admin",
          request=api.GrantRequest, response=api.GrantResponse),
    Route("GET", "/admin/jobs", "admin_list_jobs", "Jobs across users, filtered by status, user and date", auth="admin",
          response=admin.AdminJobList,
          query=(_limit(50, 200), _JOB_CURSOR, QueryParam("status", {"type": "string", "enum": [s.value for s in JobStatus]}),
                 QueryParam("userId", {"type": "string", "pattern": _ID}), QueryParam("from", _DAY_OR_TIME),
                 QueryParam("to", _DAY_OR_TIME))),
    Route("GET", "/admin/users", "admin_list_users", "Users with their balances and plans", auth="admin",
          response=admin.AdminUserList,
          query=(_limit(50, 200), QueryParam("cursor", {"type": "string", "pattern": _ID}),
                 QueryParam("userId", {"type": "string", "pattern": _ID}))),
    Route("GET", "/admin/stats/daily", "admin_daily_stats", "Credit burn, GPU spend, revenue and margin per day",
          auth="admin", response=admin.DailyStats,
          query=(QueryParam("days", {"type": "integer", "minimum": 1, "maximum": 90, "default": 14}),)),
    Route("GET", "/admin/queue", "admin_operator_queue", "The operator queue: settled payments that bought nothing, "
          "records the clock tick skipped", auth="admin", response=operator.OperatorQueue),
    Route("POST", "/admin/queue/payments/{paymentId}/resolve", "admin_resolve_payment_issue",
          "Mark a payment issue handled (refunded, granted by hand...)", auth="admin", request=operator.ResolveIssueRequest,
          response=payments.PaymentIssueDoc),
    Route("GET", "/admin/metrics", "admin_metrics", "The product's success metrics against their targets",
          auth="admin", response=metrics.MetricsReport,
          query=(QueryParam("days", {"type": "integer", "minimum": 1, "maximum": 90, "default": 14}),)),
    Route("POST", "/webhooks/runpod", "runpod_webhook", "RunPod end-of-job webhook (token in the query)", auth="public",
          rate="callback", max_body=256 * 1024,
          query=(QueryParam("jobId", {"type": "string"}, required=True), QueryParam("token", {"type": "string"}, required=True))),
    Route("POST", "/subscribe", "subscribe", "A payment link for a plan's first month (or a mandate to authorise)",
          request=payments.SubscribeRequest, response=payments.CheckoutResponse, status=201, rate="payment"),
    Route("POST", "/topup", "topup", "A payment link for extra credits", request=payments.TopUpRequest,
          response=payments.CheckoutResponse, status=201, rate="payment"),
    Route("GET", "/account", "get_account", "Plan, renewal date, balance and payment history", response=payments.AccountView),
    Route("POST", "/keys", "create_key", "Create an API key (its secret is shown once)", auth="session",
          request=keys.CreateApiKeyRequest, response=keys.CreatedApiKey, status=201),
    Route("GET", "/keys", "list_keys", "The caller's API keys (never their secrets)", auth="session", response=keys.ApiKeyList),
    Route("DELETE", "/keys/{keyId}", "revoke_key", "Revoke an API key", auth="session", response=keys.ApiKeyView),
    Route("POST", "/webhooks/truelayer", "truelayer_webhook", "TrueLayer payment and mandate webhooks (signed)", auth="public",
          rate="callback", max_body=64 * 1024),
    Route("GET", "/webhooks/secret", "get_webhook_secret", "The default secret that signs jobs' own webhookUrl deliveries",
          response=webhooks.SecretView),
    Route("POST", "/webhooks/endpoints", "create_webhook_endpoint", "Register a receiver of job events (its secret is shown once)",
          request=webhooks.CreateEndpointRequest, response=webhooks.EndpointCreated, status=201),
    Route("GET", "/webhooks/endpoints", "list_webhook_endpoints", "The account's webhook endpoints",
          response=webhooks.EndpointList),
    Route("DELETE", "/webhooks/endpoints/{endpointId}", "delete_webhook_endpoint", "Delete a webhook endpoint",
          response=webhooks.EndpointView),
    Route("POST", "/webhooks/endpoints/{endpointId}/rotate", "rotate_webhook_secret",
          "A new signing secret; the old one keeps signing for overlapSeconds", request=webhooks.RotateSecretRequest,
          response=webhooks.EndpointCreated),
    Route("GET", "/webhooks/deliveries", "list_webhook_deliveries", "Webhook deliveries with every attempt, newest first",
          response=webhooks.DeliveryList,
          query=(_limit(20, 100), QueryParam("cursor", {"type": "string", "pattern": r"^msg_[A-Za-z0-9]{1,60}$"}),
                 QueryParam("jobId", {"type": "string", "pattern": _ID}))),
    Route("POST", "/webhooks/deliveries/{deliveryId}/redeliver", "redeliver_webhook",
          "Send a delivery again (same webhook-id and body)", response=webhooks.DeliveryView, status=202),
)


def route_for(function: str) -> Route:
    return next(route for route in ROUTES if route.function == function)


def find_route(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    for route in ROUTES:
        params = route.match(method, path)
        if params is not None:
            return route, params
    return None
