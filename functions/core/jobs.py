"""Decisions about jobs: pure functions from the current documents to the writes to make.

Each ``decide_*`` takes the documents read at the paths its handler names and returns a
``Decision``. Guards live here: an event that arrives late, twice or out of order finds the job
past the state it expects and writes nothing.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from functions.core import ledger, rollups
from functions.core.errors import IdempotencyKeyReused, JobAlreadyFinished, NotFound, TooManyActiveJobs
from functions.core.paths import idempotency_path, job_path, ledger_path, subscription_path, user_path
from functions.core.transitions import HOLDS_RESERVATION, is_legal
from functions.store.port import Decision, Docs, Put, Write
from schemas.documents import IdempotencyRecord, JobDoc, JobError, JobProgress, LedgerKind, StatusChange, UserDoc
from schemas.generation import GenerationOutput
from schemas.jobs import JobStatus
from schemas.payments import SubscriptionDoc, SubscriptionStatus
from schemas.webhooks import EVENT_FOR_STATUS

log = logging.getLogger(__name__)
IDEMPOTENCY_KEY_LIFETIME = timedelta(hours=24)  # like Stripe: a key is remembered for a day


def load_job(docs: Docs, job_id: str) -> JobDoc:
    data = docs[job_path(job_id)]
    if data is None:
        raise NotFound(f"job {job_id} not found")
    return JobDoc.from_document(data)


def load_user(docs: Docs, user_id: str, now: datetime) -> UserDoc:
    data = docs[user_path(user_id)]
    return UserDoc.from_document(data) if data else UserDoc(user_id=user_id, created_at=now)


def put(path: str, doc: JobDoc | UserDoc | IdempotencyRecord | object) -> Put:
    return Put(path, doc.to_document())  # type: ignore[attr-defined]


# --- create -------------------------------------------------------------------------------------


class CreateOutcome(StrEnum):
    CREATED = "created"
    REPLAYED = "replayed"


@dataclass(frozen=True)
class Created:
    job_id: str
    outcome: CreateOutcome


MAX_CHILDREN = 50  # remixes and extensions recorded on (and listed with) the job they were made from


def create_paths(job: JobDoc, idempotency_key: str | None) -> list[str]:
    paths = [user_path(job.user_id), job_path(job.job_id)]
    if job.parent_job_id:
        paths.append(job_path(job.parent_job_id))
    if idempotency_key:
        paths.append(idempotency_path(job.user_id, idempotency_key))
    return paths


def replay(first: dict | None, request_hash: str) -> Created | None:
    """The first response to an Idempotency-Key, if it was used before with the same request."""
    if first is None:
        return None
    record = IdempotencyRecord.from_document(first)
    if record.request_hash != request_hash:
        raise IdempotencyKeyReused("this Idempotency-Key was used with a different request body", "Idempotency-Key")
    return Created(record.job_id, CreateOutcome.REPLAYED)


def decide_create(
    docs: Docs, job: JobDoc, idempotency_key: str | None, request_hash: str, max_active: int
) -> Decision[Created]:
    if idempotency_key and (replayed := replay(docs[idempotency_path(job.user_id, idempotency_key)], request_hash)):
        return Decision(result=replayed)
    user = load_user(docs, job.user_id, job.created_at)
    if user.active_jobs >= max_active:
        raise TooManyActiveJobs(f"at most {max_active} jobs may be active at once; wait for one to finish")
    writes: list[Write] = [
        put(user_path(user.user_id), with_activity(user, job.created_at).model_copy(update={"active_jobs": user.active_jobs + 1})),
        put(job_path(job.job_id), job),
        *with_child(docs, job),
    ]
    if idempotency_key:
        record = IdempotencyRecord(
            user_id=job.user_id,
            key=idempotency_key,
            request_hash=request_hash,
            job_id=job.job_id,
            created_at=job.created_at,
            expires_at=job.created_at + IDEMPOTENCY_KEY_LIFETIME,
        )
        writes.append(put(idempotency_path(job.user_id, idempotency_key), record))
    return Decision(writes, Created(job.job_id, CreateOutcome.CREATED))


def with_child(docs: Docs, child: JobDoc) -> list[Write]:
    """The parent's write that records a new child on it, in the child's own commit (none for a job
    without a parent, a parent from before children were recorded, or one already listing MAX_CHILDREN)."""
    data = docs.get(job_path(child.parent_job_id)) if child.parent_job_id else None
    if data is None:
        return []
    parent = JobDoc.from_document(data)
    if parent.child_job_ids is None or len(parent.child_job_ids) >= MAX_CHILDREN:
        return []
    return [put(job_path(parent.job_id), parent.model_copy(update={"child_job_ids": (*parent.child_job_ids, child.job_id)}))]


RETENTION_WEEKS = 12  # weeks after the first job in which activity is recorded (and reported)


def with_activity(user: UserDoc, created_at: datetime) -> UserDoc:
    """The user after creating a job at ``created_at``: the first job's time, and the week since
    then that the job falls in (1: days 0-7, 2: days 7-14, ...), for the retention cohorts."""
    first = user.first_job_at or created_at
    week = int((created_at - first) / timedelta(days=7)) + 1
    weeks = user.active_weeks if week in user.active_weeks or week > RETENTION_WEEKS else tuple(sorted({*user.active_weeks, week}))
    return user.model_copy(update={"first_job_at": first, "active_weeks": weeks})


# --- reserve ------------------------------------------------------------------------------------


def reserve_paths(job: JobDoc, now: datetime) -> list[str]:
    return [job_path(job.job_id), user_path(job.user_id), ledger_path(job.user_id, ledger.reserve_id(job.job_id)),
            rollups.shard_path(job.job_id, now)]


def decide_reserve(docs: Docs, job_id: str, now: datetime) -> Decision[JobStatus]:
    """pending -> reserved (credits held) or rejected (not enough); otherwise the status as it is."""
    job = load_job(docs, job_id)
    if job.status is not JobStatus.PENDING:
        return Decision(result=job.status)
    user = load_user(docs, job.user_id, now)
    try:
        user, entry = ledger.post(
            user, ledger.reserve_id(job_id), LedgerKind.RESERVE, -job.credits, now, job_id=job_id
        )
    except ledger.InsufficientCredits:
        error = JobError(
            code="insufficient_credits",
            message=f"this clip needs {job.credits} credits and the balance is {user.balance}",
        )
        rejected = _moved(job, JobStatus.REJECTED, now, error=error, finished_at=now)
        released = user.model_copy(update={"active_jobs": max(0, user.active_jobs - 1)})
        shard = rollups.shard_path(job_id, now)
        counted = rollups.add_job(docs[shard], rejected, now, plan_id=None, refunded=False)
        return Decision(
            [put(job_path(job_id), rejected), put(user_path(user.user_id), released), put(shard, counted)],
            JobStatus.REJECTED,
        )
    return Decision(
        [
            put(job_path(job_id), _moved(job, JobStatus.RESERVED, now)),
            put(user_path(user.user_id), user),
            put(ledger_path(user.user_id, entry.entry_id), entry),
        ],
        JobStatus.RESERVED,
    )


# --- finish: done, failed, canceled -------------------------------------------------------------


@dataclass(frozen=True)
class Succeeded:
    output: GenerationOutput
    expires_at: datetime
    gpu_seconds: float
    cost_usd: float
    gpu_type: str | None = None


@dataclass(frozen=True)
class Failed:
    error: JobError
    gpu_seconds: float | None = None  # a generation that ran and failed still cost GPU time
    cost_usd: float | None = None
    gpu_type: str | None = None


@dataclass(frozen=True)
class Canceled:
    pass


Outcome = Succeeded | Failed | Canceled


def finish_paths(job: JobDoc, now: datetime) -> list[str]:
    return [
        job_path(job.job_id),
        user_path(job.user_id),
        ledger_path(job.user_id, ledger.settle_id(job.job_id)),
        ledger_path(job.user_id, ledger.refund_id(job.job_id)),
        rollups.shard_path(job.job_id, now),
        # Read, never written: which plan the job's revenue counts under. The one document a
        # decision reads without writing; a plan changing at this moment moves one job's figures.
        subscription_path(job.user_id),
    ]


def plan_of(subscription: dict | None) -> str | None:
    if subscription is None:
        return None
    sub = SubscriptionDoc.from_document(subscription)
    return sub.plan_id if sub.status is SubscriptionStatus.ACTIVE else None


def decide_finish(docs: Docs, job_id: str, outcome: Outcome, now: datetime) -> Decision[JobDoc]:
    """Move the job to its end state and settle (done) or refund (failed, canceled) exactly once."""
    job = load_job(docs, job_id)
    target = {Succeeded: JobStatus.DONE, Failed: JobStatus.FAILED, Canceled: JobStatus.CANCELED}[type(outcome)]
    if not is_legal(job.status, target):
        if isinstance(outcome, Canceled) and job.status.is_terminal:
            raise JobAlreadyFinished(f"job {job_id} is already {job.status}")
        log.info("ignored %s -> %s for job %s", job.status, target, job_id)
        return Decision(result=job)

    user = load_user(docs, job.user_id, now)
    user = user.model_copy(update={"active_jobs": max(0, user.active_jobs - 1)})
    writes: list[Write] = []
    refunded = not isinstance(outcome, Succeeded) and job.status in HOLDS_RESERVATION
    if isinstance(outcome, Succeeded):
        user, entry = ledger.post(user, ledger.settle_id(job_id), LedgerKind.SETTLE, 0, now, job_id=job_id)
        job = _moved(
            job,
            target,
            now,
            output=outcome.output,
            expires_at=outcome.expires_at,
            gpu_seconds=outcome.gpu_seconds,
            cost_usd=outcome.cost_usd,
            gpu_type=outcome.gpu_type,
            progress=JobProgress(stage="done", percent=100),
            finished_at=now,
        )
        writes.append(put(ledger_path(user.user_id, entry.entry_id), entry))
    else:
        if refunded:
            user, entry = ledger.post(
                user, ledger.refund_id(job_id), LedgerKind.REFUND, job.credits, now, job_id=job_id
            )
            writes.append(put(ledger_path(user.user_id, entry.entry_id), entry))
        spent = ({"gpu_seconds": outcome.gpu_seconds, "cost_usd": outcome.cost_usd, "gpu_type": outcome.gpu_type}
                 if isinstance(outcome, Failed) and outcome.gpu_seconds is not None else {})
        error = outcome.error if isinstance(outcome, Failed) else None
        # A canceled job RunPod has must be stopped there: flagged until cancel_generation confirms it.
        stop = {"runpod_cancel_pending": True} if isinstance(outcome, Canceled) and job.runpod_job_id else {}
        job = _moved(job, target, now, error=error, finished_at=now, **spent, **stop)
    shard = rollups.shard_path(job_id, now)
    counted = rollups.add_job(docs[shard], job, now, plan_of(docs.get(subscription_path(job.user_id))), refunded)
    writes += [put(job_path(job_id), job), put(user_path(user.user_id), user), put(shard, counted)]
    return Decision(writes, job)


# --- the steps in between -----------------------------------------------------------------------


def decide_move(docs: Docs, job_id: str, target: JobStatus, now: datetime, **changes: object) -> Decision[JobDoc]:
    """A transition that touches only the job document (queued, running, expired)."""
    job = load_job(docs, job_id)
    if not is_legal(job.status, target):
        log.info("ignored %s -> %s for job %s", job.status, target, job_id)
        return Decision(result=job)
    moved = _moved(job, target, now, **changes)
    return Decision([put(job_path(job_id), moved)], moved)


def decide_update(docs: Docs, job_id: str, expected: JobStatus, now: datetime, **changes: object) -> Decision[JobDoc]:
    """Change fields of a job that is still in ``expected`` (a claim, progress); else nothing."""
    job = load_job(docs, job_id)
    if job.status is not expected:
        return Decision(result=job)
    updated = job.model_copy(update={**changes, "updated_at": now})
    return Decision([put(job_path(job_id), updated)], updated)


def _moved(job: JobDoc, target: JobStatus, now: datetime, **changes: object) -> JobDoc:
    history = (*job.history, StatusChange(status=target, at=now))
    announced = {"webhooks_pending": True} if target in EVENT_FOR_STATUS else {}
    return job.model_copy(update={**changes, "status": target, "updated_at": now, "history": history, **announced})
