"""The stand-in's HTTP faces: TrueLayer's auth and Payments API v3, the webhook JWKS, controls."""

import threading
import time
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request
from truelayer_signing import HttpMethod, extract_jws_header, verify_with_pem
from werkzeug.serving import make_server

from devstack.truelayer_standin.keys import LocalKeys, public_pem
from devstack.truelayer_standin.state import Problem, Resource, State, now_iso
from devstack.truelayer_standin.webhooks import SIGNATURES, WebhookSender


class StandIn:
    def __init__(self, state: State, keys: LocalKeys, webhooks: WebhookSender) -> None:
        self.state, self.keys, self.webhooks = state, keys, webhooks
        self._client_public_pem = public_pem(keys.client_private_pem)
        self._lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []

    def check_signature(self) -> str:
        """Checks the request's Tl-Signature with our client's public key, as TrueLayer does."""
        signature = request.headers.get("Tl-Signature", "")
        try:
            if extract_jws_header(signature).kid != self.keys.client_kid:
                raise Problem(401, "Invalid signature", "unknown signing key id")
            (verify_with_pem(self._client_public_pem).set_method(HttpMethod.POST).set_path(request.path)
             .add_headers(dict(request.headers)).add_required_header("Idempotency-Key")
             .set_body(request.get_data(as_text=True)).verify(signature))
        except Problem:
            raise
        except Exception as exc:  # noqa: BLE001 - any reason the signature does not hold
            raise Problem(401, "Invalid signature", f"Tl-Signature does not verify: {exc}") from exc
        return "valid"

    def log(self, status: int, signature: str) -> None:
        with self._lock:
            self.requests.append({"at": time.time(), "method": request.method, "path": request.path, "status": status,
                                  "signature": signature, "idempotencyKey": request.headers.get("Idempotency-Key")})

    def payment_events(self, payment: Resource, action: str, reason: str | None) -> list[dict[str, Any]]:
        """Moves the payment and returns the webhooks TrueLayer would send for it."""
        base = {"payment_id": payment.id, "payment_method": payment.payment_method, "metadata": payment.metadata}
        if action == "fail":
            stage = payment.status
            self.state.move("payment", payment.id, "failed", reason)
            return [{"type": "payment_failed", **base, "failed_at": now_iso(), "failure_stage": stage, "failure_reason": reason}]
        if action == "authorize":
            self.state.move("payment", payment.id, "authorized")
            return [{"type": "payment_authorized", **base, "authorized_at": now_iso()}]
        events = []
        if payment.status != "executed":
            self.state.move("payment", payment.id, "executed")
            events.append({"type": "payment_executed", **base, "executed_at": now_iso()})
        if action == "settle":
            self.state.move("payment", payment.id, "settled")
            events.append({"type": "payment_settled", **base, "settled_at": now_iso(), "user_id": payment.user_id,
                           "payment_source": {"account_holder_name": "LOCAL PAYER", "account_identifiers": [
                               {"type": "sort_code_account_number", "sort_code": "040668", "account_number": "00000871"}]}})
        return events

    def mandate_events(self, mandate: Resource, action: str, reason: str | None) -> list[dict[str, Any]]:
        status = {"authorize": "authorized", "revoke": "revoked", "fail": "failed"}[action]
        self.state.move("mandate", mandate.id, status, reason)
        extra = {"authorized": {"authorized_at": now_iso()}, "revoked": {"revoked_at": now_iso(), "revocation_source": "client"},
                 "failed": {"failed_at": now_iso(), "failure_stage": "authorizing", "failure_reason": reason}}[status]
        return [{"type": f"mandate_{status}", "mandate_id": mandate.id, "metadata": mandate.metadata, **extra}]


def create_app(standin: StandIn) -> Flask:
    app = Flask(__name__)
    app.register_blueprint(_truelayer_api(standin))
    app.register_blueprint(_control_api(standin))

    @app.errorhandler(Problem)
    def _problem(problem: Problem) -> tuple[Response, int]:
        if request.path.startswith("/v3/") or request.path == "/connect/token":
            standin.log(problem.status, "invalid" if problem.title == "Invalid signature" else "-")
        response = jsonify(problem.body())
        response.mimetype = "application/problem+json"
        return response, problem.status

    return app


