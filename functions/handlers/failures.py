"""Records messages a consumer could not process (``event_failures``), for the operator.

A poison message is acknowledged, so this record is the only copy of it; a message whose handler
raised is redelivered and may end as a dead letter, and this record says why. Both are named by
consumer and content digest, so every attempt at one message updates one document.
"""

from datetime import datetime, timedelta

from functions.bootstrap import Deps
from functions.core.paths import event_failure_path
from functions.events.envelope import Undelivered
from functions.store.port import Decision, Docs, Put
from schemas.documents import EventFailureDoc

KEEP_FOR = timedelta(days=30)
MAX_KEPT_DATA = 256 * 1024  # base64 characters; our events are a few hundred bytes


def record_failure(undelivered: Undelivered, consumer: str, deps: Deps) -> None:
    now = deps.now()
    path = event_failure_path(consumer, undelivered.digest)
    deps.store.decide([path], lambda docs: _decide(docs, path, undelivered, consumer, now))


def _decide(docs: Docs, path: str, failed: Undelivered, consumer: str, now: datetime) -> Decision[None]:
    before = EventFailureDoc.from_document(docs[path]) if docs[path] else None
    kept = len(failed.data) <= MAX_KEPT_DATA
    doc = EventFailureDoc(
        consumer=consumer,
        digest=failed.digest,
        kind=failed.kind,
        reason=failed.reason,
        message_id=failed.message_id,
        subscription=failed.subscription,
        data=failed.data if kept else "",
        truncated=not kept,
        attributes=failed.attributes,
        attempts=before.attempts + 1 if before else 1,
        first_at=before.first_at if before else now,
        last_at=now,
        expires_at=now + KEEP_FOR,
    )
    return Decision([Put(path, doc.to_document())], None)
