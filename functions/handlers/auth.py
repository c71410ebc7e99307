"""Who is calling: a Clerk session token or an API key (``cw_live_…``), as a ``Principal``."""

import logging

from functions.adapters.clerk import InvalidToken, Principal
from functions.bootstrap import Deps
from functions.core import api_keys
from functions.core.paths import api_key_path
from functions.handlers.users import ensure_user
from schemas.keys import ApiKeyDoc

log = logging.getLogger(__name__)


def authenticate(deps: Deps, token: str) -> Principal:
    if api_keys.looks_like_key(token):
        return _key_holder(deps, token)
    return ensure_user(deps, deps.verifier.verify(token))


def _key_holder(deps: Deps, key: str) -> Principal:
    parsed = api_keys.parse(key)
    if parsed is None:
        raise InvalidToken("a malformed API key")
    key_id, secret = parsed
    data = deps.api_keys.get(key_id)
    doc = ApiKeyDoc.from_document(data) if data else None
    if doc is None or not api_keys.matches(doc, secret):
        raise InvalidToken(f"no API key {api_keys.prefix_of(key_id)} with that secret")
    if doc.revoked_at:
        raise InvalidToken(f"API key {api_keys.prefix_of(key_id)} is revoked")
    _record_use(deps, doc)
    return Principal(user_id=doc.user_id, is_admin=False, key_id=doc.key_id)


def _record_use(deps: Deps, doc: ApiKeyDoc) -> None:
    now = deps.now()
    if doc.last_used_at and now - doc.last_used_at < api_keys.TOUCH_EVERY:
        return
    try:
        deps.store.decide([api_key_path(doc.key_id)], lambda docs: api_keys.decide_touch(docs, doc.key_id, now))
        deps.api_keys.forget(doc.key_id)
    except Exception:  # noqa: BLE001 - last-used is a courtesy; the request goes on
        log.warning("could not record the use of an API key", extra={"key_id": doc.key_id, "user_id": doc.user_id})
