"""`make up` twice in a row works, answers quickly, and `make down` leaves no process behind."""

import time

import pytest
import requests

from devstack import processes, stack
from devstack.config import StackConfig, free_base_port


@pytest.fixture
def spare_stack(tmp_path):
    config = StackConfig(base_port=free_base_port(26080), state_dir=tmp_path, worker="none")
    yield config
    stack.down(config)


def test_up_twice_then_down_leaves_nothing_running(spare_stack):
    for _ in range(2):
        started = time.monotonic()
        stack.up(spare_stack)
        assert time.monotonic() - started < 60
        assert requests.get(f"{spare_stack.base_url}/plans", timeout=5).status_code == 200
    pids = processes.running(spare_stack.state_dir)
    assert {"pubsub", "firestore", "s3", "clerk", "runpod", "events", "gateway"} <= set(pids)
    stack.down(spare_stack)
    assert processes.running(spare_stack.state_dir) == {}
    assert not any(processes.group_alive(pid) for pid in pids.values())
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{spare_stack.base_url}/plans", timeout=2)
