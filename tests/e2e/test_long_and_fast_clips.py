"""A 15 s clip and a fast clip through HTTP on the local stack, settled against the ledger."""

from cli.api import TERMINAL
from tests.helpers import assert_ledger_balanced, ledger_of, wait_until


def _ended(user, job_id: str) -> dict:
    return wait_until(lambda: (j := user.client.job(job_id))["status"] in TERMINAL and j, what="the job to end")


def test_a_15_s_job_settles_with_3_credits_charged(make_user, store):
    user = make_user(credits=5)

    job = _ended(user, user.client.create_job("a harbour at dawn, three shots", 15, seed=3)["jobId"])

    assert job["status"] == "done", job
    assert (job["credits"], job["quality"], job["video"]["frames"]) == (3, "standard", 361)
    assert user.client.credits()["balance"] == 2
    assert sum(e["amount"] for e in ledger_of(store, user.user_id) if e.get("jobId") == job["jobId"]) == -3
    assert_ledger_balanced(store, user.user_id)


def test_a_fast_job_is_accepted_where_deployed_and_shown_as_fast(make_user, store):
    user = make_user(credits=2)

    job = _ended(user, user.client.create_job("a paper boat", 10, quality="fast")["jobId"])

    assert job["status"] == "done", job
    assert (job["quality"], job["credits"]) == ("fast", 2)
    assert user.client.credits()["balance"] == 0
    assert_ledger_balanced(store, user.user_id)
