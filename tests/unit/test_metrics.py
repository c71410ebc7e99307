"""GET /admin/metrics on documents built for the purpose, with figures checked by hand."""

import json
from datetime import UTC, datetime, timedelta

import flask
import pytest

from functions.adapters.clerk import Principal
from functions.core import histogram, jobs, rollups
from functions.core.paths import job_path, subscription_path
from functions.core.pricing import GpuPrices
from functions.handlers import metrics as metrics_api
from functions.handlers.outcomes import apply_runpod_status
from functions.http.endpoint import serve
from functions.store import Decision, Put
from schemas.documents import JobDoc, JobError, StatusChange
from schemas.generation import GenerationOutput
from schemas.jobs import JobStatus
from schemas.payments import SubscriptionDoc, SubscriptionStatus
from schemas.runpod import RunPodState, RunPodStatus
from tests.unit.fakes import make_deps

MONDAY = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def deps():
    deps = make_deps(usd_per_billing_unit=1.27, max_active_jobs=1000)
    deps.now = lambda: MONDAY + timedelta(weeks=5)
    return deps


def metrics(deps, query: str = "days=40", is_admin: bool = True) -> tuple[int, dict]:
    request = flask.Request.from_values(path="/admin/metrics", query_string=query, headers={"Authorization": "Bearer t"})
    response = serve(request, "admin_metrics", lambda call: metrics_api.admin_metrics(call, deps),
                     authenticate=lambda token: Principal("user_ops", is_admin), allowed_origins=())
    return response.status_code, json.loads(response.get_data())


def create(deps, job_id: str, user_id: str, at: datetime) -> JobDoc:
    job = JobDoc(job_id=job_id, user_id=user_id, status=JobStatus.PENDING, prompt="p", duration_sec=5, credits=1,
                 created_at=at, updated_at=at, history=(StatusChange(status=JobStatus.PENDING, at=at),))
    deps.store.decide(jobs.create_paths(job, None), lambda docs: jobs.decide_create(docs, job, None, "h", 1000))
    return job


def run_and_end(deps, job: JobDoc, outcome, ran_for_s: float, queued_for_s: float = 0.0) -> JobDoc:
    """The job reserved, queued, running after ``queued_for_s``, ended ``ran_for_s`` later."""
    started = job.created_at + timedelta(seconds=queued_for_s)
    ended_at = started + timedelta(seconds=ran_for_s)
    history = (*job.history, StatusChange(status=JobStatus.RESERVED, at=job.created_at),
               StatusChange(status=JobStatus.QUEUED, at=job.created_at), StatusChange(status=JobStatus.RUNNING, at=started))
    running = job.model_copy(update={"status": JobStatus.RUNNING, "history": history})
    deps.store.decide([job_path(job.job_id)], lambda docs: Decision([Put(job_path(job.job_id), running.to_document())]))
    return deps.store.decide(jobs.finish_paths(job, ended_at), lambda docs: jobs.decide_finish(docs, job.job_id, outcome, ended_at))


def done(job: JobDoc, gpu_seconds: float, gpu: str = "H100", price: float = 0.00116, cold: bool = False,
         setup_s: float | None = None) -> jobs.Succeeded:
    output = GenerationOutput(r2_key=f"videos/{job.job_id}.mp4", duration_sec=5, frames=121, width=1280, height=704,
                              fps=24, seed=1, model="wan", gpu_type=gpu, cold_start=cold, setup_s=setup_s)
    return jobs.Succeeded(output=output, expires_at=MONDAY + timedelta(days=60), gpu_seconds=gpu_seconds,
                          cost_usd=round(gpu_seconds * price, 6), gpu_type=gpu)


def failed(code: str) -> jobs.Failed:
    return jobs.Failed(JobError(code=code, message="it broke"))


def target(body: dict, key: str) -> dict:
    return next(t for t in body["targets"] if t["key"] == key)


