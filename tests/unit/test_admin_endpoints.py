"""The admin read endpoints through the real endpoint wrapper, on the in-memory store."""

import json
from datetime import timedelta

import flask
import pytest

from functions.adapters.clerk import Principal
from functions.core import jobs
from functions.core.paths import job_path, subscription_path, user_path
from functions.handlers import admin
from functions.http.endpoint import serve
from functions.store import Decision
from schemas.documents import JobDoc, JobError, UserDoc
from schemas.generation import GenerationOutput
from schemas.jobs import JobStatus
from schemas.payments import SubscriptionDoc, SubscriptionStatus
from tests.unit.fakes import make_deps

HANDLERS = {"admin_list_jobs": admin.list_jobs, "admin_list_users": admin.list_users, "admin_daily_stats": admin.daily_stats}
PATHS = {"admin_list_jobs": "/admin/jobs", "admin_list_users": "/admin/users", "admin_daily_stats": "/admin/stats/daily"}


@pytest.fixture
def deps():
    return make_deps(usd_per_billing_unit=1.25)


def get(deps, function: str, query: str = "", is_admin: bool = True) -> tuple[int, dict]:
    request = flask.Request.from_values(path=PATHS[function], query_string=query, method="GET",
                                        headers={"Authorization": "Bearer test"})
    response = serve(request, function, lambda call: HANDLERS[function](call, deps),
                     authenticate=lambda token: Principal("user_ops", is_admin), allowed_origins=())
    return response.status_code, json.loads(response.get_data())


def put_doc(deps, path: str, doc) -> None:
    deps.store.decide([path], lambda docs: Decision([jobs.put(path, doc)]))


def add_job(deps, job_id: str, user_id: str, status: JobStatus, age: timedelta, **extra) -> JobDoc:
    created = deps.now() - age
    job = JobDoc(job_id=job_id, user_id=user_id, status=status, prompt=extra.pop("prompt", "a lighthouse in a storm"),
                 duration_sec=extra.pop("duration_sec", 5), credits=extra.pop("credits", 1), created_at=created,
                 updated_at=created, **extra)
    put_doc(deps, job_path(job_id), job)
    return job


def output(job_id: str) -> GenerationOutput:
    return GenerationOutput(r2_key=f"videos/{job_id}.mp4", duration_sec=5, frames=121, width=1280, height=704, fps=24,
                            seed=1, model="test-handler")


@pytest.mark.parametrize("function", sorted(HANDLERS))
def test_every_admin_endpoint_refuses_a_user_without_the_admin_role(deps, function):
    status, body = get(deps, function, is_admin=False)
    assert status == 403 and body["error"]["code"] == "forbidden"


def test_jobs_filter_by_status_user_and_date_newest_first(deps):
    add_job(deps, "job_a1", "user_a", JobStatus.DONE, timedelta(days=3))
    add_job(deps, "job_a2", "user_a", JobStatus.FAILED, timedelta(hours=2),
            error=JobError(code="generation_failed", message="out of memory"))
    add_job(deps, "job_b1", "user_b", JobStatus.FAILED, timedelta(hours=1))

    status, body = get(deps, "admin_list_jobs")
    assert status == 200 and [j["jobId"] for j in body["jobs"]] == ["job_b1", "job_a2", "job_a1"]

    _, failed = get(deps, "admin_list_jobs", "status=failed&userId=user_a")
    assert [j["jobId"] for j in failed["jobs"]] == ["job_a2"]
    assert failed["jobs"][0]["error"] == {"code": "generation_failed", "message": "out of memory"}

    today = deps.now().date().isoformat()
    _, recent = get(deps, "admin_list_jobs", f"from={today}&to={today}")
    assert {j["jobId"] for j in recent["jobs"]} == {"job_a2", "job_b1"}


def test_jobs_page_with_a_cursor(deps):
    for n in range(5):
        add_job(deps, f"job_{n}", "user_a", JobStatus.DONE, timedelta(minutes=10 - n))
    _, first = get(deps, "admin_list_jobs", "limit=2")
    _, second = get(deps, "admin_list_jobs", f"limit=2&cursor={first['nextCursor']}")
    _, third = get(deps, "admin_list_jobs", f"limit=2&cursor={second['nextCursor']}")
    seen = [j["jobId"] for page in (first, second, third) for j in page["jobs"]]
    assert seen == ["job_4", "job_3", "job_2", "job_1", "job_0"] and "nextCursor" not in third


@pytest.mark.parametrize("query, field", [("status=lost", "status"), ("userId=a%20b", "userId"), ("from=yesterday", "from"),
                                          ("limit=0", "limit"), ("cursor=../users", "cursor")])
