"""Webhook delivery rules: who hears which job event, the message ids, signing, and retries.

A delivery is one message (one ``webhook-id``) to one receiver. Its id is derived from the job,
the status and the receiver, so announcing a status twice (or concurrently) creates it once, and
every retry of it carries the same id for the receiver to deduplicate on. Its body is frozen when
it is created: a retry sends the very bytes of the first attempt, signed afresh.
"""

import base64
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from standardwebhooks import Webhook

from functions.core.paths import delivery_path
from functions.store.port import Decision, Docs, Put
from schemas.documents import JobDoc
from schemas.jobs import JobStatus
from schemas.webhooks import EVENT_FOR_STATUS, Attempt, DeliveryStatus, WebhookDeliveryDoc, WebhookEvent

MAX_KEPT_ATTEMPTS = 50
ERROR_CHARS = 300
KEEP_FOR = timedelta(days=30)  # a delivery's record, counted from its last change


@dataclass(frozen=True)
class Target:
    """A receiver of one user's job events: an account endpoint, or a job's own ``webhookUrl``."""

    endpoint_id: str | None
    url: str
    events: frozenset[WebhookEvent]
    since: datetime | None = None  # an endpoint hears of changes made after it was registered


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def webhook_id(job_id: str, status: JobStatus, endpoint_id: str | None) -> str:
    digest = hashlib.sha256(f"{job_id}\0{status.value}\0{endpoint_id or 'job'}".encode()).hexdigest()
    return f"msg_{digest[:32]}"


def announced(job: JobDoc) -> list[tuple[int, JobStatus, WebhookEvent]]:
    """Each step of the job's history that some receiver may hear of, in order: (index, status, event)."""
    return [(i, change.status, EVENT_FOR_STATUS[change.status]) for i, change in enumerate(job.history)
            if change.status in EVENT_FOR_STATUS]


def deliveries_for(job: JobDoc, targets: Sequence[Target], body_at, now: datetime) -> list[WebhookDeliveryDoc]:
    """Every delivery the job's history calls for; ``body_at(index)`` is the JSON body for that step."""
    found = []
    for index, status, event in announced(job):
        for target in targets:
            if event in target.events and (target.since is None or job.history[index].at >= target.since):
                found.append(WebhookDeliveryDoc(
                    webhook_id=webhook_id(job.job_id, status, target.endpoint_id), user_id=job.user_id,
                    job_id=job.job_id, endpoint_id=target.endpoint_id, url=target.url, event=event,
                    body=body_at(index), status=DeliveryStatus.PENDING, next_attempt_at=now, created_at=now,
                    updated_at=now, expires_at=now + KEEP_FOR,
                ))
    return found


def decide_create(docs: Docs, wanted: Sequence[WebhookDeliveryDoc]) -> Decision[list[WebhookDeliveryDoc]]:
    """Create the deliveries not made yet; the result is every wanted delivery as it now stands."""
    writes, current = [], []
    for delivery in wanted:
        existing = docs[delivery_path(delivery.webhook_id)]
        if existing is None:
            writes.append(Put(delivery_path(delivery.webhook_id), delivery.to_document()))
            current.append(delivery)
        else:
            current.append(WebhookDeliveryDoc.from_document(existing))
    return Decision(writes, current)


# --- sending -------------------------------------------------------------------------------------


def signature_headers(message_id: str, body: str, signing_secrets: Sequence[str], now: datetime) -> dict[str, str]:
    """The three Standard Webhooks headers; during a rotation every live secret signs."""
    signatures = " ".join(Webhook(secret).sign(message_id, now, body) for secret in signing_secrets)
    return {"webhook-id": message_id, "webhook-timestamp": str(int(now.timestamp())), "webhook-signature": signatures}


def decide_claim(docs: Docs, webhook_id_: str, now: datetime, lease: timedelta, force: bool = False) -> Decision[WebhookDeliveryDoc | None]:
    """Claim a delivery that is due and not being sent by someone else; ``None`` if it is not ours to send."""
    data = docs[delivery_path(webhook_id_)]
    if data is None:
        return Decision(result=None)
    delivery = WebhookDeliveryDoc.from_document(data)
    due = delivery.status in (DeliveryStatus.PENDING, DeliveryStatus.RETRYING) and (
        force or delivery.next_attempt_at is None or delivery.next_attempt_at <= now)
    if not due or (delivery.claim_until and delivery.claim_until > now):
        return Decision(result=None)
    claimed = delivery.model_copy(update={"claim_until": now + lease, "updated_at": now})
    return Decision([Put(delivery_path(webhook_id_), claimed.to_document())], claimed)


class Verdict(StrEnum):
    SUCCEEDED = "succeeded"
    RETRY = "retry"  # a timeout, no connection, 429 or 5xx: the receiver may take it later
    GIVE_UP = "give_up"  # a refusal that will not change (4xx, a redirect, a refused address)


def verdict(status_code: int | None, permanent_error: bool) -> Verdict:
    if status_code is None:
        return Verdict.GIVE_UP if permanent_error else Verdict.RETRY
    if 200 <= status_code < 300:
        return Verdict.SUCCEEDED
    if status_code == 429 or status_code >= 500:
        return Verdict.RETRY
    return Verdict.GIVE_UP


def decide_record(
    docs: Docs, webhook_id_: str, attempt: Attempt, outcome: Verdict, schedule_s: Sequence[float], now: datetime
) -> Decision[WebhookDeliveryDoc | None]:
    """Append the attempt; then done, retry on the schedule, or dead-letter when it is exhausted."""
    data = docs[delivery_path(webhook_id_)]
    if data is None:
        return Decision(result=None)
    delivery = WebhookDeliveryDoc.from_document(data)
    attempts = (*delivery.attempts, attempt)[-MAX_KEPT_ATTEMPTS:]
    changes: dict = {"attempts": attempts, "claim_until": None, "updated_at": now, "next_attempt_at": None,
                     "expires_at": now + KEEP_FOR}
    if outcome is Verdict.SUCCEEDED:
        changes["status"] = DeliveryStatus.SUCCEEDED
    elif outcome is Verdict.RETRY and delivery.retries < len(schedule_s):
        changes |= {"status": DeliveryStatus.RETRYING, "retries": delivery.retries + 1,
                    "next_attempt_at": now + timedelta(seconds=schedule_s[delivery.retries])}
    else:
        changes["status"] = DeliveryStatus.FAILED
    recorded = delivery.model_copy(update=changes)
    return Decision([Put(delivery_path(webhook_id_), recorded.to_document())], recorded)


def decide_redeliver(docs: Docs, webhook_id_: str, user_id: str, now: datetime) -> Decision[WebhookDeliveryDoc | None]:
    """Make the user's delivery due again, with a fresh retry schedule (the same id and body)."""
    data = docs[delivery_path(webhook_id_)]
    if data is None or data.get("userId") != user_id:
        return Decision(result=None)
    delivery = WebhookDeliveryDoc.from_document(data)
    again = delivery.model_copy(update={"status": DeliveryStatus.PENDING, "retries": 0, "next_attempt_at": now,
                                        "claim_until": None, "updated_at": now, "expires_at": now + KEEP_FOR})
    return Decision([Put(delivery_path(webhook_id_), again.to_document())], again)