def test_a_cohort_where_one_of_four_users_returned_in_week_two_shows_25_percent(deps):
    for n in range(4):
        create(deps, f"job_first{n}", f"user_{n}", MONDAY + timedelta(days=n))
    create(deps, "job_again_day3", "user_0", MONDAY + timedelta(days=3))  # still week 1: not a return
    create(deps, "job_back", "user_1", MONDAY + timedelta(days=1, hours=7 * 24 + 5))  # day 7 after their first
    create(deps, "job_late", "user_2", MONDAY + timedelta(days=2 + 15))  # day 15: week 3, not week 2
    create(deps, "job_next_cohort", "user_9", MONDAY + timedelta(days=7))

    status, body = metrics(deps)
    assert status == 200
    cohort = next(c for c in body["retention"] if c["weekStart"] == "2026-10-05")
    week = {w["week"]: w for w in cohort["weeks"]}
    assert cohort["users"] == 4
    assert (week[2]["retained"], week[2]["rate"]) == (1, 0.25)
    assert (week[3]["retained"], week[3]["rate"]) == (1, 0.25)
    assert 5 not in week  # week 5 has not ended for the cohort's last user yet
    later = next(c for c in body["retention"] if c["weekStart"] == "2026-10-12")
    assert later["users"] == 1 and {w["week"] for w in later["weeks"]} == {2, 3}
    # Pooled over cohorts whose week 2 ended: (1 + 0) returned of (4 + 1) users.
    assert target(body, "week2_retention")["value"] == 0.2 and target(body, "week2_retention")["ok"] is True


def test_a_cohort_is_the_week_users_signed_up_in_whenever_their_first_job_came(deps):
    from functions.core.jobs import put
    from functions.core.paths import user_path
    from schemas.documents import UserDoc

    def sign_up(user_id: str, at: datetime) -> None:
        deps.store.decide([user_path(user_id)], lambda docs: Decision([put(user_path(user_id), UserDoc(user_id=user_id, created_at=at))]))

    sign_up("user_browsing", MONDAY)  # signed up, never made a video: in the cohort, never retained
    sign_up("user_slow", MONDAY + timedelta(days=6))  # first job the next week, back 8 days after it
    create(deps, "job_slow_first", "user_slow", MONDAY + timedelta(days=8))
    create(deps, "job_slow_back", "user_slow", MONDAY + timedelta(days=16))
    create(deps, "job_quick", "user_quick", MONDAY + timedelta(days=1))  # signed up by their first job

    _, body = metrics(deps)
    first, second = (next(c for c in body["retention"] if c["weekStart"] == day) for day in ("2026-10-05", "2026-10-12"))
    assert first["users"] == 3 and second["users"] == 0
    assert {w["week"]: (w["retained"], w["rate"]) for w in first["weeks"]}[2] == (1, 0.3333)  # rates are rounded to 4 places


def test_a_job_run_on_an_l40s_is_costed_at_the_l40s_price(deps):
    job = create(deps, "job_l40s", "user_a", MONDAY)
    deps.storage.put(f"videos/{job.job_id}.mp4", b"mp4", "video/mp4")
    queued = job.model_copy(update={"status": JobStatus.QUEUED, "runpod_job_id": "rp-1"})
    deps.store.decide([job_path(job.job_id)], lambda docs: Decision([Put(job_path(job.job_id), queued.to_document())]))
    output = {"r2Key": f"videos/{job.job_id}.mp4", "durationSec": 5, "frames": 121, "width": 1280, "height": 704,
              "fps": 24, "seed": 7, "model": "wan", "gpuType": "NVIDIA L40S", "coldStart": False}
    ended = apply_runpod_status(deps, queued, RunPodStatus(id="rp-1", status=RunPodState.COMPLETED, executionTime=100_000,
                                                           output=output))
    assert (ended.status, ended.gpu_type, ended.gpu_seconds, ended.cost_usd) == (JobStatus.DONE, "L40S", 100.0, 0.053)

    _, body = metrics(deps)
    assert [(g["gpuType"], g["clips"], g["costUsd"], g["pricePerSecondUsd"]) for g in body["byGpu"]] == [("L40S", 1, 0.053, 0.00053)]


def test_gpu_names_match_the_longest_price_table_key():
    prices = GpuPrices({"H100": 0.00116, "L40": 0.0004, "L40S": 0.00053}, fallback_usd=0.00116)
    assert prices.gpu_type("NVIDIA H100 80GB HBM3") == "H100"
    assert prices.gpu_type("NVIDIA L40S") == "L40S" and prices.gpu_type("NVIDIA L40") == "L40"
    assert prices.gpu_type("NVIDIA A100-SXM4-80GB") == "unknown" and prices.price("unknown") == 0.00116
    assert prices.gpu_type(None) == "unknown"