def _truelayer_api(standin: StandIn) -> Blueprint:
    api = Blueprint("truelayer_api", __name__)

    def authorized() -> None:
        if not standin.state.authorized(request.headers.get("Authorization", "")):
            raise Problem(401, "Unauthorized", "a valid access token is required")

    @api.post("/connect/token")
    def token() -> Response:
        return jsonify(standin.state.issue_token(request.form.to_dict()))

    @api.post("/v3/<any(payments, mandates):collection>")
    def create(collection: str) -> tuple[Response, int]:
        authorized()
        signature = standin.check_signature()
        key = request.headers.get("Idempotency-Key", "")
        if not key:
            raise Problem(400, "Missing Idempotency-Key")
        answer = standin.state.create(collection[:-1], key, request.get_json(force=True))
        standin.log(201, signature)
        return jsonify(answer), 201

    @api.get("/v3/<any(payments, mandates):collection>/<resource_id>")
    def get(collection: str, resource_id: str) -> Response:
        authorized()
        return jsonify(standin.state.get(collection[:-1], resource_id).view())

    @api.get("/.well-known/jwks")
    def jwks() -> Response:
        return jsonify(standin.keys.webhook_jwks())

    @api.get("/foreign/.well-known/jwks")
    def foreign_jwks() -> Response:
        return jsonify(standin.keys.foreign_jwks())

    @api.get("/hpp/<any(payments, mandates):collection>")
    def hosted_page(collection: str) -> Response:
        return Response("TrueLayer stand-in: authorise through /_control (the id is in this URL's fragment)\n",
                        mimetype="text/plain")

    return api


_ACTIONS = {"payments": {"authorize", "execute", "settle", "fail"}, "mandates": {"authorize", "revoke", "fail"}}


def _control_api(standin: StandIn) -> Blueprint:
    api = Blueprint("control_api", __name__, url_prefix="/_control")

    def delivery() -> dict[str, Any]:
        body = request.get_json(silent=True) or {}
        signature = body.get("signature", "valid")
        if signature not in SIGNATURES:
            raise Problem(400, "Invalid Parameters", f"signature must be one of {', '.join(SIGNATURES)}")
        return {"copies": int(body.get("copies", 1)), "concurrent": bool(body.get("concurrent", False)), "signature": signature}

    @api.post("/reset")
    def reset() -> Response:
        standin.state.reset()
        standin.webhooks.clear()
        standin.requests.clear()
        return jsonify({})

    @api.post("/<any(payments, mandates):collection>/<resource_id>/<any(authorize, execute, settle, fail, revoke):action>")
    def act(collection: str, resource_id: str, action: str) -> Response:
        if action not in _ACTIONS[collection]:
            raise Problem(400, "Invalid Parameters", f"{collection} can {', '.join(sorted(_ACTIONS[collection]))}")
        resource = standin.state.get(collection[:-1], resource_id)
        reason = (request.get_json(silent=True) or {}).get("reason", "authorization_failed" if action == "fail" else None)
        options = delivery()
        events = (standin.payment_events if collection == "payments" else standin.mandate_events)(resource, action, reason)
        return jsonify({"eventIds": standin.webhooks.send(events, **options), "status": resource.status})

    @api.post("/webhooks/send")
    def send() -> Response:
        body = (request.get_json(silent=True) or {}).get("body")
        if not isinstance(body, dict) or "type" not in body:
            raise Problem(400, "Invalid Parameters", "body must be a webhook body with a type")
        return jsonify({"eventIds": standin.webhooks.send([body], **delivery())})

    @api.post("/keys/rotate")
    def rotate() -> Response:
        return jsonify({"kid": standin.keys.rotate()})

    @api.get("/<any(payments, mandates):collection>")
    def listing(collection: str) -> Response:
        return jsonify(standin.state.all(collection[:-1]))

    @api.get("/webhooks")
    def webhooks() -> Response:
        return jsonify(standin.webhooks.entries())

    @api.get("/requests")
    def requests_log() -> Response:
        return jsonify(standin.requests)

    return api


def serve(standin: StandIn, host: str, port: int) -> None:
    server = make_server(host, port, create_app(standin), threaded=True)
    print(f"truelayer stand-in listening on http://{host}:{server.server_port}", flush=True)
    server.serve_forever()
