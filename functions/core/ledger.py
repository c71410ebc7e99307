"""Credit postings: the balance moves only together with an append-only ledger entry.

Entry ids derive from their cause (``reserve:{jobId}``, ``refund:{jobId}``, ``grant:{paymentId}``,
``monthly:{userId}:{yyyy-mm}``), so a posting applied twice finds its entry already written.
"""

from datetime import datetime

from schemas.documents import LedgerEntry, LedgerKind, UserDoc


RECENT_ENTRIES = 20  # kept on the user document, newest first: what GET /credits shows


class InsufficientCredits(Exception):
    pass


def reserve_id(job_id: str) -> str:
    return f"reserve:{job_id}"


def refund_id(job_id: str) -> str:
    return f"refund:{job_id}"


def settle_id(job_id: str) -> str:
    return f"settle:{job_id}"


def post(
    user: UserDoc,
    entry_id: str,
    kind: LedgerKind,
    amount: int,
    now: datetime,
    *,
    job_id: str | None = None,
    payment_id: str | None = None,
    note: str | None = None,
) -> tuple[UserDoc, LedgerEntry]:
    """The user after the posting, and the entry that records it."""
    balance = user.balance + amount
    if balance < 0:
        raise InsufficientCredits(f"balance {user.balance} cannot cover {-amount}")
    entry = LedgerEntry(
        entry_id=entry_id,
        kind=kind,
        amount=amount,
        balance_after=balance,
        created_at=now,
        job_id=job_id,
        payment_id=payment_id,
        note=note,
    )
    recent = (entry, *(user.recent_entries or ()))[:RECENT_ENTRIES]
    return user.model_copy(update={"balance": balance, "recent_entries": recent}), entry