def test_generation_times_success_rate_costs_and_cold_starts(deps):
    # Four 5 s clips: created -> done in 30, 40, 50 and 100 s (10 s of queue each), one failure.
    for n, total in enumerate([30, 40, 50, 100]):
        job = create(deps, f"job_{n}", "user_a", MONDAY + timedelta(hours=n))
        run_and_end(deps, job, done(job, gpu_seconds=total - 10, cold=n == 0, setup_s=8.0 if n == 0 else None),
                    ran_for_s=total - 10, queued_for_s=10)
    run_and_end(deps, create(deps, "job_bad", "user_a", MONDAY), failed("generation_failed"), ran_for_s=5)

    _, body = metrics(deps)
    five = next(g for g in body["generation"] if g["durationSec"] == 5)
    assert (five["quality"], five["jobs"]) == ("standard", 4)  # no quality recorded: standard
    # Nearest rank: p50 is the 2nd of 4 (40 s), p95 the 4th (100 s); each read as its bucket's upper
    # edge, 0.5 * 1.1**k: 40 s lies in bucket 46 (40.09 s), 100 s in bucket 56 (103.98 s).
    assert five["totalP50S"] == pytest.approx(40.09, abs=0.01) and five["totalP95S"] == pytest.approx(103.98, abs=0.01)
    assert five["runP50S"] == pytest.approx(histogram.upper_edge(histogram.bucket_of(30)))
    assert target(body, "generation_p50_5s")["ok"] is True and target(body, "generation_p95_5s")["ok"] is False
    assert body["success"]["rate"] == 0.8 and body["success"]["failureCodes"] == [{"code": "generation_failed", "count": 1}]
    assert target(body, "success_rate")["ok"] is False
    assert body["refunds"] == 1 and body["refundedCredits"] == 1
    # 20 + 30 + 40 + 90 GPU seconds over 4 clips, at the H100 price.
    assert body["byDuration"] == [{"durationSec": 5, "clips": 4, "gpuSecondsPerClip": 45.0, "costPerClipUsd": 0.0522}]
    assert body["coldStarts"]["cold"] == 1 and body["coldStarts"]["jobs"] == 4 and body["coldStarts"]["setupSTotal"] == 8.0
    assert target(body, "cold_start_p95")["ok"] is True  # 8 s: bucket edge 8.4 s, under 10
    day = next(d for d in body["daily"] if d["day"] == "2026-10-05")
    assert (day["done"], day["failed"], day["successRate"]) == (4, 1, 0.8)


def test_each_plan_earns_its_markup_over_the_gpu_cost(deps):
    sub = SubscriptionDoc(user_id="user_s", plan_id="starter", status=SubscriptionStatus.ACTIVE, created_at=MONDAY,
                          updated_at=MONDAY)
    deps.store.decide([subscription_path("user_s")], lambda docs: Decision([Put(subscription_path("user_s"), sub.to_document())]))
    job = create(deps, "job_s", "user_s", MONDAY)
    run_and_end(deps, job, done(job, gpu_seconds=60.0), ran_for_s=60)
    cheap = create(deps, "job_t", "user_t", MONDAY)  # no plan: top-up credits
    run_and_end(deps, cheap, done(cheap, gpu_seconds=300.0), ran_for_s=300)

    _, body = metrics(deps)
    starter = next(p for p in body["plans"] if p["planId"] == "starter")
    # 1 credit at 1036/80 = 12.95 pence = 0.1295 GBP = 0.164465 USD; 60 s at 0.00116 = 0.0696 USD.
    assert (starter["revenueUsd"], starter["costUsd"]) == (0.164465, 0.0696)
    assert starter["markup"] == round(0.164465 / 0.0696 - 1, 4) and starter["margin"] == round((0.164465 - 0.0696) / 0.164465, 4)
    assert starter["targetMarkup"] == 0.85 and starter["ok"] is True
    none = next(p for p in body["plans"] if p["planId"] == "none")
    assert none["revenueUsd"] == 0.3175 and none["markup"] == round(0.3175 / 0.348 - 1, 4) and none.get("ok") is None
    creator = next(p for p in body["plans"] if p["planId"] == "creator")
    assert (creator["credits"], creator.get("markup"), creator.get("ok")) == (0, None, None)
    assert target(body, "markup_starter")["ok"] is True


def test_a_redelivered_outcome_is_counted_once(deps):
    job = create(deps, "job_twice", "user_a", MONDAY)
    outcome = done(job, gpu_seconds=30.0)
    run_and_end(deps, job, outcome, ran_for_s=30)
    at = MONDAY + timedelta(minutes=5)
    deps.store.decide(jobs.finish_paths(job, at), lambda docs: jobs.decide_finish(docs, job.job_id, outcome, at))
    _, body = metrics(deps)
    assert body["success"]["done"] == 1 and body["byDuration"][0]["clips"] == 1


