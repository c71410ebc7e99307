"""API keys end to end on the local stack: a key made through the API creates a job; revoked, it is a 401."""

import requests

from cineweave_client import ApiError, Client
from tests.helpers import wait_until


def test_a_key_created_through_the_api_creates_a_job_and_once_revoked_gets_401(make_user, stack):
    user = make_user(credits=1)
    owner = Client(stack.base_url, user.client.token)
    created = owner.create_key("render farm")
    robot = Client(stack.base_url, created.key)
    job = robot.poll(robot.create("a tram through autumn leaves", 5).job_id, timeout_s=120, interval_s=0.1)
    assert job.status.value == "done" and job.r2_url
    assert [j.job_id for j in owner.list().jobs] == [job.job_id]  # the key acted as its user
    assert owner.list_keys().keys[0].last_used_at is not None

    try:
        robot.create_key("a key making keys")
        raise AssertionError("an API key created a key")
    except ApiError as refused:
        assert (refused.status, refused.code) == (403, "session_required")

    owner.revoke_key(created.key_id)
    # Cloud Run runs several instances and each may have the key cached: the promise is "refused
    # everywhere within API_KEY_CACHE_S" (1 s here), not at once, so the test waits that long at most.
    refused = wait_until(lambda: (r := requests.get(f"{stack.base_url}/jobs/{job.job_id}", timeout=10,
                                                     headers={"Authorization": f"Bearer {created.key}"})).status_code == 401
                         and r.json(), timeout_s=5, interval_s=0.2, what="the revoked key to be refused")
    assert refused["error"]["code"] == "unauthorized"
    assert owner.list_keys().keys == []
    wait_until(lambda: owner.get(job.job_id).status.value == "done", what="the owner to still read the job")
