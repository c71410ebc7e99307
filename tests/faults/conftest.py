"""The fault suite runs on a local stack of its own (its own free port block), configured for
faults: a short RunPod execution timeout and submission lease, so every fault ends within a test's
time. It is up for this package only, and the shared fixtures (``make_user``, ``runpod_control``,
``store``...) point at it, because the session-scoped ones are redefined here by the same names.
"""

import pytest

from cli.api import CineWeaveClient
from devstack import stack as devstack
from devstack.clerk_dev import DevIssuer
from devstack.config import StackConfig, environment, free_base_port
from tests.conftest import TEST_FUNCTION_ENV

FAULT_FUNCTION_ENV = {
    **TEST_FUNCTION_ENV,
    "RUNPOD_EXECUTION_TIMEOUT_S": "5",  # the stand-in's minimum (--min-execution-timeout-ms 5000)
    "SUBMIT_CLAIM_S": "5",  # a submitter killed mid-claim blocks its job this long, not a minute
    "SUBMIT_MAX_ATTEMPTS": "5",
}


@pytest.fixture(scope="package")
def stack_config(tmp_path_factory) -> StackConfig:
    return StackConfig(
        base_port=free_base_port(19080),
        state_dir=tmp_path_factory.mktemp("faultstack"),
        worker="test",
        workers=2,
        webhook_retry_delay_s=0.2,
        function_env=FAULT_FUNCTION_ENV,
    )


@pytest.fixture(scope="package")
def stack(stack_config):
    devstack.up(stack_config)
    try:
        with environment(stack_config.emulator_env()):
            yield stack_config
    finally:
        devstack.down(stack_config)


@pytest.fixture(scope="package")
def issuer(stack) -> DevIssuer:
    return DevIssuer(stack.clerk_keys_dir, stack.clerk_issuer)


@pytest.fixture(scope="package")
def store(stack):
    from google.cloud import firestore

    from functions.store.firestore import FirestoreStore

    return FirestoreStore(firestore.Client(project=stack.project))


@pytest.fixture(scope="package")
def publisher(stack):
    from functions.adapters.pubsub import PubSubPublisher

    return PubSubPublisher(stack.project)


@pytest.fixture(scope="package")
def admin(stack, issuer) -> CineWeaveClient:
    return CineWeaveClient(stack.base_url, issuer.mint("user_admin", azp=stack.base_url, admin=True))
