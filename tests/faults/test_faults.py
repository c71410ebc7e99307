"""Fault injection on the local stack, one fault per test. After each, every job the test made
reached a terminal state within a bounded time (clock ticks drive the reconciler) and the ledger
invariant holds for every user it made (checked by the ``settled`` fixture)."""

import concurrent.futures
import signal
import time

import pytest

from cli.api import TERMINAL
from devstack import processes
from devstack import stack as devstack
from functions.core.paths import JOBS
from functions.store import Query
from schemas.events import ClockTicked
from tests.helpers import StandInControls, assert_ledger_balanced, ledger_of, wait_until

pytestmark = pytest.mark.e2e

BOUND_S = 90  # every job ends within this, whatever the fault
PAYER = {"name": "Ada Lovelace", "email": "ada@example.com"}


@pytest.fixture
def users(make_user, store, publisher, runpod_control):
    """``users(credits)`` makes a user; at the end every job of every such user is terminal and
    every ledger balanced; the RunPod stand-in is left without faults."""
    made = []

    def make(credits: int = 0):
        made.append(make_user(credits))
        return made[-1]

    yield make
    runpod_control.post("reset")
    for user in made:
        wait_until(lambda u=user: _all_terminal(store, publisher, u.user_id), timeout_s=BOUND_S, interval_s=0.5,
                   what=f"every job of {user.user_id} to end")
        assert_ledger_balanced(store, user.user_id)


def _all_terminal(store, publisher, user_id: str) -> bool:
    publisher.publish(ClockTicked())
    jobs = [data for _, data in store.query(Query(JOBS, where=[("userId", "==", user_id)]))]
    return all(job["status"] in TERMINAL for job in jobs)


def _ended(user, job_id: str, publisher, timeout_s: float = BOUND_S) -> dict:
    def ended():
        publisher.publish(ClockTicked())
        job = user.client.job(job_id)
        return job if job["status"] in TERMINAL else None

    return wait_until(ended, timeout_s=timeout_s, interval_s=0.5, what=f"job {job_id} to end")


def _runpod_job(control, job_id: str) -> dict | None:
    return next((j for j in control.get("jobs") if (j.get("input") or {}).get("jobId") == job_id), None)


def _settles(store, user_id: str) -> list[str]:
    return [e["entryId"] for e in ledger_of(store, user_id) if e["kind"] == "settle"]


def test_events_host_killed_mid_burst_and_restarted_loses_nothing(stack, users, store, publisher):
    people = [users(credits=4) for _ in range(3)]
    created: list[tuple] = []
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        def create(args):
            person, n = args
            return person, person.client.create_job(f"burst {n}", 5)["jobId"]

        work = [(person, n) for n in range(4) for person in people]
        created += pool.map(create, work[:5])
        processes.stop("events", stack.state_dir, signal.SIGKILL)  # every Pub/Sub consumer dies at once
        created += pool.map(create, work[5:])
    devstack.start_service(stack, "events")
    for person, job_id in created:
        assert _ended(person, job_id, publisher)["status"] == "done", job_id
    for person in people:
        assert person.client.credits()["balance"] == 0
        assert len(_settles(store, person.user_id)) == 4


def test_runpod_5xx_and_429_for_a_while_delay_but_do_not_fail_jobs(users, runpod_control, publisher):
    user = users(credits=3)
    runpod_control.post("run-errors", count=2, status=503)
    runpod_control.post("run-errors", count=2, status=429, retryAfterS=1)
    job_ids = [user.client.create_job(f"through the storm {n}", 5)["jobId"] for n in range(3)]
    assert [_ended(user, job_id, publisher)["status"] for job_id in job_ids] == ["done"] * 3
    codes = [r["statusCode"] for r in runpod_control.get("runs")]
    assert codes.count(503) == 2 and codes.count(429) == 2 and codes.count(200) == 3, codes


