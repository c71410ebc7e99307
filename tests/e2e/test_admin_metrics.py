"""GET /admin/metrics on the local stack: jobs driven through the real pipeline and worker loop."""

import requests

from cli.api import TERMINAL
from tests.helpers import wait_until


def _ended(user, job_id: str) -> dict:
    return wait_until(lambda: (j := user.client.job(job_id))["status"] in TERMINAL and j, what=f"{job_id} to end")


def test_metrics_count_what_the_pipeline_settled_and_only_admins_read_them(make_user, admin, stack):
    before = admin.json("GET", "/admin/metrics?days=2")
    user = make_user(credits=3)
    done = _ended(user, user.client.create_job("a harbour at dawn", 5)["jobId"])
    failed = _ended(user, user.client.create_job("a harbour at dusk [fail]", 5)["jobId"])
    assert (done["status"], failed["status"]) == ("done", "failed")

    after = admin.json("GET", "/admin/metrics?days=2")
    assert after["success"]["done"] == before["success"]["done"] + 1
    assert after["success"]["failed"] == before["success"]["failed"] + 1
    assert any(code["code"] == "generation_failed" for code in after["success"]["failureCodes"])
    assert after["refunds"] == before["refunds"] + 1
    h100 = lambda report: next((g for g in report["byGpu"] if g["gpuType"] == "H100"), {"clips": 0, "costUsd": 0})  # noqa: E731
    assert h100(after)["clips"] == h100(before)["clips"] + 1 and h100(after)["pricePerSecondUsd"] == 0.00116
    five = next(g for g in after["generation"] if g["durationSec"] == 5 and g["quality"] == "standard")
    assert five["totalP50S"] > 0 and five["targetP50S"] == 60
    assert {t["key"] for t in after["targets"]} >= {"generation_p50_5s", "success_rate", "week2_retention", "dead_letters"}
    # The user signed up this week: their cohort counts them (server-side counts, no user read).
    assert sum(c["users"] for c in after["retention"]) == sum(c["users"] for c in before["retention"]) + 1
    assert 0 < after["documentsRead"] <= 2 * 8 + 60

    assert requests.get(f"{stack.base_url}/admin/metrics", timeout=10).status_code == 401
    assert user.client.request("GET", "/admin/metrics").status_code == 403
    # GET /credits answers from the user document alone, entries newest first.
    assert [e["kind"] for e in user.client.credits()["entries"]][:2] == ["refund", "reserve"]
