"""submit_job, settle_job and the webhook token, with fakes of our own ports."""

import pytest

from functions.adapters.runpod import RunPodRejected, RunPodUnavailable
from functions.core import jobs, webhook_token
from functions.core.paths import job_path, user_path
from functions.handlers import settlement, submission
from functions.store import Decision
from schemas.documents import JobDoc, UserDoc
from schemas.events import GenerationFinished, JobReserved
from schemas.jobs import JobStatus
from schemas.runpod import RunPodState, RunPodStatus
from tests.unit.fakes import make_deps


@pytest.fixture
def deps():
    return make_deps()


def _reserved_job(deps, job_id: str = "job_1") -> JobDoc:
    now = deps.now()
    user = UserDoc(user_id="user_a", balance=3, created_at=now)
    job = JobDoc(job_id=job_id, user_id="user_a", status=JobStatus.PENDING, prompt="a storm", duration_sec=5, credits=1,
                 created_at=now, updated_at=now)
    deps.store.decide([user_path("user_a")], lambda docs: Decision([jobs.put(user_path("user_a"), user)]))
    deps.store.decide(jobs.create_paths(job, None), lambda docs: jobs.decide_create(docs, job, None, "h", 5))
    deps.store.decide(jobs.reserve_paths(job, now), lambda docs: jobs.decide_reserve(docs, job_id, now))
    return job


def _job(deps, job_id: str = "job_1") -> JobDoc:
    return JobDoc.from_document(deps.store.get(job_path(job_id)))


def _balance(deps) -> int:
    return deps.store.get(user_path("user_a"))["balance"]


def _reserved_event(job_id: str = "job_1") -> JobReserved:
    return JobReserved(job_id=job_id, occurred_at=make_deps().now())


def test_submission_queues_the_job_with_a_signed_webhook_and_no_secret_in_the_input(deps):
    _reserved_job(deps)
    submission.submit_job(_reserved_event(), deps)
    job = _job(deps)
    assert (job.status, job.runpod_job_id, job.submit_claim) == (JobStatus.QUEUED, "rp-1", None)
    (run,) = deps.runpod.runs
    assert f"token={webhook_token.token_for('test-secret', 'job_1')}" in run["webhook"]
    assert run["input"]["outputKey"] == "videos/job_1.mp4"
    flat = repr(run["input"])
    assert "test-secret" not in flat and "rp-key" not in flat


def test_a_redelivery_while_another_submitter_holds_the_claim_does_not_call_runpod(deps):
    _reserved_job(deps)
    deps.runpod.before_run = lambda: submission.submit_job(_reserved_event(), deps)  # the duplicate arrives mid-call
    submission.submit_job(_reserved_event(), deps)
    assert len(deps.runpod.runs) == 1
    assert _job(deps).status is JobStatus.QUEUED


def test_runpod_unavailable_releases_the_claim_for_redelivery_then_fails_and_refunds(deps):
    _reserved_job(deps)
    deps.runpod.run_results = [RunPodUnavailable("503")] * 3
    for _ in range(3):
        with pytest.raises(submission.SubmissionRetry):
            submission.submit_job(_reserved_event(), deps)
        assert _job(deps).submit_claim is None
    submission.submit_job(_reserved_event(), deps)
    job = _job(deps)
    assert (job.status, job.error.code) == (JobStatus.FAILED, "runpod_unavailable")
    assert _balance(deps) == 3 and len(deps.runpod.runs) == 3


def test_runpod_refusing_the_job_fails_it_at_once(deps):
    _reserved_job(deps)
    deps.runpod.run_results = [RunPodRejected(400, "bad input")]
    submission.submit_job(_reserved_event(), deps)
    assert _job(deps).status is JobStatus.FAILED and _balance(deps) == 3


def test_a_job_canceled_while_submitting_has_its_runpod_job_canceled(deps):
    job = _reserved_job(deps)
    now = deps.now()
    deps.runpod.before_run = lambda: deps.store.decide(
        jobs.finish_paths(job, now), lambda docs: jobs.decide_finish(docs, job.job_id, jobs.Canceled(), now))
    submission.submit_job(_reserved_event(), deps)
    assert _job(deps).status is JobStatus.CANCELED
    assert deps.runpod.canceled == ["rp-1"]


def _finished(runpod_job_id: str, reported: str = "COMPLETED") -> GenerationFinished:
    return GenerationFinished(job_id="job_1", runpod_job_id=runpod_job_id, reported_status=reported, occurred_at=make_deps().now())


