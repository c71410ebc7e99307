"""Unwraps a Pub/Sub push (as a CloudEvent) into a typed event, and runs its consumer.

Two kinds of failure: a message that can never be processed (garbage, wrong schema) is a
*poison* message: logged, recorded and acknowledged, because redelivery cannot fix it. Anything
else raises, the function answers 500, and Pub/Sub redelivers (then dead-letters) it; each failed
attempt is logged and recorded with its error, so a dead letter can be explained.
"""

import base64
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from pydantic import ValidationError

from functions import logs
from functions.core.errors import DomainError
from schemas.events import Event

log = logging.getLogger(__name__)
E = TypeVar("E", bound=Event)


class PoisonMessage(Exception):
    pass


@dataclass(frozen=True)
class Undelivered:
    """A message its consumer could not process: ``poison`` (acknowledged) or ``error`` (raised)."""

    kind: Literal["poison", "error"]
    reason: str
    message_id: str | None
    subscription: str | None
    data: str  # base64, exactly as pushed (empty when the push had none)
    attributes: dict[str, str] = field(default_factory=dict)
    delivery_attempt: int | None = None

    @property
    def digest(self) -> str:
        """Names the message by its content: a dead letter (which gets a new message id) and the
        record of its failed attempts share it."""
        return hashlib.sha256(self.data.encode()).hexdigest()[:32]


Recorder = Callable[[Undelivered], None]


def parse(data: dict[str, Any], model: type[E]) -> E:
    try:
        message = data["message"]
        raw = base64.b64decode(message["data"], validate=True)
        return model.model_validate_json(raw)
    except (KeyError, TypeError, ValueError, ValidationError) as exc:
        raise PoisonMessage(f"not a valid {model.__name__}: {exc}") from exc


def consume(data: dict[str, Any], model: type[E], handler: Callable[[E], None], record: Recorder | None = None) -> None:
    try:
        event = parse(data, model)
    except PoisonMessage as exc:
        poison = _undelivered(data, "poison", str(exc))
        log.error("dropped poison message %s from %s: %s", poison.message_id, poison.subscription, exc,
                  extra={"event": "poison"})
        if record:
            record(poison)  # if this fails the message is redelivered, so it is never lost unrecorded
        return
    try:
        with logs.bound(event.trace_id):
            handler(event)
    except DomainError as exc:
        # The event refers to something that cannot be processed (e.g. an unknown job): permanent.
        log.error("%s %s refused: %s", model.__name__, event.idempotency_key, exc.message)
    except Exception as exc:
        failed = _undelivered(data, "error", f"{type(exc).__name__}: {exc}")
        log.warning("%s %s failed (attempt %s, message %s); Pub/Sub will redeliver: %s", model.__name__,
                    event.idempotency_key, failed.delivery_attempt, failed.message_id, failed.reason,
                    extra={"event": "delivery_failed"})
        if record:
            try:
                record(failed)
            except Exception:  # noqa: BLE001 - the record explains a dead letter; the redelivery matters more
                log.exception("could not record the failed delivery of %s", failed.message_id)
        raise


def _undelivered(data: Any, kind: Literal["poison", "error"], reason: str) -> Undelivered:
    body = data if isinstance(data, dict) else {}
    message = body.get("message") if isinstance(body.get("message"), dict) else {}
    raw = message.get("data")
    attributes = message.get("attributes")
    attempt = body.get("deliveryAttempt")
    return Undelivered(
        kind=kind,
        reason=reason[:1000],
        message_id=str(message["messageId"])[:200] if message.get("messageId") is not None else None,
        subscription=str(body["subscription"])[:300] if body.get("subscription") is not None else None,
        data=raw if isinstance(raw, str) else "",
        attributes={str(k)[:100]: str(v)[:500] for k, v in attributes.items()} if isinstance(attributes, dict) else {},
        delivery_attempt=attempt if isinstance(attempt, int) else None,
    )
