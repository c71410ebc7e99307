"""Decisions that post one ledger entry to one user: grants, top-ups, monthly credits."""

from dataclasses import dataclass
from datetime import datetime

from functions.core import ledger
from functions.core.jobs import load_user, put
from functions.core.paths import ledger_path, user_path
from functions.store.port import Decision, Docs
from schemas.documents import LedgerKind


@dataclass(frozen=True)
class Posted:
    balance: int
    applied: bool  # false: the entry already existed, nothing changed


def post_paths(user_id: str, entry_id: str) -> list[str]:
    return [user_path(user_id), ledger_path(user_id, entry_id)]


def decide_post(
    docs: Docs, user_id: str, entry_id: str, kind: LedgerKind, amount: int, now: datetime, **refs: str | None
) -> Decision[Posted]:
    user = load_user(docs, user_id, now)
    if docs[ledger_path(user_id, entry_id)] is not None:
        return Decision(result=Posted(user.balance, applied=False))
    user, entry = ledger.post(user, entry_id, kind, amount, now, **refs)
    return Decision(
        [put(user_path(user_id), user), put(ledger_path(user_id, entry_id), entry)], Posted(user.balance, applied=True)
    )