def test_metrics_are_for_admins_only(deps):
    status, body = metrics(deps, is_admin=False)
    assert status == 403 and body["error"]["code"] == "forbidden"
    assert metrics(deps, "days=91")[0] == 400


class CountingStore:
    """Our store port, counting what a report reads: documents returned, and index entries an
    aggregation scans (billed one read per 1,000)."""

    def __init__(self, store) -> None:
        self.store, self.documents, self.aggregated = store, 0, 0

    def get(self, path):
        self.documents += 1
        return self.store.get(path)

    def get_many(self, paths):
        self.documents += len(paths)
        return self.store.get_many(paths)

    def query(self, query):
        rows = self.store.query(query)
        self.documents += len(rows)
        return rows

    def aggregate(self, query, sum_fields=()):
        found = self.store.aggregate(query, sum_fields)
        self.aggregated += 1
        return found


def _seed(deps, jobs_count: int, users: int = 50) -> None:
    """``jobs_count`` ended jobs over 30 days, written in one commit, and the shards that settlement
    would have written for them (folded with the same pure step)."""
    shards: dict[str, rollups.JobRollup] = {}
    writes = []
    for n in range(jobs_count):
        at = MONDAY + timedelta(days=30) * (n / jobs_count)
        job = JobDoc.model_construct(
            job_id=f"job_{n:06d}", user_id=f"user_{n % users}", status=JobStatus.DONE, duration_sec=5, credits=1,
            created_at=at - timedelta(seconds=60), finished_at=at, gpu_seconds=50.0, cost_usd=0.058, gpu_type="H100",
            error=None, output=None, history=(StatusChange(status=JobStatus.DONE, at=at),))
        path = rollups.shard_path(job.job_id, at)
        shards[path] = rollups.add_job(shards.get(path), job, at, None, refunded=False)
        writes.append(Put(job_path(job.job_id), {"jobId": job.job_id, "userId": job.user_id, "status": "done",
                                                  "finishedAt": at, "createdAt": job.created_at}))
    writes += [Put(path, shard.to_document()) for path, shard in shards.items()]
    deps.store.decide([w.path for w in writes], lambda docs: Decision(writes))


@pytest.mark.parametrize("report", ["admin_metrics", "admin_daily_stats"])
def test_what_a_report_reads_does_not_grow_with_the_jobs(report):
    from functions.handlers import admin

    handler, path = {"admin_metrics": (metrics_api.admin_metrics, "/admin/metrics"),
                     "admin_daily_stats": (admin.daily_stats, "/admin/stats/daily")}[report]
    reads = {}
    for count in (1_000, 10_000):
        deps = make_deps()
        deps.now = lambda: MONDAY + timedelta(days=30)
        _seed(deps, count)
        counting = CountingStore(deps.store)
        deps.__dict__["store"] = counting
        request = flask.Request.from_values(path=path, query_string="days=30", headers={"Authorization": "Bearer t"})
        response = serve(request, report, lambda call: handler(call, deps),
                         authenticate=lambda token: Principal("user_ops", True), allowed_origins=())
        body = json.loads(response.get_data())
        reads[count] = (counting.documents, counting.aggregated, body["documentsRead"])
    assert reads[1_000] == reads[10_000], reads
    documents, aggregations, billed = reads[10_000]
    assert documents <= 30 * rollups.SHARDS and aggregations <= 60
    assert billed == documents + aggregations  # each aggregation scanned under 1,000 entries: one read


def test_open_payment_issues_count_in_the_operator_queue_and_resolved_ones_do_not(deps):
    from functions.core.paths import payment_issue_path

    for n, resolved in enumerate([None, None, MONDAY]):
        doc = {"paymentId": f"pay_{n}", "createdAt": MONDAY, **({"resolvedAt": resolved} if resolved else {})}
        deps.store.decide([payment_issue_path(f"pay_{n}")], lambda docs, d=doc, n=n: Decision([Put(payment_issue_path(f"pay_{n}"), d)]))
    _, body = metrics(deps)
    assert body["queues"]["operatorQueue"] == 2
    assert target(body, "operator_queue")["value"] == 2 and target(body, "operator_queue")["ok"] is False
