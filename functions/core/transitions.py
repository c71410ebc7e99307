"""The legal job state transitions. Anything else is logged and ignored, never applied."""

from schemas.jobs import JobStatus as S

LEGAL: dict[S, frozenset[S]] = {
    S.PENDING: frozenset({S.RESERVED, S.REJECTED, S.CANCELED}),
    S.RESERVED: frozenset({S.QUEUED, S.FAILED, S.CANCELED}),
    # queued -> done: the webhook can arrive before anyone saw the job running.
    S.QUEUED: frozenset({S.RUNNING, S.DONE, S.FAILED, S.CANCELED}),
    S.RUNNING: frozenset({S.DONE, S.FAILED, S.CANCELED}),
    S.DONE: frozenset({S.EXPIRED}),
    S.EXPIRED: frozenset(),
    S.REJECTED: frozenset(),
    S.FAILED: frozenset(),
    S.CANCELED: frozenset(),
}

# Statuses in which the job's credits are held by a reserve entry and not yet settled or refunded.
HOLDS_RESERVATION = frozenset({S.RESERVED, S.QUEUED, S.RUNNING})


def is_legal(current: S, target: S) -> bool:
    return target in LEGAL[current]
