"""Shared fixtures. The local stack starts once per session, on its own ports, only if a test needs it."""

import uuid
from dataclasses import dataclass

import pytest

from cli.api import CineWeaveClient
from devstack.config import StackConfig, free_base_port
from tests.helpers import StandInControls
from tests.stack_fixtures import stack_fixtures

TEST_FUNCTION_ENV = {
    "RECONCILE_AFTER_S": "1",
    "REPUBLISH_AFTER_S": "2",
    "SUBMIT_MAX_ATTEMPTS": "3",
    "CLERK_JWKS_MIN_REFRESH_INTERVAL_S": "0",
    "RUNPOD_STATUS_CACHE_S": "0.2",
    "BLOCKED_TERMS": "forbiddenword,another banned phrase",
    "VIDEO_TTL_HOURS": "0.003",  # 10.8 s: the expiry path runs inside a test
    "IMAGE_FETCH_TIMEOUT_S": "1",  # a trickling imageUrl server is cut off inside a test
    "WEBHOOK_RETRY_SCHEDULE_S": "1,1,1",  # retries on the next webhook tick, not minutes later
    "JOB_EVENTS_POLL_S": "0.2",
    "JOB_EVENTS_KEEPALIVE_S": "1",
    # Every test calls from 127.0.0.1 and polls fast: limits high enough never to be met by
    # accident, except creates, which tests/e2e/test_rate_limits.py drives past theirs.
    "RATE_LIMIT_READS_PER_SECOND": "1000",
    "RATE_LIMIT_CREATES_PER_MINUTE": "30",
    "RATE_LIMIT_WRITES_PER_MINUTE": "1000",
    "RATE_LIMIT_PAYMENT_LINKS_PER_HOUR": "1000",
    "RATE_LIMIT_ANONYMOUS_PER_SECOND": "1000",
    "RATE_LIMIT_CALLBACKS_PER_SECOND": "1000",
}


stack_config, stack, issuer, store, publisher, admin = stack_fixtures(
    "session",
    lambda tmp: StackConfig(
        base_port=free_base_port(18080),
        state_dir=tmp.mktemp("devstack"),
        worker="test",
        workers=2,
        webhook_retry_delay_s=0.2,
        function_env=TEST_FUNCTION_ENV,
    ),
)


@dataclass
class User:
    user_id: str
    client: CineWeaveClient


@pytest.fixture
def make_user(stack, issuer, admin):
    """A fresh user (unique id, so tests never share state), optionally holding credits."""

    def make(credits: int = 0) -> User:
        user_id = f"user_{uuid.uuid4().hex[:12]}"
        client = CineWeaveClient(stack.base_url, issuer.token_source(user_id, azp=stack.base_url))
        if credits:
            admin.grant(user_id, credits)
        return User(user_id, client)

    return make


@pytest.fixture
def receiver():
    """A webhook receiver on loopback that records every request (``tests/webhook_receiver.py``)."""
    from tests.webhook_receiver import Receiver

    made = Receiver()
    yield made
    made.close()


@pytest.fixture
def runpod_control(stack):
    """The RunPod stand-in's fault controls, reset before the test."""
    return StandInControls(stack.runpod_url).reset()
