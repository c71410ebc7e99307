"""The job lifecycle through HTTP on the local stack, with the real SDK worker loop."""

import concurrent.futures

import boto3
import pytest
import requests
from botocore.exceptions import ClientError

from cli.api import TERMINAL
from tests.helpers import assert_ledger_balanced, ledger_of, wait_until


def test_a_job_goes_from_pending_to_done_then_expires_and_its_video_is_deleted(make_user, store, publisher, stack):
    user = make_user(credits=2)
    created = user.client.create_job("a lighthouse at dusk [slow:1.5]", 5, seed=7)
    assert created["status"] == "pending"
    job = wait_until(lambda: (j := user.client.job(created["jobId"]))["status"] in TERMINAL and j, what="the job to end")
    assert job["status"] == "done", job
    assert [change["status"] for change in job["history"]] == ["pending", "reserved", "queued", "running", "done"]
    assert job["video"]["width"] == 1280 and job["video"]["fps"] == 24 and job["video"]["frames"] == 121
    assert job["video"]["urlExpiresAt"] <= job["expiresAt"]
    download = requests.get(job["video"]["url"], timeout=10)
    assert download.status_code == 200 and download.content, download.status_code
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert user.client.credits()["balance"] == 1
    assert_ledger_balanced(store, user.user_id)

    from schemas.events import ClockTicked

    def expired():
        publisher.publish(ClockTicked())
        return user.client.job(created["jobId"])["status"] == "expired"

    wait_until(expired, timeout_s=40, interval_s=1, what="the video to expire")
    gone = user.client.job(created["jobId"])
    assert "video" not in gone
    assert requests.get(job["video"]["url"], timeout=10).status_code in (403, 404)  # expired link or no object
    s3 = boto3.client("s3", endpoint_url=stack.s3_url, aws_access_key_id=stack.s3_access_key,
                      aws_secret_access_key=stack.s3_secret_key, region_name="us-east-1")
    with pytest.raises(ClientError, match="404"):
        s3.head_object(Bucket=stack.bucket, Key=f"videos/{created['jobId']}.mp4")
    assert_ledger_balanced(store, user.user_id)


def test_without_credits_the_job_is_rejected_and_nothing_is_deducted(make_user, store):
    user = make_user(credits=0)
    job_id = user.client.create_job("a quiet forest", 10)["jobId"]
    job = wait_until(lambda: (j := user.client.job(job_id))["status"] in TERMINAL and j, what="rejection")
    assert job["status"] == "rejected"
    assert job["error"]["code"] == "insufficient_credits"
    assert user.client.credits() == {"balance": 0, "entries": []}
    assert_ledger_balanced(store, user.user_id)


def test_five_concurrent_creates_with_three_credits_reserve_exactly_three(make_user, store):
    user = make_user(credits=3)
    with concurrent.futures.ThreadPoolExecutor(5) as pool:
        ids = [f.result()["jobId"] for f in [pool.submit(user.client.create_job, f"clip {n}", 5) for n in range(5)]]
    jobs = [wait_until(lambda i=i: (j := user.client.job(i))["status"] in TERMINAL and j, what="jobs to end") for i in ids]
    statuses = sorted(job["status"] for job in jobs)
    assert statuses == ["done", "done", "done", "rejected", "rejected"], statuses
    assert user.client.credits()["balance"] == 0
    reserves = [e for e in ledger_of(store, user.user_id) if e["kind"] == "reserve"]
    assert len(reserves) == 3
    assert_ledger_balanced(store, user.user_id)


def test_jobs_are_listed_newest_first_with_a_cursor(make_user):
    user = make_user(credits=0)
    ids = [user.client.create_job(f"clip {n}", 5)["jobId"] for n in range(3)]
    first = user.client.jobs(limit=2)
    assert [j["jobId"] for j in first["jobs"]] == ids[::-1][:2]
    second = user.client.jobs(limit=2, cursor=first["nextCursor"])
    assert [j["jobId"] for j in second["jobs"]] == ids[:1]
    assert second.get("nextCursor") is None


def test_another_users_job_is_not_found(make_user):
    owner, other = make_user(credits=0), make_user(credits=0)
    job_id = owner.client.create_job("mine", 5)["jobId"]
    for call in (lambda: other.client.request("GET", f"/jobs/{job_id}"), lambda: other.client.request("POST", f"/jobs/{job_id}/cancel")):
        response = call()
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
