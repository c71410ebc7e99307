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
    answer = requests.get(f"{stack.base_url}/jobs/{job.job_id}", headers={"Authorization": f"Bearer {created.key}"}, timeout=10)
    assert (answer.status_code, answer.json()["error"]["code"]) == (401, "unauthorized")
    assert owner.list_keys().keys == []
    wait_until(lambda: owner.get(job.job_id).status.value == "done", what="the owner to still read the job")
