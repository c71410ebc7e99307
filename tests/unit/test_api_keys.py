"""API keys through the real endpoint wrapper and authentication, on the in-memory store."""

import json
import logging
import time

import flask
import pytest

from functions.adapters.clerk import InvalidToken, Principal
from functions.core import api_keys
from functions.handlers import api_keys as keys_api
from functions.handlers import credits_api, jobs_api
from functions.handlers.auth import authenticate
from functions.http.endpoint import serve
from tests.helpers import wait_until
from tests.unit.fakes import make_deps

HANDLERS = {"create_key": keys_api.create_key, "list_keys": keys_api.list_keys, "revoke_key": keys_api.revoke_key,
            "get_credits": credits_api.get_credits, "list_jobs": jobs_api.list_jobs}


class SessionTokens:
    """Session tokens are ``session:<user>`` (``:admin`` for the admin role) in these tests."""

    def verify(self, token: str) -> Principal:
        if not token.startswith("session:"):
            raise InvalidToken("not a session token")
        user, _, role = token.removeprefix("session:").partition(":")
        return Principal(user, is_admin=role == "admin")


def instance(store=None, **settings):
    deps = make_deps(**settings)
    if store is not None:
        deps.__dict__["store"] = store  # a second instance over the same database
    deps.__dict__["verifier"] = SessionTokens()
    return deps


def call(deps, function: str, method: str, path: str, token: str, body: dict | None = None) -> tuple[int, dict]:
    request = flask.Request.from_values(path=path, method=method, headers={"Authorization": f"Bearer {token}"},
                                        **({"json": body} if body is not None else {}))
    response = serve(request, function, lambda c: HANDLERS[function](c, deps),
                     authenticate=lambda t: authenticate(deps, t), allowed_origins=())
    return response.status_code, json.loads(response.get_data())


def new_key(deps, user="user_a", name="studio backend") -> dict:
    status, body = call(deps, "create_key", "POST", "/keys", f"session:{user}", {"name": name})
    assert status == 201, body
    return body


def test_a_key_is_shown_once_stored_as_a_hash_and_listed_by_its_prefix(caplog):
    caplog.set_level(logging.DEBUG)
    deps = instance()
    created = new_key(deps)
    key, key_id = created["key"], created["keyId"]
    assert key.startswith("cw_live_") and created["prefix"] == key[: len("cw_live_") + 16]
    assert key_id == "key_" + created["prefix"].removeprefix("cw_live_")
    secret = api_keys.parse(key)[1]
    stored = deps.store.get(f"apiKeys/{key_id}")
    assert secret not in json.dumps(stored, default=str) and stored["secretSha256"] == api_keys.digest(secret)
    status, listed = call(deps, "list_keys", "GET", "/keys", "session:user_a")
    assert status == 200 and [k["keyId"] for k in listed["keys"]] == [key_id]
    assert "key" not in listed["keys"][0] and secret not in json.dumps(listed)
    call(deps, "get_credits", "GET", "/credits", key)
    assert all(secret not in str(record.__dict__) for record in caplog.records)
    assert any(getattr(record, "key_id", None) == key_id for record in caplog.records)


def test_a_key_acts_as_its_user_on_jobs_and_credits():
    deps = instance()
    key = new_key(deps, user="user_b")["key"]
    assert call(deps, "get_credits", "GET", "/credits", key) == (200, {"balance": 0, "entries": []})
    assert call(deps, "list_jobs", "GET", "/jobs", key)[0] == 200
    assert call(deps, "list_keys", "GET", "/keys", "session:user_other")[1] == {"keys": []}


@pytest.mark.parametrize(("function", "method", "path"), [("create_key", "POST", "/keys"), ("list_keys", "GET", "/keys"),
                                                          ("revoke_key", "DELETE", "/keys/key_0000000000000000")])
def test_a_key_never_manages_keys(function, method, path):
    deps = instance()
    key = new_key(deps)["key"]
    status, body = call(deps, function, method, path, key, {"name": "another"} if method == "POST" else None)
    assert (status, body["error"]["code"]) == (403, "session_required")
    assert len(deps.store.query(api_keys_query("user_a"))) == 1


