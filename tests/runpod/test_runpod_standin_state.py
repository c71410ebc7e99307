"""The stand-in's job table and fault plan, driven by hand-held time."""

from devstack.runpod_standin.faults import (
    FaultPlan,
    RunError,
    WebhookAction,
    WebhookRule,
)
from devstack.runpod_standin.state import Fate, JobTable
from devstack.runpod_standin.workers import WorkerBoard
from schemas.runpod import RunPodState

RETENTION_S = 1800.0


def table_with_job(timeout_s: float = 60.0, ttl_s: float = 600.0, fate: tuple[Fate, str | None] | None = None):
    table = JobTable(RETENTION_S)
    job = table.submit({"prompt": "p"}, "http://hook", timeout_s, ttl_s, now=100.0, fate=fate)
    return table, job


def test_a_worker_takes_queued_jobs_oldest_first() -> None:
    table, first = table_with_job()
    second = table.submit({}, None, 60, 600, now=101.0)

    assert table.take("w1", now=102.0) is first
    assert table.take("w2", now=102.0) is second
    assert table.take("w3", now=102.0) is None
    assert (first.status, first.worker_id) == (RunPodState.IN_PROGRESS, "w1")


def test_status_body_reports_delay_and_execution_time_in_ms() -> None:
    table, job = table_with_job()
    assert job.status_body(now=100.5) == {"id": job.id, "status": "IN_QUEUE"}

    table.take("w1", now=100.25)
    table.progress(job.id, {"percent": 50})
    assert job.status_body(now=101.0) == {
        "id": job.id, "status": "IN_PROGRESS", "delayTime": 250, "output": {"percent": 50}, "workerId": "w1"
    }

    table.finish(job.id, {"r2Key": "k"}, None, now=103.25)
    assert job.webhook_body() == {
        "id": job.id, "status": "COMPLETED", "delayTime": 250, "executionTime": 3000,
        "output": {"r2Key": "k"}, "workerId": "w1", "input": {"prompt": "p"},
    }


def test_a_result_with_an_error_fails_the_job_and_late_reports_change_nothing() -> None:
    table, job = table_with_job()
    table.take("w1", now=101.0)

    ended = table.finish(job.id, None, {"code": 7}, now=102.0)

    assert ended is job and job.status == RunPodState.FAILED
    assert job.status_body(now=103.0)["error"] == '{"code": 7}'
    assert table.finish(job.id, {"late": True}, None, now=104.0) is None
    assert not table.progress(job.id, {"percent": 99})
    assert job.status == RunPodState.FAILED and job.output is None


def test_cancel_ends_a_queued_job_and_stops_a_running_one_once() -> None:
    table, running = table_with_job()
    table.take("w1", now=100.0)
    queued = table.submit({}, None, 60, 600, now=100.0)
    table.progress(running.id, {"percent": 10})

    assert table.cancel(queued.id, now=101.0).stops == []
    sweep = table.cancel(running.id, now=101.0)

    assert sweep.ended == [running] and sweep.stops == [("w1", running.id)]
    assert running.output is None  # progress is not a result
    assert table.cancel(running.id, now=102.0).ended == []
    assert {queued.status, running.status} == {RunPodState.CANCELLED}


def test_running_past_the_execution_timeout_times_out_and_stops_the_worker() -> None:
    table, job = table_with_job(timeout_s=5.0)
    table.take("w1", now=200.0)  # a long queue wait does not count

    assert table.sweep(now=204.9).ended == []
    sweep = table.sweep(now=205.0)

    assert job.status == RunPodState.TIMED_OUT and sweep.stops == [("w1", job.id)]


def test_ttl_deletes_a_job_in_any_state_without_a_webhook() -> None:
    table, job = table_with_job(ttl_s=10.0)
    table.take("w1", now=101.0)

    sweep = table.sweep(now=110.0)

    assert table.get(job.id) is None
    assert sweep.ended == [] and sweep.stops == [("w1", job.id)]


def test_results_are_forgotten_after_retention() -> None:
    table, job = table_with_job(ttl_s=86_400.0)
    table.take("w1", now=100.0)
    table.finish(job.id, {}, None, now=101.0)

    table.sweep(now=101.0 + RETENTION_S - 1)
    assert table.get(job.id) is job
    table.sweep(now=101.0 + RETENTION_S)
    assert table.get(job.id) is None


def test_fated_jobs_never_reach_a_worker() -> None:
    table, failing = table_with_job(fate=(Fate.FAIL, "boom"))
    lost = table.submit({}, "http://hook", 60, 600, now=100.0, fate=(Fate.LOSE, None))

    assert table.take("w1", now=100.0) is None
    sweep = table.sweep(now=100.1)

    assert sweep.ended == [failing] and (failing.status, failing.error) == (RunPodState.FAILED, "boom")
    assert table.get(lost.id) is None


def test_counts_follow_runpods_health_names() -> None:
    table, job = table_with_job()
    table.submit({}, None, 60, 600, now=100.0)
    table.take("w1", now=100.0)

    assert table.counts() == {"completed": 0, "failed": 0, "inProgress": 1, "inQueue": 1, "retried": 0}


def test_webhook_rules_for_a_job_apply_before_general_ones_and_are_used_up() -> None:
    plan = FaultPlan()
    plan.arm_webhook(WebhookRule(WebhookAction.DROP, remaining=1))
    plan.arm_webhook(WebhookRule(WebhookAction.DUPLICATE, remaining=1, job_id="j2", concurrent=True))
    plan.arm_webhook(WebhookRule(WebhookAction.DELAY, remaining=2, delay_s=1.5))

    first = plan.webhook_plan("j1")
    second = plan.webhook_plan("j2")
    third = plan.webhook_plan("j3")

    assert (first.copies, first.delay_s) == (0, 1.5)
    assert (second.copies, second.concurrent, second.delay_s) == (2, True, 1.5)
    assert (third.copies, third.delay_s) == (1, 0.0)
    assert plan.describe()["webhookRules"] == []


def test_run_errors_and_fates_are_consumed_in_order() -> None:
    plan = FaultPlan()
    plan.arm_run_errors(RunError(503), 2)
    plan.arm_fates(Fate.LOSE, 1)

    assert [plan.next_run_error(), plan.next_run_error(), plan.next_run_error()] == [RunError(503), RunError(503), None]
    assert [plan.next_fate(), plan.next_fate()] == [(Fate.LOSE, None), None]


def test_a_stop_is_repeated_while_the_worker_still_reports_progress_on_the_job() -> None:
    board = WorkerBoard(stale_s=60.0)
    board.stop("w1", "j1")
    assert board.take_stops("w1") == ["j1"] and not board.has_stops("w1")

    board.reported("w1", "j1", final=False)  # the SDK missed it: the handler still runs
    assert board.take_stops("w1") == ["j1"]

    board.reported("w1", "j1", final=True)  # it ended after all: no more stops
    board.reported("w1", "j1", final=False)
    assert not board.has_stops("w1")


def test_workers_count_as_live_until_stale() -> None:
    board = WorkerBoard(stale_s=60.0)
    board.seen("w1", now=100.0)
    board.seen("w2", now=150.0)

    assert board.live(now=159.0) == {"w1", "w2"}
    assert board.live(now=160.0) == {"w2"}
