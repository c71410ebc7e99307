"""The stand-in's memory: access tokens, payments, mandates, idempotency keys. Thread-safe.

Validation follows TrueLayer's rules where our client can get them wrong (amounts, currency, the
beneficiary, a payment on a mandate within its constraints); errors are ``Problem``s, which the
app answers as ``application/problem+json`` the way TrueLayer does.
"""

import hashlib
import json
import secrets
import threading
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

PAYMENT_NEXT = {  # status -> statuses the controls may move it to
    "authorization_required": {"authorizing", "authorized", "executed", "settled", "failed"},
    "authorizing": {"authorized", "executed", "settled", "failed"},
    "authorized": {"executed", "settled", "failed"},
    "executed": {"settled", "failed"},
}
MANDATE_NEXT = {
    "authorization_required": {"authorizing", "authorized", "failed"},
    "authorizing": {"authorized", "failed"},
    "authorized": {"revoked"},
}


class Problem(Exception):
    def __init__(self, status: int, title: str, detail: str = "") -> None:
        super().__init__(detail or title)
        self.status, self.title, self.detail = status, title, detail

    def body(self) -> dict[str, Any]:
        return {"type": "https://docs.truelayer.com/docs/error-types", "title": self.title, "status": self.status,
                "detail": self.detail, "trace_id": uuid.uuid4().hex}


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class Resource:
    id: str
    kind: str  # "payment" or "mandate"
    status: str
    currency: str
    user_id: str
    metadata: dict[str, str]
    created_at: str
    amount_in_minor: int | None = None
    payment_method: dict[str, Any] = field(default_factory=dict)
    constraints: dict[str, Any] = field(default_factory=dict)
    resource_token: str | None = None
    failure_reason: str | None = None
    failure_stage: str | None = None
    moved_at: dict[str, str] = field(default_factory=dict)  # status -> when, shown as TrueLayer's {status}_at fields

    def view(self) -> dict[str, Any]:
        """What ``GET /v3/{payments|mandates}/{id}`` answers, in TrueLayer's shape."""
        hidden = ("kind", "resource_token", "moved_at")
        return {k: v for k, v in asdict(self).items() if v is not None and k not in hidden} | {
            f"{status}_at": at for status, at in self.moved_at.items()} | {"user": {"id": self.user_id}}


