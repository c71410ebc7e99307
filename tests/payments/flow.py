"""Drives the payment handlers in process, the way the platform would: HTTP calls through the
real endpoint wrapper, webhooks signed by the stand-in, published events through the real
Pub/Sub envelope to the consumer the topic registry names."""

import base64
import json
from typing import Any

import flask

from devstack.truelayer_standin.app import StandIn
from devstack.truelayer_standin.webhooks import with_event_id
from functions.adapters.clerk import Principal
from functions.bootstrap import Deps
from functions.core.paths import ledger_collection, user_path
from functions.events.envelope import consume
from functions.handlers import payment_events, payments, renewals
from functions.http.endpoint import serve
from functions.store import Query
from schemas.topics import topic_for

CONSUMERS = {
    "grant_credits": payment_events.grant_credits,
    "schedule_renewals": renewals.schedule_renewals,
    "renew_subscription": renewals.renew_subscription,
}
HTTP = {"subscribe": ("POST", "/subscribe", payments.subscribe), "topup": ("POST", "/topup", payments.topup),
        "get_account": ("GET", "/account", payments.get_account)}


def call(deps: Deps, function: str, body: dict | None = None, user_id: str = "user_a") -> tuple[int, dict]:
    method, path, handler = HTTP[function]
    request = flask.Request.from_values(path=path, method=method, data=json.dumps(body) if body is not None else None,
                                        headers={"Authorization": "Bearer test", "Content-Type": "application/json"})
    response = serve(request, function, lambda c: handler(c, deps), authenticate=lambda token: Principal(user_id, False),
                     allowed_origins=())
    return response.status_code, json.loads(response.get_data())


def deliver(deps: Deps, raw: str, headers: dict[str, str], path: str = "/webhooks/truelayer") -> int:
    request = flask.Request.from_values(path=path, method="POST", data=raw.encode(), headers=headers)
    response = serve(request, "truelayer_webhook", lambda c: payment_events.truelayer_webhook(c, deps),
                     authenticate=lambda token: None, allowed_origins=())
    return response.status_code


def push(deps: Deps, event) -> None:
    """One Pub/Sub push of ``event`` to its topic's consumer (raises as the function would: a 500)."""
    topic = topic_for(type(event))
    data = {"message": {"data": base64.b64encode(event.model_dump_json(by_alias=True).encode()).decode(), "messageId": "m"}}
    consume(data, type(event), lambda e: CONSUMERS[topic.consumer](e, deps))


def drain(deps: Deps, limit: int = 50) -> list[Any]:
    """Deliver every published event (and what they publish in turn); returns them in order."""
    done = []
    while deps.publisher.events and len(done) < limit:
        event = deps.publisher.events.pop(0)
        push(deps, event)
        done.append(event)
    return done


def balance(deps: Deps, user_id: str = "user_a") -> int:
    return (deps.store.get(user_path(user_id)) or {}).get("balance", 0)


def ledger(deps: Deps, user_id: str = "user_a") -> dict[str, int]:
    return {data["entryId"]: data["amount"] for _, data in deps.store.query(Query(ledger_collection(user_id)))}


def assert_balanced(deps: Deps, user_id: str = "user_a") -> None:
    assert balance(deps, user_id) == sum(ledger(deps, user_id).values())


def snapshot(deps: Deps) -> dict:
    return json.loads(json.dumps(deps.store._docs, default=str))  # noqa: SLF001 - the whole fake store, to compare


def webhooks_for(standin: StandIn, kind: str, resource_id: str, action: str, signature: str = "valid",
                 reason: str | None = None) -> list[tuple[str, dict[str, str]]]:
    """Moves a stand-in payment or mandate and returns its webhooks, signed, ready to deliver."""
    resource = standin.state.get(kind, resource_id)
    events = (standin.payment_events if kind == "payment" else standin.mandate_events)(resource, action, reason)
    return [standin.webhooks.signed(with_event_id(body), signature) for body in events]
