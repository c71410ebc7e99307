"""Unwraps a Pub/Sub push (as a CloudEvent) into a typed event, and runs its consumer.

Two kinds of failure: a message that can never be processed (garbage, wrong schema) is a
*poison* message: logged and acknowledged, because redelivery cannot fix it. Anything else
raises, the function answers 500, and Pub/Sub redelivers (then dead-letters) it.
"""

import base64
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import ValidationError

from functions.core.errors import DomainError
from schemas.events import Event

log = logging.getLogger(__name__)
E = TypeVar("E", bound=Event)


class PoisonMessage(Exception):
    pass


def parse(data: dict[str, Any], model: type[E]) -> E:
    try:
        message = data["message"]
        raw = base64.b64decode(message["data"], validate=True)
        return model.model_validate_json(raw)
    except (KeyError, TypeError, ValueError, ValidationError) as exc:
        raise PoisonMessage(f"not a valid {model.__name__}: {exc}") from exc


def consume(data: dict[str, Any], model: type[E], handler: Callable[[E], None]) -> None:
    message_id = (data.get("message") or {}).get("messageId") if isinstance(data, dict) else None
    try:
        event = parse(data, model)
    except PoisonMessage as exc:
        log.error("dropped poison message %s: %s", message_id, exc)
        return
    try:
        handler(event)
    except DomainError as exc:
        # The event refers to something that cannot be processed (e.g. an unknown job): permanent.
        log.error("%s %s refused: %s", model.__name__, event.idempotency_key, exc.message)