def test_lost_delayed_duplicated_and_reordered_webhooks_settle_each_job_once(users, runpod_control, store, publisher):
    user = users(credits=5)
    faults = [  # one per job, armed on its RunPod id before it ends
        ("webhooks/drop", {}),
        ("webhooks/delay", {"seconds": 2}),  # ends first, told last: webhooks arrive out of order
        None,
        ("webhooks/duplicate", {"concurrent": True}),
        ("webhooks/duplicate", {"concurrent": False}),
    ]
    job_ids = [user.client.create_job(f"webhook weather {n} [slow:{1 + n / 4}]", 5)["jobId"] for n in range(len(faults))]
    for job_id, fault in zip(job_ids, faults, strict=True):
        runpod_job = wait_until(lambda j=job_id: _runpod_job(runpod_control, j), what="the RunPod job")
        if fault:
            runpod_control.post(fault[0], jobId=runpod_job["id"], **fault[1])
    assert [_ended(user, job_id, publisher)["status"] for job_id in job_ids] == ["done"] * 5
    # A late copy may land after its job was reconciled: wait for all of them (4 sent, 2 of them twice).
    outcomes = wait_until(lambda: (o := [w["outcome"] for w in runpod_control.get("webhooks")]).count("delivered") == 6 and o,
                          what="every webhook copy")
    assert outcomes.count("dropped") == 1, outcomes
    assert sorted(_settles(store, user.user_id)) == sorted(f"settle:{job_id}" for job_id in job_ids)
    assert user.client.credits()["balance"] == 0


def test_a_worker_killed_mid_job_fails_and_refunds_it_and_a_new_worker_takes_over(stack, users, runpod_control, publisher):
    user = users(credits=2)
    job_id = user.client.create_job("the worker dies [slow:3]", 5)["jobId"]
    running = wait_until(lambda: (j := _runpod_job(runpod_control, job_id)) and j["status"] == "IN_PROGRESS" and j,
                         what="the job to run")
    killed = f"worker-{running['workerId'].rsplit('-', 1)[1]}"
    processes.stop(killed, stack.state_dir, signal.SIGKILL)
    job = _ended(user, job_id, publisher)
    assert job["status"] == "failed" and job["error"]["code"] == "generation_timed_out", job
    assert user.client.credits()["balance"] == 2
    devstack.start_worker(stack, n=len(processes.running(stack.state_dir)) + 10)  # a fresh pod
    after = user.client.create_job("the next one is fine", 5)["jobId"]
    assert _ended(user, after, publisher)["status"] == "done"


def test_a_job_past_its_execution_timeout_is_failed_and_refunded(users, runpod_control, publisher):
    user = users(credits=1)
    started = time.monotonic()
    job = _ended(user, user.client.create_job("too long [slow:30]", 5)["jobId"], publisher)
    assert job["status"] == "failed" and job["error"]["code"] == "generation_timed_out", job
    assert time.monotonic() - started < 20  # RUNPOD_EXECUTION_TIMEOUT_S=5, not the 30 s the job wanted
    assert user.client.credits()["balance"] == 1
    again = _ended(user, user.client.create_job("short and sweet", 5)["jobId"], publisher)
    assert again["status"] == "done"  # the worker was told to stop and is free again


def test_a_bucket_refusing_uploads_fails_the_job_clearly_and_refunds_it(stack, users, publisher):
    user = users(credits=2)
    processes.stop("s3", stack.state_dir, signal.SIGKILL)
    try:
        job = _ended(user, user.client.create_job("nowhere to put it", 5)["jobId"], publisher)
    finally:
        devstack.start_service(stack, "s3")
    assert job["status"] == "failed" and job["error"]["code"] == "generation_failed", job
    assert job["error"]["message"].startswith("EndpointConnectionError: Could not connect"), job  # clear, no traceback
    assert "Traceback" not in job["error"]["message"] and "/work/" not in job["error"]["message"]
    assert user.client.credits()["balance"] == 2
    assert _ended(user, user.client.create_job("the bucket is back", 5)["jobId"], publisher)["status"] == "done"


def test_the_same_truelayer_webhook_five_times_at_once_grants_once(stack, users, store):
    truelayer = StandInControls(stack.truelayer_url).reset()
    user = users()
    checkout = user.client.topup(40, PAYER)
    events = truelayer.post(f"payments/{checkout['paymentId']}/settle", copies=5, concurrent=True)["eventIds"]
    settled = events[-1]
    wait_until(lambda: sum(1 for d in truelayer.get("webhooks") if d["eventId"] == settled and d.get("statusCode") == 200) == 5,
               what="five copies answered")
    wait_until(lambda: user.client.credits()["balance"] == 40, what="the top-up")
    deadline = time.monotonic() + 2  # an absence check: no second grant turns up
    while time.monotonic() < deadline:
        assert user.client.credits()["balance"] == 40 and len(ledger_of(store, user.user_id)) == 1
        time.sleep(0.2)
