"""Every way a RunPod round trip can go, end to end: failures, lost and doubled webhooks, cancels.

After each, the ledger invariant holds: balance == ledger sum, one settle or one refund per job.
"""

import pytest
import requests

from cli.api import TERMINAL
from schemas.events import ClockTicked
from tests.helpers import assert_ledger_balanced, ledger_of, wait_until


def _ended(user, job_id: str, ticks=None, timeout_s: float = 40) -> dict:
    def ended():
        if ticks:
            ticks.publish(ClockTicked())
        job = user.client.job(job_id)
        return job if job["status"] in TERMINAL else None

    return wait_until(ended, timeout_s=timeout_s, interval_s=0.5 if ticks else 0.05, what=f"job {job_id} to end")


def _runpod_job(control, job_id: str) -> dict | None:
    return next((j for j in control.get("jobs") if (j.get("input") or {}).get("jobId") == job_id), None)


def _runpod_status(control, job_id: str, status: str) -> dict | None:
    job = _runpod_job(control, job_id)
    return job if job and job["status"] == status else None


def test_a_worker_failure_fails_the_job_and_refunds(make_user, store, runpod_control):
    user = make_user(credits=1)
    job = _ended(user, user.client.create_job("this will [fail]", 5)["jobId"])
    assert job["status"] == "failed"
    assert job["error"]["code"] == "generation_failed"
    assert user.client.credits()["balance"] == 1
    assert_ledger_balanced(store, user.user_id)


@pytest.mark.parametrize("code", ["image_refused", "output_refused"])
def test_a_moderation_refusal_fails_the_job_with_its_own_code_and_refunds(make_user, store, code):
    user = make_user(credits=1)
    job = _ended(user, user.client.create_job(f"a harmless prompt [refuse:{code}]", 5)["jobId"])
    assert (job["status"], job["error"]["code"]) == ("failed", code)
    assert "refused by moderation" in job["error"]["message"]
    assert user.client.credits()["balance"] == 1
    assert_ledger_balanced(store, user.user_id)


def test_a_lost_webhook_is_reconciled_to_done(make_user, store, publisher, runpod_control):
    user = make_user(credits=1)
    runpod_control.post("webhooks/drop", count=1)
    job_id = user.client.create_job("nobody will call back", 5)["jobId"]
    wait_until(lambda: _runpod_status(runpod_control, job_id, "COMPLETED"), what="RunPod to finish")
    assert user.client.job(job_id)["status"] in ("queued", "running")
    job = _ended(user, job_id, ticks=publisher)
    assert job["status"] == "done"
    assert [w["outcome"] for w in runpod_control.get("webhooks")] == ["dropped"]
    assert_ledger_balanced(store, user.user_id)


def test_a_webhook_delivered_twice_at_once_settles_once(make_user, store, runpod_control):
    user = make_user(credits=1)
    runpod_control.post("webhooks/duplicate", count=1, concurrent=True)
    job = _ended(user, user.client.create_job("twice", 5)["jobId"])
    assert job["status"] == "done"
    wait_until(lambda: [w["outcome"] for w in runpod_control.get("webhooks")].count("delivered") == 2, what="both copies")
    settles = [e for e in ledger_of(store, user.user_id) if e["kind"] == "settle"]
    assert len(settles) == 1
    assert user.client.credits()["balance"] == 0
    assert_ledger_balanced(store, user.user_id)


def test_a_forged_webhook_token_is_refused_and_changes_nothing(make_user, stack, runpod_control):
    user = make_user(credits=1)
    job_id = user.client.create_job("slow one [slow:3]", 5)["jobId"]
    runpod_job = wait_until(lambda: _runpod_job(runpod_control, job_id), what="the RunPod job")
    body = {"id": runpod_job["id"], "status": "COMPLETED", "output": {"r2Key": "videos/fake.mp4"}}
    for token in ("", "0" * 64, "deadbeef"):
        response = requests.post(f"{stack.base_url}/webhooks/runpod", params={"jobId": job_id, "token": token}, json=body, timeout=10)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"
    assert user.client.job(job_id)["status"] in ("reserved", "queued", "running")
    assert _ended(user, job_id)["status"] == "done"


def test_runpod_5xx_on_submit_is_retried_until_it_accepts(make_user, store, runpod_control):
    user = make_user(credits=1)
    runpod_control.post("run-errors", count=2, status=503)
    job = _ended(user, user.client.create_job("after a hiccup", 5)["jobId"])
    assert job["status"] == "done"
    assert [r["statusCode"] for r in runpod_control.get("runs")][:3] == [503, 503, 200]
    assert_ledger_balanced(store, user.user_id)


def test_runpod_down_for_good_fails_the_job_and_refunds(make_user, store, runpod_control):
    user = make_user(credits=1)
    runpod_control.post("run-errors", count=1000, status=500)
    job = _ended(user, user.client.create_job("never accepted", 5)["jobId"], timeout_s=90)
    assert job["status"] == "failed"
    assert job["error"]["code"] == "runpod_unavailable"
    assert user.client.credits()["balance"] == 1
    assert_ledger_balanced(store, user.user_id)


def test_cancel_while_queued_refunds_and_cancels_at_runpod(make_user, store, runpod_control):
    busy, user = make_user(credits=2), make_user(credits=1)
    blockers = [busy.client.create_job(f"occupy worker {n} [slow:30]", 5)["jobId"] for n in range(2)]
    for job_id in blockers:
        wait_until(lambda j=job_id: _runpod_status(runpod_control, j, "IN_PROGRESS"), what="workers busy")
    job_id = user.client.create_job("waiting in line", 5)["jobId"]
    wait_until(lambda: _runpod_status(runpod_control, job_id, "IN_QUEUE") and user.client.job(job_id)["status"] == "queued",
               what="the job to queue")
    assert user.client.cancel(job_id)["status"] == "canceled"
    wait_until(lambda: _runpod_status(runpod_control, job_id, "CANCELLED"), what="RunPod to cancel")
    assert user.client.credits()["balance"] == 1
    conflict = user.client.request("POST", f"/jobs/{job_id}/cancel")
    assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "job_finished"
    for blocker in blockers:
        busy.client.cancel(blocker)
    assert_ledger_balanced(store, user.user_id)
    assert_ledger_balanced(store, busy.user_id)


def test_cancel_while_running_refunds_and_stops_the_worker(make_user, store, runpod_control):
    user = make_user(credits=1)
    job_id = user.client.create_job("long take [slow:30]", 5)["jobId"]
    wait_until(lambda: user.client.job(job_id)["status"] == "running", what="the job to run")
    assert user.client.cancel(job_id)["status"] == "canceled"
    wait_until(lambda: _runpod_status(runpod_control, job_id, "CANCELLED"), what="RunPod to cancel")
    assert user.client.credits()["balance"] == 1
    assert user.client.job(job_id)["status"] == "canceled"  # the late CANCELLED webhook changes nothing
    assert_ledger_balanced(store, user.user_id)


def test_a_job_runpod_loses_is_failed_and_refunded(make_user, store, publisher, runpod_control):
    user = make_user(credits=1)
    job_id = user.client.create_job("into the void [slow:30]", 5)["jobId"]
    runpod_job = wait_until(lambda: _runpod_status(runpod_control, job_id, "IN_PROGRESS"), what="the job to run")
    runpod_control.post("jobs/lose", jobId=runpod_job["id"])
    job = _ended(user, job_id, ticks=publisher)
    assert job["status"] == "failed"
    assert job["error"]["code"] == "lost_by_runpod"
    assert user.client.credits()["balance"] == 1
    assert_ledger_balanced(store, user.user_id)
