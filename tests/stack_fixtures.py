"""The local-stack fixtures, written once for any scope.

The root conftest makes them session-wide; a suite that needs a differently configured stack
(tests/faults) makes its own package-wide set with the same names, which then win there.
"""

from collections.abc import Callable

import pytest

from cli.api import CineWeaveClient
from devstack import stack as devstack
from devstack.clerk_dev import DevIssuer
from devstack.config import StackConfig, environment


def stack_fixtures(scope: str, make_config: Callable[[pytest.TempPathFactory], StackConfig]) -> tuple:
    """``stack_config, stack, issuer, store, publisher, admin`` fixtures of ``scope``."""

    @pytest.fixture(scope=scope)
    def stack_config(tmp_path_factory) -> StackConfig:
        return make_config(tmp_path_factory)

    @pytest.fixture(scope=scope)
    def stack(stack_config):
        devstack.up(stack_config)
        try:
            with environment(stack_config.emulator_env()):
                yield stack_config
        finally:
            devstack.down(stack_config)

    @pytest.fixture(scope=scope)
    def issuer(stack) -> DevIssuer:
        return DevIssuer(stack.clerk_keys_dir, stack.clerk_issuer)

    @pytest.fixture(scope=scope)
    def store(stack):
        from google.cloud import firestore

        from functions.store.firestore import FirestoreStore

        return FirestoreStore(firestore.Client(project=stack.project))

    @pytest.fixture(scope=scope)
    def publisher(stack):
        from functions.adapters.pubsub import PubSubPublisher

        return PubSubPublisher(stack.project)

    @pytest.fixture(scope=scope)
    def admin(stack, issuer) -> CineWeaveClient:
        return CineWeaveClient(stack.base_url, issuer.token_source("user_admin", azp=stack.base_url, admin=True))

    return stack_config, stack, issuer, store, publisher, admin