def test_jobs_bad_filters_are_400_naming_the_parameter(deps, query, field):
    status, body = get(deps, "admin_list_jobs", query)
    assert status == 400 and body["error"]["field"] == field


def test_a_long_prompt_is_shown_as_a_preview(deps):
    add_job(deps, "job_long", "user_a", JobStatus.PENDING, timedelta(0), prompt="x" * 2000)
    _, body = get(deps, "admin_list_jobs")
    assert len(body["jobs"][0]["promptPreview"]) == 141 and body["jobs"][0]["promptPreview"].endswith("…")


def test_users_show_balance_and_plan(deps):
    now = deps.now()
    put_doc(deps, user_path("user_a"), UserDoc(user_id="user_a", balance=7, active_jobs=1, created_at=now - timedelta(days=1)))
    put_doc(deps, user_path("user_b"), UserDoc(user_id="user_b", balance=0, created_at=now))
    put_doc(deps, subscription_path("user_a"), SubscriptionDoc(user_id="user_a", plan_id="creator", status=SubscriptionStatus.ACTIVE,
                                                               created_at=now, updated_at=now))
    status, body = get(deps, "admin_list_users")
    assert status == 200
    assert [(u["userId"], u["balance"], u.get("planName")) for u in body["users"]] == [("user_b", 0, None), ("user_a", 7, "Creator")]
    _, one = get(deps, "admin_list_users", "userId=user_a")
    assert [u["subscriptionStatus"] for u in one["users"]] == ["active"]


def end_job(deps, job_id: str, outcome, at, **extra) -> JobDoc:
    """A running job ended by the settlement decision at ``at`` (which also counts it in the rollups)."""
    job = add_job(deps, job_id, "user_a", JobStatus.RUNNING, deps.now() - at + timedelta(minutes=2), **extra)
    return deps.store.decide(jobs.finish_paths(job, at), lambda docs: jobs.decide_finish(docs, job_id, outcome, at))


def succeeded(job_id: str, gpu_seconds: float, cost: float, at) -> jobs.Succeeded:
    return jobs.Succeeded(output=output(job_id), expires_at=at + timedelta(hours=24), gpu_seconds=gpu_seconds,
                          cost_usd=cost, gpu_type="H100")


def test_daily_stats_count_burn_spend_revenue_and_margin(deps):
    now = deps.now()
    minute_ago, yesterday_at = now - timedelta(minutes=1), now - timedelta(days=1)
    done = end_job(deps, "job_done", succeeded("job_done", 100.0, 0.116, minute_ago), minute_ago, credits=2, duration_sec=10)
    end_job(deps, "job_old", succeeded("job_old", 50.0, 0.058, yesterday_at), yesterday_at)
    end_job(deps, "job_fail", jobs.Failed(JobError(code="generation_failed", message="x")), now - timedelta(minutes=2))
    ancient = now - timedelta(days=30)
    end_job(deps, "job_ancient", succeeded("job_ancient", 9000.0, 9.0, ancient), ancient)
    add_job(deps, "job_live", "user_a", JobStatus.RUNNING, timedelta(minutes=1))

    status, body = get(deps, "admin_daily_stats", "days=3")
    assert status == 200
    assert [d["day"] for d in body["days"]] == [(now.date() - timedelta(days=n)).isoformat() for n in range(3)]
    today, yesterday = body["days"][0], body["days"][1]
    per_credit = 5950 / 500  # the cheapest plan per credit (Studio)
    assert body["revenuePerCreditMinor"] == pytest.approx(per_credit)
    assert (today["jobsDone"], today["jobsFailed"], today["creditsBurned"]) == (1, 1, done.credits)
    assert today["gpuSeconds"] == 100.0 and today["gpuCostUsd"] == pytest.approx(0.116)
    assert today["creditRevenueMinor"] == round(2 * per_credit)
    assert today["marginUsd"] == pytest.approx(round(2 * per_credit) / 100 * 1.25 - 0.116)
    assert (yesterday["jobsDone"], yesterday["creditsBurned"]) == (1, 1)
    assert body["totals"]["creditsBurned"] == 3 and body["totals"]["gpuCostUsd"] == pytest.approx(0.174)
    assert body["currency"] == "GBP" and body["usdPerBillingUnit"] == 1.25 and body["truncated"] is False
    assert body["gpuPricesUsdPerSecond"] == {"H100": 0.00116, "L40S": 0.00053}
    assert 0 < body["documentsRead"] <= 3 * 8 + 3  # the days' shards and one payment sum a day, not the jobs


def test_daily_stats_days_are_bounded(deps):
    status, body = get(deps, "admin_daily_stats", "days=365")
    assert status == 400 and body["error"]["field"] == "days"
