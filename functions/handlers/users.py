"""The user record is created on the first authenticated request (Clerk's webhooks may never come)."""

import threading

from functions.adapters.clerk import Principal
from functions.bootstrap import Deps
from functions.core.jobs import load_user, put
from functions.core.paths import user_path
from functions.store.port import Decision

_known: set[str] = set()
_lock = threading.Lock()


def ensure_user(deps: Deps, principal: Principal) -> Principal:
    if principal.user_id in _known:
        return principal
    path = user_path(principal.user_id)
    now = deps.now()
    deps.store.decide(
        [path],
        lambda docs: Decision() if docs[path] else Decision([put(path, load_user(docs, principal.user_id, now))]),
    )
    with _lock:
        if len(_known) > 100_000:
            _known.clear()
        _known.add(principal.user_id)
    return principal