def test_settlement_waits_for_a_job_that_is_not_queued_yet(deps):
    _reserved_job(deps)
    with pytest.raises(settlement.NotQueuedYet):
        settlement.settle_job(_finished("rp-1"), deps)


def test_settlement_trusts_runpods_status_not_the_webhook(deps):
    _reserved_job(deps)
    submission.submit_job(_reserved_event(), deps)
    deps.runpod.statuses["rp-1"] = RunPodStatus(id="rp-1", status=RunPodState.FAILED, error="oom")
    settlement.settle_job(_finished("rp-1", reported="COMPLETED"), deps)
    job = _job(deps)
    assert (job.status, job.error.code) == (JobStatus.FAILED, "generation_failed")
    assert _balance(deps) == 3


def test_a_completed_job_whose_video_is_missing_is_failed_not_charged(deps):
    _reserved_job(deps)
    submission.submit_job(_reserved_event(), deps)
    output = {"r2Key": "videos/job_1.mp4", "durationSec": 5, "frames": 121, "width": 1280, "height": 704, "fps": 24, "seed": 3, "model": "m"}
    deps.runpod.statuses["rp-1"] = RunPodStatus(id="rp-1", status=RunPodState.COMPLETED, output=output, executionTime=2000)
    settlement.settle_job(_finished("rp-1"), deps)
    assert _job(deps).error.code == "output_missing" and _balance(deps) == 3


def test_success_records_gpu_seconds_and_cost(deps):
    _reserved_job(deps)
    submission.submit_job(_reserved_event(), deps)
    deps.storage.objects["videos/job_1.mp4"] = b"mp4"
    output = {"r2Key": "videos/job_1.mp4", "durationSec": 5, "frames": 121, "width": 1280, "height": 704, "fps": 24, "seed": 3, "model": "m"}
    deps.runpod.statuses["rp-1"] = RunPodStatus(id="rp-1", status=RunPodState.COMPLETED, output=output, executionTime=50_000)
    settlement.settle_job(_finished("rp-1"), deps)
    job = _job(deps)
    assert (job.status, job.gpu_seconds, job.cost_usd) == (JobStatus.DONE, 50.0, 0.058)
    assert _balance(deps) == 2


def test_a_webhook_for_an_orphan_runpod_job_cancels_it_and_leaves_the_job_alone(deps):
    _reserved_job(deps)
    submission.submit_job(_reserved_event(), deps)
    deps.runpod.statuses["rp-orphan"] = RunPodStatus(id="rp-orphan", status=RunPodState.COMPLETED)
    settlement.settle_job(_finished("rp-orphan"), deps)
    assert _job(deps).status is JobStatus.QUEUED
    assert deps.runpod.canceled == ["rp-orphan"]


def test_webhook_tokens_are_per_job_and_need_a_secret():
    token = webhook_token.token_for("s", "job_1")
    assert webhook_token.is_valid("s", "job_1", token)
    assert not webhook_token.is_valid("s", "job_2", token)
    assert not webhook_token.is_valid("", "job_1", webhook_token.token_for("", "job_1"))


def test_a_failed_generation_still_records_the_gpu_time_it_cost(deps):
    _reserved_job(deps)
    submission.submit_job(_reserved_event(), deps)
    deps.runpod.statuses["rp-1"] = RunPodStatus(id="rp-1", status=RunPodState.FAILED, error="oom", executionTime=20_000)
    settlement.settle_job(_finished("rp-1"), deps)
    job = _job(deps)
    assert (job.status, job.gpu_seconds, job.cost_usd) == (JobStatus.FAILED, 20.0, 0.0232)
    assert _balance(deps) == 3  # refunded all the same


@pytest.mark.parametrize("code", ["image_refused", "output_refused"])
def test_a_job_refused_by_moderation_fails_with_the_moderation_code_and_is_refunded(deps, code):
    _reserved_job(deps)
    submission.submit_job(_reserved_event(), deps)
    assert _balance(deps) == 2  # reserved
    error = f"[{code}] the conditioning image was refused by moderation (nsfw 0.99)"
    deps.runpod.statuses["rp-1"] = RunPodStatus(id="rp-1", status=RunPodState.FAILED, error=error, executionTime=3_000)

    settlement.settle_job(_finished("rp-1"), deps)

    job = _job(deps)
    assert (job.status, job.error.code) == (JobStatus.FAILED, code)
    assert job.error.message == "the conditioning image was refused by moderation (nsfw 0.99)"
    assert _balance(deps) == 3
    assert deps.store.get(f"{user_path('user_a')}/ledger/refund:job_1")["amount"] == 1
