"""Who receives a user's job events, with which secrets, and whether an address may receive at all.

Shared by the webhook API (registration, the default secret) and the delivery functions.
"""

from datetime import datetime

from functions.bootstrap import Deps
from functions.core.errors import InputRejected
from functions.core.paths import WEBHOOK_ENDPOINTS, default_secret_path, endpoint_path
from functions.core.webhooks import Target, new_secret
from functions.store import Decision, Put, Query
from schemas.documents import JobDoc
from schemas.webhooks import ALL_EVENTS, DefaultSecretDoc, SigningSecret, WebhookDeliveryDoc, WebhookEndpointDoc, WebhookEvent


def check_receiver(deps: Deps, url: str, field: str) -> None:
    """Refuse, before anything is stored, a receiver we would never send to: not https (loopback
    excepted where the local stack allows it), credentials in the URL, or a name that resolves to
    a private, loopback or link-local address. Resolving needs no connection: nothing is sent."""
    from functions.adapters.public_http import OutboundError

    try:
        deps.public_http.check(url, timeout_s=deps.settings.webhook_timeout_s)
    except OutboundError as exc:
        raise InputRejected("webhook_url_refused", f"this webhook URL cannot receive events: {exc}", field) from exc


def live_secrets(deps: Deps, stored: tuple[SigningSecret, ...], now: datetime) -> tuple[str, ...]:
    """The plain secrets that sign now: the newest, and a rotated-out one until its overlap ends."""
    return tuple(deps.sealer.open(s.sealed) for s in stored if s.expires_at is None or s.expires_at > now)


def seal_new(deps: Deps, now: datetime) -> tuple[str, SigningSecret]:
    plain = new_secret()
    return plain, SigningSecret(sealed=deps.sealer.seal(plain), created_at=now)


def default_secret(deps: Deps, user_id: str) -> DefaultSecretDoc:
    """The user's default secret (it signs every job's own ``webhookUrl``), made on first use."""
    path = default_secret_path(user_id)
    now = deps.now()

    def decide(docs) -> Decision[DefaultSecretDoc]:
        if docs[path] is not None:
            return Decision(result=DefaultSecretDoc.from_document(docs[path]))
        _, sealed = seal_new(deps, now)
        made = DefaultSecretDoc(user_id=user_id, secrets=(sealed,), created_at=now)
        return Decision([Put(path, made.to_document())], made)

    return deps.store.decide([path], decide)


def endpoints_of(deps: Deps, user_id: str) -> list[WebhookEndpointDoc]:
    rows = deps.store.query(Query(WEBHOOK_ENDPOINTS, where=[("userId", "==", user_id)], order_by="createdAt"))
    return [WebhookEndpointDoc.from_document(data) for _, data in rows]


def targets_for(deps: Deps, job: JobDoc) -> list[Target]:
    """The job's own webhookUrl (if any) and every endpoint of its owner."""
    targets = []
    if job.webhook_url:
        events = frozenset(WebhookEvent(e) for e in job.webhook_events) if job.webhook_events else frozenset(ALL_EVENTS)
        targets.append(Target(None, job.webhook_url, events))
    for endpoint in endpoints_of(deps, job.user_id):
        targets.append(Target(endpoint.endpoint_id, endpoint.url, frozenset(endpoint.events), since=endpoint.created_at))
    return targets


def signing_secrets(deps: Deps, delivery: WebhookDeliveryDoc, now: datetime) -> tuple[str, ...]:
    """The secrets that sign this delivery now (read at each attempt: a rotation applies to retries);
    empty if its endpoint was deleted."""
    if delivery.endpoint_id is None:
        return live_secrets(deps, default_secret(deps, delivery.user_id).secrets, now)
    data = deps.store.get(endpoint_path(delivery.endpoint_id))
    return live_secrets(deps, WebhookEndpointDoc.from_document(data).secrets, now) if data else ()
