"""The job and ledger decisions on the in-memory store: guards, exactly-once postings."""

import pytest

from functions.core import jobs, ledger
from functions.core.errors import IdempotencyKeyReused, JobAlreadyFinished, TooManyActiveJobs
from functions.core.paths import job_path, ledger_collection, user_path
from functions.core.transitions import LEGAL, is_legal
from functions.store import Decision, Query
from functions.store.memory import MemoryStore
from schemas.documents import JobDoc, JobError, LedgerKind, UserDoc
from schemas.generation import GenerationOutput
from schemas.jobs import JobStatus
from tests.unit.fakes import Clock

NOW = Clock()()


def _job(job_id: str = "job_1", user_id: str = "user_a", credits: int = 2) -> JobDoc:
    return JobDoc(job_id=job_id, user_id=user_id, status=JobStatus.PENDING, prompt="p", duration_sec=5 * credits,
                  credits=credits, created_at=NOW, updated_at=NOW)


def _store_with(balance: int, *job_docs: JobDoc) -> MemoryStore:
    store = MemoryStore()
    user = UserDoc(user_id="user_a", balance=balance, created_at=NOW)
    store.decide([user_path("user_a")], lambda docs: Decision([jobs.put(user_path("user_a"), user)]))
    for job in job_docs:
        store.decide(jobs.create_paths(job, None), lambda docs, j=job: jobs.decide_create(docs, j, None, "h", 5))
    return store


def _reserve(store, job):
    return store.decide(jobs.reserve_paths(job, NOW), lambda docs: jobs.decide_reserve(docs, job.job_id, NOW))


def _finish(store, job, outcome):
    return store.decide(jobs.finish_paths(job, NOW), lambda docs: jobs.decide_finish(docs, job.job_id, outcome, NOW))


def _user(store) -> UserDoc:
    return UserDoc.from_document(store.get(user_path("user_a")))


def _entries(store) -> dict[str, int]:
    return {data["entryId"]: data["amount"] for _, data in store.query(Query(ledger_collection("user_a")))}


SUCCESS = jobs.Succeeded(
    output=GenerationOutput(r2_key="videos/job_1.mp4", duration_sec=10, frames=241, width=1280, height=704, fps=24, seed=1, model="m"),
    expires_at=NOW, gpu_seconds=10.0, cost_usd=0.0116,
)


def test_reserving_holds_the_credits_once_and_counts_the_job_active():
    job = _job()
    store = _store_with(5, job)
    assert _reserve(store, job) is JobStatus.RESERVED
    assert _reserve(store, job) is JobStatus.RESERVED  # a redelivery: nothing more
    assert _user(store).balance == 3 and _user(store).active_jobs == 1
    assert _entries(store) == {"reserve:job_1": -2}


def test_without_enough_credits_the_job_is_rejected_and_released():
    job = _job(credits=3)
    store = _store_with(2, job)
    assert _reserve(store, job) is JobStatus.REJECTED
    assert _user(store).balance == 2 and _user(store).active_jobs == 0
    assert _entries(store) == {}
    assert JobDoc.from_document(store.get(job_path("job_1"))).error.code == "insufficient_credits"


def test_success_settles_once_and_a_late_failure_changes_nothing():
    job = _job()
    store = _store_with(5, job)
    _reserve(store, job)
    store.decide([job_path("job_1")], lambda docs: jobs.decide_move(docs, "job_1", JobStatus.QUEUED, NOW, runpod_job_id="rp"))
    assert _finish(store, job, SUCCESS).status is JobStatus.DONE
    assert _finish(store, job, SUCCESS).status is JobStatus.DONE
    assert _finish(store, job, jobs.Failed(JobError(code="x", message="late"))).status is JobStatus.DONE
    assert _entries(store) == {"reserve:job_1": -2, "settle:job_1": 0}
    assert _user(store).balance == 3 and _user(store).active_jobs == 0


@pytest.mark.parametrize("outcome", [jobs.Failed(JobError(code="x", message="boom")), jobs.Canceled()])
def test_failure_or_cancel_refunds_exactly_once(outcome):
    job = _job()
    store = _store_with(5, job)
    _reserve(store, job)
    _finish(store, job, outcome)
    if isinstance(outcome, jobs.Canceled):
        with pytest.raises(JobAlreadyFinished):
            _finish(store, job, outcome)
    else:
        _finish(store, job, outcome)
    assert _entries(store) == {"reserve:job_1": -2, "refund:job_1": 2}
    assert _user(store).balance == 5 and _user(store).active_jobs == 0


def test_canceling_a_pending_job_refunds_nothing_because_nothing_was_held():
    job = _job()
    store = _store_with(5, job)
    assert _finish(store, job, jobs.Canceled()).status is JobStatus.CANCELED
    assert _reserve(store, job) is JobStatus.CANCELED  # the late job-requested finds it canceled
    assert _entries(store) == {} and _user(store).balance == 5


def test_the_active_job_limit_and_idempotency_keys_are_enforced_in_the_commit():
    store = _store_with(0)
    for n in range(2):
        job = _job(f"job_{n}")
        store.decide(jobs.create_paths(job, f"k{n}"), lambda docs, j=job, n=n: jobs.decide_create(docs, j, f"k{n}", "hash", 2))
    replay = _job("job_9")
    assert store.decide(jobs.create_paths(replay, "k0"), lambda docs: jobs.decide_create(docs, replay, "k0", "hash", 2)) == jobs.Created("job_0", jobs.CreateOutcome.REPLAYED)
    with pytest.raises(IdempotencyKeyReused):
        store.decide(jobs.create_paths(replay, "k0"), lambda docs: jobs.decide_create(docs, replay, "k0", "other", 2))
    with pytest.raises(TooManyActiveJobs):
        store.decide(jobs.create_paths(replay, None), lambda docs: jobs.decide_create(docs, replay, None, "hash", 2))


def test_only_listed_transitions_are_legal():
    assert is_legal(JobStatus.QUEUED, JobStatus.RUNNING)
    assert not is_legal(JobStatus.DONE, JobStatus.RUNNING)
    assert not is_legal(JobStatus.FAILED, JobStatus.DONE)
    assert all(not LEGAL[s] for s in (JobStatus.EXPIRED, JobStatus.REJECTED, JobStatus.FAILED, JobStatus.CANCELED))


def test_a_posting_never_takes_the_balance_below_zero():
    user = UserDoc(user_id="u", balance=1, created_at=NOW)
    with pytest.raises(ledger.InsufficientCredits):
        ledger.post(user, "reserve:j", LedgerKind.RESERVE, -2, NOW)
