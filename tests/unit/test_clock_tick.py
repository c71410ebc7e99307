"""The clock tick's steps, with fakes of our own ports: each record handled on its own, a poisoned
one recorded and skipped, a slow RunPod held to the tick's budget, and a canceled job whose
announcement was lost stopped at RunPod on a later tick."""

from datetime import timedelta

import pytest

from functions.adapters.runpod import RunPodUnavailable
from functions.core import jobs
from functions.core.paths import JOBS, TICK_FAILURES, job_path, user_path
from functions.handlers import expiry, jobs_api, reserve, submission
from functions.store import Decision, Put, Query
from schemas.documents import JobDoc, UserDoc
from schemas.events import ClockTicked, JobCanceled, JobRequested, JobReserved
from schemas.jobs import JobStatus
from schemas.runpod import RunPodState, RunPodStatus
from tests.unit.fakes import make_deps


class Monotonic:
    """The tick's budget clock: advanced by the fakes, never by sleeping."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def deps():
    deps = make_deps(reconcile_after_s=60, republish_after_s=60, tick_budget_s=40)
    deps.store.decide([user_path("user_a")], lambda docs: Decision([jobs.put(user_path("user_a"), UserDoc(
        user_id="user_a", balance=100, created_at=deps.now()))]))
    return deps


def _queued(deps, job_id: str) -> JobDoc:
    now = deps.now()
    job = JobDoc(job_id=job_id, user_id="user_a", status=JobStatus.PENDING, prompt="a storm", duration_sec=5, credits=1,
                 created_at=now, updated_at=now, trace_id="4bf92f3577b34da6a3ce929d0e0e4736")
    deps.store.decide(jobs.create_paths(job, None), lambda docs: jobs.decide_create(docs, job, None, "h", 50))
    reserve.reserve_credits(JobRequested(job_id=job_id, occurred_at=now), deps)
    submission.submit_job(JobReserved(job_id=job_id, occurred_at=now), deps)
    deps.publisher.events.clear()
    return _job(deps, job_id)


def _job(deps, job_id: str) -> JobDoc:
    return JobDoc.from_document(deps.store.get(job_path(job_id)))


def _poison(deps, job_id: str, **fields) -> None:
    """A job document no model accepts (a value written before a constraint existed, say)."""
    data = {"jobId": job_id, "userId": "user_a", "prompt": "x", "durationSec": 5, "credits": 1,
            "createdAt": deps.now() - timedelta(hours=2), "updatedAt": deps.now() - timedelta(hours=2),
            "traceId": "t" * 500, **fields}
    deps.store.decide([job_path(job_id)], lambda docs: Decision([Put(job_path(job_id), data)]))


def _tick(deps, clock=None):
    return {s.step: s for s in expiry.expire_jobs(ClockTicked(occurred_at=deps.now()), deps, **({"clock": clock} if clock else {}))}


def test_a_poisoned_job_in_each_step_is_recorded_and_skipped_and_the_others_proceed(deps):
    running = [_queued(deps, f"job_r{n}") for n in range(3)]
    for job in running:
        deps.runpod.statuses[job.runpod_job_id] = RunPodStatus(id=job.runpod_job_id, status=RunPodState.FAILED, error="boom")
    _poison(deps, "job_a_poisoned_running", status="queued", runpodJobId="rp-x")  # sorts first: the oldest
    _poison(deps, "job_a_poisoned_pending", status="pending")
    deps.clock = None
    deps.now.advance(minutes=5)

    swept = _tick(deps)

    assert all(_job(deps, job.job_id).status is JobStatus.FAILED for job in running)  # refunded, not blocked
    assert swept["reconcile_running"].failed == ["jobs/job_a_poisoned_running"] and swept["reconcile_running"].handled == 3
    assert swept["reannounce_pending"].failed == ["jobs/job_a_poisoned_pending"]
    failures = {data["recordId"]: data for _, data in deps.store.query(Query(TICK_FAILURES))}
    assert set(failures) == {"jobs/job_a_poisoned_running", "jobs/job_a_poisoned_pending"}
    assert "ValidationError" in failures["jobs/job_a_poisoned_running"]["error"]
    _tick(deps)
    assert {d["recordId"]: d["attempts"] for _, d in deps.store.query(Query(TICK_FAILURES))}["jobs/job_a_poisoned_running"] == 2


def test_a_poisoned_expired_video_does_not_keep_the_others(deps):
    for n in range(2):
        job = _queued(deps, f"job_d{n}")
        deps.storage.put(f"videos/{job.job_id}.mp4", b"mp4", "video/mp4")
        deps.runpod.statuses[job.runpod_job_id] = RunPodStatus(id=job.runpod_job_id, status=RunPodState.COMPLETED, output={
            "r2Key": f"videos/{job.job_id}.mp4", "durationSec": 5, "frames": 121, "width": 1280, "height": 704, "fps": 24,
            "seed": 1, "model": "test"})
    deps.now.advance(minutes=5)
    _tick(deps)
    assert all(_job(deps, f"job_d{n}").status is JobStatus.DONE for n in range(2))
    _poison(deps, "job_0_poisoned_done", status="done", expiresAt=deps.now() - timedelta(days=3))
    deps.now.advance(hours=25)

    swept = _tick(deps)

    assert swept["expire_videos"].failed == ["jobs/job_0_poisoned_done"]
    assert all(_job(deps, f"job_d{n}").status is JobStatus.EXPIRED for n in range(2))
    assert deps.storage.objects == {}


def test_a_slow_runpod_keeps_the_tick_within_its_budget_and_the_rest_carries_over(deps):
    clock = Monotonic()
    queued = [_queued(deps, f"job_s{n:02d}") for n in range(12)]
    answer = deps.runpod.status

    def slow_status(job_id):
        clock.t += 5  # each status call takes 5 s of the tick's 40
        return answer(job_id)

    deps.runpod.status = slow_status
    deps.now.advance(minutes=5)
    started = clock.t

    swept = _tick(deps, clock)

    reconciled = swept["reconcile_running"]
    assert clock.t - started <= 40 + 5  # at most one call past the budget
    assert reconciled.stopped_by == "deadline" and reconciled.carried_over > 0
    assert reconciled.handled + reconciled.carried_over == 12
    # The ones it did reach were touched, so the next tick starts with the ones carried over.
    touched = {job.job_id for job in queued if _job(deps, job.job_id).updated_at > job.updated_at}
    assert len(touched) == reconciled.handled
    swept = _tick(deps, clock)
    assert {job.job_id for job in queued if _job(deps, job.job_id).updated_at > job.updated_at} > touched


def test_runpod_down_stops_the_step_at_once_instead_of_timing_out_on_every_job(deps):
    for n in range(5):
        _queued(deps, f"job_o{n}")
    calls = []

    def down(job_id):
        calls.append(job_id)
        raise RunPodUnavailable("RunPod did not answer in 10s")

    deps.runpod.status = down
    deps.now.advance(minutes=5)

    reconciled = _tick(deps)["reconcile_running"]

    assert len(calls) == 1 and reconciled.carried_over == 5 and reconciled.stopped_by.startswith("outage")
    assert deps.store.query(Query(TICK_FAILURES)) == []  # not the record's fault


def test_a_canceled_job_whose_announcement_was_lost_is_stopped_at_runpod_on_a_later_tick(deps):
    job = _queued(deps, "job_c")
    deps.runpod.statuses[job.runpod_job_id] = RunPodStatus(id=job.runpod_job_id, status=RunPodState.IN_PROGRESS)
    jobs_api.cancel_job(type("Call", (), {"user_id": "user_a", "params": {"jobId": "job_c"}})(), deps)
    assert _job(deps, "job_c").runpod_cancel_pending
    deps.publisher.events.clear()  # JobCanceled lost (say Pub/Sub refused the publish after the commit)

    _tick(deps)  # too soon: the first announcement may still be on its way
    assert deps.publisher.events == []
    deps.now.advance(minutes=2)
    _tick(deps)

    (announced,) = deps.publisher.events
    assert isinstance(announced, JobCanceled) and announced.runpod_job_id == job.runpod_job_id
    submission.cancel_generation(announced, deps)  # its consumer, as Pub/Sub delivers it
    assert deps.runpod.canceled == [job.runpod_job_id]
    assert not _job(deps, "job_c").runpod_cancel_pending
    deps.publisher.events.clear()
    deps.now.advance(minutes=2)
    _tick(deps)
    assert deps.publisher.events == []  # stopped: nothing more to announce


def test_an_orphan_runpod_job_that_would_not_cancel_is_stopped_on_a_later_tick(deps):
    now = deps.now()
    job = JobDoc(job_id="job_o", user_id="user_a", status=JobStatus.PENDING, prompt="a storm", duration_sec=5, credits=1,
                 created_at=now, updated_at=now)
    deps.store.decide(jobs.create_paths(job, None), lambda docs: jobs.decide_create(docs, job, None, "h", 50))
    reserve.reserve_credits(JobRequested(job_id="job_o", occurred_at=now), deps)
    deps.runpod.before_run = lambda: deps.store.decide(  # the owner cancels while /run is in flight
        jobs.finish_paths(job, now), lambda docs: jobs.decide_finish(docs, "job_o", jobs.Canceled(), now))
    cancel = deps.runpod.cancel

    def down(job_id):
        raise RunPodUnavailable("RunPod did not answer")

    deps.runpod.cancel = down
    submission.submit_job(JobReserved(job_id="job_o", occurred_at=now), deps)
    assert _job(deps, "job_o").runpod_cancel_pending  # the orphan may still run: the job keeps it
    deps.runpod.cancel = cancel
    deps.publisher.events.clear()
    deps.now.advance(minutes=2)

    _tick(deps)

    (announced,) = [e for e in deps.publisher.events if isinstance(e, JobCanceled)]
    submission.cancel_generation(announced, deps)
    assert deps.runpod.canceled == ["rp-1"] and not _job(deps, "job_o").runpod_cancel_pending
