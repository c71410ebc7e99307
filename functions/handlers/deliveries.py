"""deliver_webhooks (job-status-changed) and retry_webhooks (the webhook minute tick).

deliver_webhooks fans a job's history out into deliveries (one document per message and
receiver, created once whatever the redeliveries) and makes each one's first attempt.
retry_webhooks makes the attempts that are due, and fans out jobs whose announcement was lost.
Every attempt is claimed first (a lease on the delivery), so concurrent redeliveries of one event
send it once, and a sender killed mid-attempt leaves a lease that runs out, not a lost message.
"""

import json
import logging
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from functions.bootstrap import Deps
from functions.core import webhooks
from functions.core.paths import JOBS, WEBHOOK_DELIVERIES, delivery_path, job_path
from functions.handlers.views import job_at, job_view
from functions.handlers.webhook_targets import signing_secrets, targets_for
from functions.store import Decision, Put, Query
from schemas.documents import JobDoc
from schemas.events import JobStatusChanged
from schemas.webhooks import Attempt, DeliveryStatus, WebhookDeliveryDoc, WebhooksClockTicked

log = logging.getLogger(__name__)
BATCH = 50
SENDERS = 16  # attempts in flight at once: a tick of hung receivers costs BATCH / SENDERS deadlines (< the ack deadline)
CLAIM_MARGIN_S = 5.0


def deliver_webhooks(event: JobStatusChanged, deps: Deps) -> None:
    data = deps.store.get(job_path(event.job_id))
    if data is None:
        log.warning("status change of unknown job %s", event.job_id)
        return
    pending = [d for d in fan_out(deps, JobDoc.from_document(data)) if d.status is DeliveryStatus.PENDING]
    send_all(deps, pending)


def retry_webhooks(event: WebhooksClockTicked, deps: Deps) -> None:
    for step in (fan_out_unannounced, retry_due):
        try:
            step(deps)
        except Exception:  # noqa: BLE001 - one broken step must not starve the other; the next tick retries
            log.exception("webhook tick step %s failed", step.__name__)


def fan_out(deps: Deps, job: JobDoc) -> list[WebhookDeliveryDoc]:
    """Create every delivery the job's history calls for (those that exist stay as they are)."""
    now = deps.now()

    def body_at(index: int) -> str:
        view = job_view(job_at(job, index), now, deps.storage)
        return json.dumps(view.to_wire(), separators=(",", ":"), sort_keys=True)

    wanted = webhooks.deliveries_for(job, targets_for(deps, job), body_at, now)
    current = deps.store.decide(
        [delivery_path(d.webhook_id) for d in wanted], lambda docs: webhooks.decide_create(docs, wanted)
    ) if wanted else []
    if job.webhooks_pending:
        deps.store.decide([job_path(job.job_id)], lambda docs: _decide_announced(docs, job))
    return current


def _decide_announced(docs, seen: JobDoc) -> Decision[None]:
    """Clear the job's flag, unless it moved on since we read it (then its own announcement follows)."""
    data = docs[job_path(seen.job_id)]
    if data is None or not data.get("webhooksPending") or len(data.get("history", ())) != len(seen.history):
        return Decision()
    return Decision([Put(job_path(seen.job_id), {**data, "webhooksPending": False})])


def fan_out_unannounced(deps: Deps) -> None:
    cutoff = deps.now() - timedelta(seconds=deps.settings.republish_after_s)
    rows = deps.store.query(Query(JOBS, where=[("webhooksPending", "==", True), ("updatedAt", "<=", cutoff)],
                                  order_by="updatedAt", limit=BATCH))
    for _, data in rows:  # their deliveries are due at once: retry_due, the next step, sends them
        job = JobDoc.from_document(data)
        try:
            fan_out(deps, job)
        except Exception:  # noqa: BLE001 - one job's failure must not stop the others
            log.exception("could not fan out job %s", job.job_id)


def retry_due(deps: Deps) -> None:
    rows = deps.store.query(Query(
        WEBHOOK_DELIVERIES,
        where=[("status", "in", [DeliveryStatus.PENDING.value, DeliveryStatus.RETRYING.value]), ("nextAttemptAt", "<=", deps.now())],
        order_by="nextAttemptAt", limit=BATCH,
    ))
    send_all(deps, [WebhookDeliveryDoc.from_document(data) for _, data in rows], in_order=False)


def send_all(deps: Deps, deliveries: list[WebhookDeliveryDoc], in_order: bool = True) -> None:
    """Send in parallel; ``in_order``: one receiver's deliveries one after another, in history order."""
    by_receiver: dict[str, list[WebhookDeliveryDoc]] = defaultdict(list)
    for delivery in deliveries:
        by_receiver[(delivery.endpoint_id or delivery.url) if in_order else delivery.webhook_id].append(delivery)
    if not by_receiver:
        return
    with ThreadPoolExecutor(min(SENDERS, len(by_receiver))) as pool:
        for future in [pool.submit(_send_each, deps, queue) for queue in by_receiver.values()]:
            future.result()


def _send_each(deps: Deps, queue: list[WebhookDeliveryDoc]) -> None:
    for delivery in queue:
        try:
            send(deps, delivery.webhook_id)
        except Exception:  # noqa: BLE001 - recorded as still due: the tick tries it again
            log.exception("could not send webhook %s", delivery.webhook_id)


def send(deps: Deps, webhook_id: str) -> WebhookDeliveryDoc | None:
    """One attempt of a due delivery, recorded; ``None`` if it was not due or someone else is on it."""
    from functions.adapters.public_http import OutboundError

    settings = deps.settings
    lease = timedelta(seconds=settings.webhook_timeout_s + CLAIM_MARGIN_S)
    claimed = deps.store.decide([delivery_path(webhook_id)],
                                lambda docs: webhooks.decide_claim(docs, webhook_id, deps.now(), lease))
    if claimed is None:
        return None
    now = deps.now()
    secrets = signing_secrets(deps, claimed, now)
    started = time.monotonic()
    if not secrets:
        attempt, outcome = Attempt(at=now, latency_ms=0, error="the endpoint was deleted"), webhooks.Verdict.GIVE_UP
    else:
        headers = {"Content-Type": "application/json", **webhooks.signature_headers(webhook_id, claimed.body, secrets, now)}
        try:
            response = deps.public_http.post(claimed.url, claimed.body.encode(), timeout_s=settings.webhook_timeout_s, headers=headers)
        except OutboundError as exc:
            outcome = webhooks.verdict(None, getattr(exc, "permanent", False))
            attempt = Attempt(at=now, latency_ms=_ms(started), error=f"{type(exc).__name__}: {exc}"[: webhooks.ERROR_CHARS])
        else:
            outcome = webhooks.verdict(response.status, False)
            error = None if outcome is webhooks.Verdict.SUCCEEDED else f"the receiver answered HTTP {response.status}"
            attempt = Attempt(at=now, status_code=response.status, latency_ms=_ms(started), error=error)
    recorded = deps.store.decide(
        [delivery_path(webhook_id)],
        lambda docs: webhooks.decide_record(docs, webhook_id, attempt, outcome, settings.webhook_retry_schedule_s, deps.now()),
    )
    log.info("webhook %s (%s) attempt: %s -> %s", webhook_id, claimed.event.value, attempt.status_code or attempt.error,
             recorded.status.value if recorded else "gone", extra={"job_id": claimed.job_id, "user_id": claimed.user_id})
    return recorded


def _ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)
