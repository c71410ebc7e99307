"""The spend report's fold, on rollup shards and payment sums built in the test."""

from datetime import UTC, datetime, timedelta

from functions.core import reports, rollups
from functions.core.plans import priced
from schemas.documents import JobDoc, StatusChange
from schemas.jobs import JobStatus

NOW = datetime(2026, 11, 25, 23, 30, tzinfo=UTC)


def ended(job_id: str, status: JobStatus, at: datetime, **extra) -> JobDoc:
    return JobDoc(job_id=job_id, user_id="user_a", status=status, prompt="p", duration_sec=5, credits=1,
                  created_at=at - timedelta(minutes=2), updated_at=at, finished_at=at,
                  history=(StatusChange(status=status, at=at),), **extra)


def shards_of(jobs: list[JobDoc]) -> list:
    docs: dict[str, dict] = {}
    for job in jobs:
        path = rollups.shard_path(job.job_id, job.finished_at)
        docs[path] = rollups.add_job(docs.get(path), job, job.finished_at, None, refunded=False).to_document()
    return [rollups.JobRollup.from_document(doc) for doc in docs.values()]


def test_settled_payments_count_on_the_day_they_settled_and_nothing_else_does():
    days = reports.window(NOW.date(), 2)
    settled = {NOW.date(): 250, NOW.date() - timedelta(days=1): 1036, NOW.date() - timedelta(days=5): 5950}
    rows, totals = reports.daily_spend(days, [], settled, 12.0, 1.0)
    assert [r.payments_minor for r in rows] == [250, 1036] and totals.payments_minor == 1286


def test_jobs_count_on_the_utc_day_they_ended_with_their_recorded_cost():
    jobs = [ended("job_1", JobStatus.DONE, NOW, gpu_seconds=10.0, cost_usd=0.0116),
            ended("job_2", JobStatus.FAILED, NOW, gpu_seconds=5.0, cost_usd=0.0058),
            ended("job_3", JobStatus.DONE, NOW - timedelta(days=1), gpu_seconds=20.0, cost_usd=0.0232),
            ended("job_4", JobStatus.REJECTED, NOW - timedelta(days=9))]
    rows, totals = reports.daily_spend(reports.window(NOW.date(), 2), shards_of(jobs), {}, 12.0, 1.0)
    assert [(r.jobs_done, r.jobs_failed, r.credits_burned) for r in rows] == [(1, 1, 1), (1, 0, 1)]
    assert rows[0].gpu_cost_usd == 0.0174 and rows[0].margin_usd == round(0.12 - 0.0174, 6)
    assert totals.jobs_rejected == 0 and totals.gpu_seconds == 35.0


def test_a_day_is_a_utc_day_and_revenue_per_credit_is_the_cheapest_plans():
    late_evening_in_new_york = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    assert reports.utc_day(late_evening_in_new_york).isoformat() == "2026-11-26"
    assert rollups.day_of(late_evening_in_new_york) == "2026-11-26"
    assert reports.revenue_per_credit_minor(priced("GBP", {}, 25)) == 5950 / 500