class State:
    def __init__(self, client_id: str, client_secret: str, merchant_account_id: str) -> None:
        self.client_id, self.client_secret, self.merchant_account_id = client_id, client_secret, merchant_account_id
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.tokens: set[str] = set()
            self.resources: dict[str, Resource] = {}
            self.idempotency: dict[str, tuple[str, dict[str, Any]]] = {}

    def issue_token(self, form: dict[str, str]) -> dict[str, Any]:
        if form.get("grant_type") != "client_credentials":
            raise Problem(400, "unsupported_grant_type")
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            raise Problem(401, "invalid_client", "unknown client id or wrong secret")
        token = secrets.token_urlsafe(24)
        with self._lock:
            self.tokens.add(token)
        return {"access_token": token, "expires_in": 3600, "token_type": "Bearer", "scope": form.get("scope", "payments")}

    def authorized(self, header: str) -> bool:
        return header.startswith("Bearer ") and header[7:] in self.tokens

    def create(self, kind: str, key: str, body: dict[str, Any]) -> dict[str, Any]:
        """Create a payment or mandate once per Idempotency-Key (same key, other body: 422)."""
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        with self._lock:
            if key in self.idempotency:
                first_digest, answer = self.idempotency[key]
                if first_digest != digest:
                    raise Problem(422, "Idempotency-Key Reuse", "this Idempotency-Key was used with another body")
                return answer
            resource = self._payment(body) if kind == "payment" else self._mandate(body)
            self.resources[resource.id] = resource
            answer = {"id": resource.id, "user": {"id": resource.user_id}, "status": resource.status,
                      **({"resource_token": resource.resource_token} if resource.resource_token else {})}
            self.idempotency[key] = (digest, answer)
            return answer

    def get(self, kind: str, resource_id: str) -> Resource:
        with self._lock:
            resource = self.resources.get(resource_id)
        if resource is None or resource.kind != kind:
            raise Problem(404, "Not Found", f"no {kind} {resource_id}")
        return resource

    def move(self, kind: str, resource_id: str, status: str, reason: str | None = None) -> Resource:
        with self._lock:
            resource = self.resources.get(resource_id)
            if resource is None or resource.kind != kind:
                raise Problem(404, "Not Found", f"no {kind} {resource_id}")
            allowed = (PAYMENT_NEXT if kind == "payment" else MANDATE_NEXT).get(resource.status, set())
            if status not in allowed:
                raise Problem(409, "Invalid transition", f"{kind} {resource_id} is {resource.status}, cannot become {status}")
            stage = resource.status
            resource.status, resource.failure_reason = status, reason if status == "failed" else None
            resource.failure_stage = stage if status == "failed" else None
            resource.moved_at[status] = now_iso()
            return resource

    def all(self, kind: str) -> list[dict[str, Any]]:
        with self._lock:
            return [r.view() for r in self.resources.values() if r.kind == kind]

    # --- validation --------------------------------------------------------------------------
    def _payment(self, body: dict[str, Any]) -> Resource:
        amount, currency = body.get("amount_in_minor"), body.get("currency")
        _check(isinstance(amount, int) and amount >= 1, "amount_in_minor must be a positive integer")
        _check(currency in ("GBP", "EUR"), "currency must be GBP or EUR")
        method = body.get("payment_method") or {}
        if method.get("type") == "mandate":
            mandate = self.resources.get(method.get("mandate_id", ""))
            _check(mandate is not None and mandate.kind == "mandate", "unknown mandate", 404)
            _check(mandate.status == "authorized", f"mandate is {mandate.status}", 422)
            _check(mandate.currency == currency, "currency differs from the mandate's", 422)
            _check(amount <= mandate.constraints.get("maximum_individual_amount", 0), "amount exceeds the mandate", 422)
            return self._resource("payment", "authorized", body, mandate.user_id, payment_method=method, token=False)
        _check(method.get("type") == "bank_transfer", "payment_method.type must be bank_transfer or mandate")
        self._check_beneficiary(method.get("beneficiary") or {})
        return self._resource("payment", "authorization_required", body, self._user(body), payment_method=method)

    def _mandate(self, body: dict[str, Any]) -> Resource:
        mandate = body.get("mandate") or {}
        _check(mandate.get("type") in ("commercial", "sweeping"), "mandate.type must be commercial or sweeping")
        self._check_beneficiary(mandate.get("beneficiary") or {})
        _check(body.get("currency") in ("GBP", "EUR"), "currency must be GBP or EUR")
        constraints = body.get("constraints") or {}
        _check(isinstance(constraints.get("maximum_individual_amount"), int), "constraints.maximum_individual_amount is required")
        return self._resource("mandate", "authorization_required", body, self._user(body), constraints=constraints)

    def _check_beneficiary(self, beneficiary: dict[str, Any]) -> None:
        _check(beneficiary.get("type") == "merchant_account", "beneficiary.type must be merchant_account")
        _check(beneficiary.get("merchant_account_id") == self.merchant_account_id, "unknown merchant_account_id", 404)

    @staticmethod
    def _user(body: dict[str, Any]) -> str:
        user = body.get("user") or {}
        _check(bool(user.get("id") or user.get("name")), "user.id or user.name is required")
        _check(bool(user.get("id") or user.get("email") or user.get("phone")), "user.email or user.phone is required")
        return user.get("id") or str(uuid.uuid4())

    @staticmethod
    def _resource(kind: str, status: str, body: dict[str, Any], user_id: str, token: bool = True, **fields: Any) -> Resource:
        return Resource(id=str(uuid.uuid4()), kind=kind, status=status, currency=body["currency"], user_id=user_id,
                        metadata=dict(body.get("metadata") or {}), created_at=now_iso(),
                        amount_in_minor=body.get("amount_in_minor"),
                        resource_token=secrets.token_urlsafe(32) if token else None, **fields)


def _check(condition: bool, detail: str, status: int = 400) -> None:
    if not condition:
        raise Problem(status, "Invalid Parameters" if status == 400 else "Unprocessable", detail)
