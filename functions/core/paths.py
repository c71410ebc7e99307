"""Where each document lives. The only place that spells a collection name."""

import hashlib

USERS = "users"
JOBS = "jobs"
IDEMPOTENCY = "idempotency"
PAYMENTS = "payments"
MANDATES = "mandates"
SUBSCRIPTIONS = "subscriptions"
TRUELAYER_EVENTS = "truelayer_events"
EVENT_FAILURES = "event_failures"
TICK_FAILURES = "tick_failures"
PAYMENT_ISSUES = "payment_issues"
WEBHOOK_ENDPOINTS = "webhook_endpoints"
WEBHOOK_SECRETS = "webhook_secrets"
WEBHOOK_DELIVERIES = "webhook_deliveries"
JOB_ROLLUPS = "job_rollups"


def user_path(user_id: str) -> str:
    return f"{USERS}/{user_id}"


def ledger_collection(user_id: str) -> str:
    return f"{USERS}/{user_id}/ledger"


def ledger_path(user_id: str, entry_id: str) -> str:
    return f"{ledger_collection(user_id)}/{entry_id}"


def job_path(job_id: str) -> str:
    return f"{JOBS}/{job_id}"


def idempotency_path(user_id: str, key: str) -> str:
    # Keys are client-chosen text: hash them into a safe document id.
    digest = hashlib.sha256(f"{user_id}\0{key}".encode()).hexdigest()
    return f"{IDEMPOTENCY}/{digest}"


def payment_path(payment_id: str) -> str:
    return f"{PAYMENTS}/{payment_id}"


def mandate_path(mandate_id: str) -> str:
    return f"{MANDATES}/{mandate_id}"


def subscription_path(user_id: str) -> str:
    return f"{SUBSCRIPTIONS}/{user_id}"


def truelayer_event_path(event_id: str) -> str:
    return f"{TRUELAYER_EVENTS}/{event_id}"


def event_failure_path(consumer: str, digest: str) -> str:
    return f"{EVENT_FAILURES}/{consumer}:{digest}"


API_KEYS = "apiKeys"


def api_key_path(key_id: str) -> str:
    return f"{API_KEYS}/{key_id}"


def tick_failure_path(step: str, record_id: str) -> str:
    # Record ids come from documents (a poisoned one may hold anything): hash them into a safe id.
    return f"{TICK_FAILURES}/{step}:{hashlib.sha256(record_id.encode()).hexdigest()[:32]}"


def payment_issue_path(payment_id: str) -> str:
    return f"{PAYMENT_ISSUES}/{payment_id}"


def endpoint_path(endpoint_id: str) -> str:
    return f"{WEBHOOK_ENDPOINTS}/{endpoint_id}"


def default_secret_path(user_id: str) -> str:
    return f"{WEBHOOK_SECRETS}/{user_id}"


def delivery_path(webhook_id: str) -> str:
    return f"{WEBHOOK_DELIVERIES}/{webhook_id}"


RATE_LIMITS = "rateLimits"  # one counter document per caller, rule and window; expiresAt drives Firestore's TTL


def job_rollup_path(day: str, shard: int) -> str:
    return f"{JOB_ROLLUPS}/{day}_{shard}"
