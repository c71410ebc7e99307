"""POST /keys, GET /keys, DELETE /keys/{keyId}: a user's API keys (a session token only)."""

import logging

from functions.bootstrap import Deps
from functions.core import api_keys
from functions.core.errors import InputRejected
from functions.core.paths import API_KEYS, api_key_path
from functions.http.body import json_object
from functions.http.endpoint import Call, Reply
from functions.store import Query
from schemas.keys import ApiKeyDoc, ApiKeyList, CreateApiKeyRequest

log = logging.getLogger(__name__)


def create_key(call: Call, deps: Deps) -> Reply:
    body = CreateApiKeyRequest.model_validate(json_object(call.request))
    name = body.name.strip()
    if not name:
        raise InputRejected("invalid_request", "name must not be blank", "name")
    new = api_keys.new_key(call.user_id, name, deps.now())
    deps.store.decide([api_key_path(new.doc.key_id)], lambda docs: api_keys.decide_create(docs, new))
    log.info("API key created", extra={"key_id": new.doc.key_id, "user_id": call.user_id})
    return 201, api_keys.created_view(new)


def list_keys(call: Call, deps: Deps) -> Reply:
    rows = deps.store.query(Query(API_KEYS, where=[("userId", "==", call.user_id)]))
    docs = sorted((ApiKeyDoc.from_document(data) for _, data in rows), key=lambda doc: doc.created_at, reverse=True)
    return 200, ApiKeyList(keys=[api_keys.view(doc) for doc in docs if not doc.revoked_at])


def revoke_key(call: Call, deps: Deps) -> Reply:
    key_id, now = call.params["keyId"], deps.now()
    revoked = deps.store.decide([api_key_path(key_id)], lambda docs: api_keys.decide_revoke(docs, key_id, call.user_id, now))
    deps.api_keys.forget(key_id)  # this instance refuses it at once; the others within api_key_cache_s
    log.info("API key revoked", extra={"key_id": key_id, "user_id": call.user_id})
    return 200, api_keys.view(revoked)