def test_a_key_of_an_admin_is_never_admin():
    from functions.handlers import admin

    deps = instance()
    key = new_key(deps, user="user_ops")["key"]
    HANDLERS["admin_list_users"] = admin.list_users
    try:
        status, body = call(deps, "admin_list_users", "GET", "/admin/users", key)
    finally:
        del HANDLERS["admin_list_users"]
    assert (status, body["error"]["code"]) == (403, "session_required")
    assert call(deps, "create_key", "POST", "/keys", "session:user_ops:admin", {"name": "x"})[0] == 201


@pytest.mark.parametrize("forge", [
    lambda key: key[:-1] + ("A" if key[-1] != "A" else "B"),  # right id, wrong secret
    lambda key: "cw_live_" + "0" * 16 + key[len("cw_live_") + 16:],  # an id that does not exist
    lambda key: key + "x",  # malformed
    lambda key: "cw_live_",
])
def test_a_forged_key_is_401(forge):
    deps = instance()
    key = new_key(deps)["key"]
    status, body = call(deps, "get_credits", "GET", "/credits", forge(key))
    assert (status, body["error"]["code"]) == (401, "unauthorized")


def test_a_revoked_key_is_401_at_once_here_and_within_the_cache_bound_on_another_instance():
    here = instance(api_key_cache_s=1.0)
    there = instance(store=here.store, api_key_cache_s=1.0)
    created = new_key(here)
    key = created["key"]
    assert call(there, "get_credits", "GET", "/credits", key)[0] == 200  # the other instance has it cached now
    status, revoked = call(here, "revoke_key", "DELETE", f"/keys/{created['keyId']}", "session:user_a")
    assert status == 200 and revoked["revokedAt"]
    revoked_at = time.monotonic()
    assert call(here, "get_credits", "GET", "/credits", key)[0] == 401
    wait_until(lambda: call(there, "get_credits", "GET", "/credits", key)[0] == 401, timeout_s=1.5, interval_s=0.02,
               what="the other instance to refuse the revoked key")
    assert time.monotonic() - revoked_at <= 1.2
    assert call(here, "list_keys", "GET", "/keys", "session:user_a")[1] == {"keys": []}


def test_another_users_key_cannot_be_revoked():
    deps = instance()
    created = new_key(deps, user="user_a")
    status, body = call(deps, "revoke_key", "DELETE", f"/keys/{created['keyId']}", "session:user_b")
    assert (status, body["error"]["code"]) == (404, "not_found")
    assert call(deps, "get_credits", "GET", "/credits", created["key"])[0] == 200


def test_last_used_is_recorded_at_most_once_a_minute():
    deps = instance(api_key_cache_s=0)
    created = new_key(deps)
    path = f"apiKeys/{created['keyId']}"
    assert "lastUsedAt" not in deps.store.get(path)
    call(deps, "get_credits", "GET", "/credits", created["key"])
    first = deps.store.get(path)["lastUsedAt"]
    deps.now.advance(seconds=30)
    call(deps, "get_credits", "GET", "/credits", created["key"])
    assert deps.store.get(path)["lastUsedAt"] == first
    deps.now.advance(seconds=31)
    call(deps, "get_credits", "GET", "/credits", created["key"])
    assert deps.store.get(path)["lastUsedAt"] == deps.now()
    listed = call(deps, "list_keys", "GET", "/keys", "session:user_a")[1]["keys"][0]
    assert listed["lastUsedAt"].startswith(deps.now().isoformat()[:16])


def test_a_touch_never_revives_a_revoked_key():
    deps = instance()
    doc = api_keys.new_key("user_a", "k", deps.now()).doc
    revoked = doc.model_copy(update={"revoked_at": deps.now()})
    decision = api_keys.decide_touch({f"apiKeys/{doc.key_id}": revoked.to_document()}, doc.key_id, deps.now())
    assert list(decision.writes) == []


@pytest.mark.parametrize("name", ["", " ", "x" * 101, "tab\there"])
def test_a_bad_key_name_is_a_4xx_naming_the_field(name):
    status, body = call(instance(), "create_key", "POST", "/keys", "session:user_a", {"name": name})
    assert status in (400, 422) and body["error"]["field"] == "name", body


def api_keys_query(user_id: str):
    from functions.core.paths import API_KEYS
    from functions.store import Query

    return Query(API_KEYS, where=[("userId", "==", user_id)])
