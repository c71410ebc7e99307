"""Shared fixtures. The local stack starts once per session, on its own ports, only if a test needs it."""

import uuid
from dataclasses import dataclass

import pytest

from cli.api import CineWeaveClient
from devstack import stack as devstack
from devstack.clerk_dev import DevIssuer
from devstack.config import StackConfig, environment, free_base_port
from tests.helpers import StandInControls

TEST_FUNCTION_ENV = {
    "RECONCILE_AFTER_S": "1",
    "REPUBLISH_AFTER_S": "2",
    "SUBMIT_MAX_ATTEMPTS": "3",
    "CLERK_JWKS_MIN_REFRESH_INTERVAL_S": "0",
    "RUNPOD_STATUS_CACHE_S": "0.2",
    "BLOCKED_TERMS": "forbiddenword,another banned phrase",
    "VIDEO_TTL_HOURS": "0.003",  # 10.8 s: the expiry path runs inside a test
}


@pytest.fixture(scope="session")
def stack_config(tmp_path_factory) -> StackConfig:
    return StackConfig(
        base_port=free_base_port(18080),
        state_dir=tmp_path_factory.mktemp("devstack"),
        worker="test",
        workers=2,
        webhook_retry_delay_s=0.2,
        function_env=TEST_FUNCTION_ENV,
    )


@pytest.fixture(scope="session")
def stack(stack_config):
    devstack.up(stack_config)
    try:
        with environment(stack_config.emulator_env()):
            yield stack_config
    finally:
        devstack.down(stack_config)


@pytest.fixture(scope="session")
def issuer(stack) -> DevIssuer:
    return DevIssuer(stack.clerk_keys_dir, stack.clerk_issuer)


@pytest.fixture(scope="session")
def store(stack):
    from google.cloud import firestore

    from functions.store.firestore import FirestoreStore

    return FirestoreStore(firestore.Client(project=stack.project))


@pytest.fixture(scope="session")
def publisher(stack):
    from functions.adapters.pubsub import PubSubPublisher

    return PubSubPublisher(stack.project)


@dataclass
class User:
    user_id: str
    client: CineWeaveClient


@pytest.fixture(scope="session")
def admin(stack, issuer) -> CineWeaveClient:
    return CineWeaveClient(stack.base_url, issuer.mint("user_admin", azp=stack.base_url, admin=True))


@pytest.fixture
def make_user(stack, issuer, admin):
    """A fresh user (unique id, so tests never share state), optionally holding credits."""

    def make(credits: int = 0) -> User:
        user_id = f"user_{uuid.uuid4().hex[:12]}"
        client = CineWeaveClient(stack.base_url, issuer.mint(user_id, azp=stack.base_url))
        if credits:
            admin.grant(user_id, credits)
        return User(user_id, client)

    return make


@pytest.fixture
def runpod_control(stack):
    """The RunPod stand-in's fault controls, reset before the test."""
    return StandInControls(stack.runpod_url).reset()
