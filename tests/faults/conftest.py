"""The fault suite runs on a local stack of its own (its own free port block), configured for
faults: a short RunPod execution timeout and submission lease, so every fault ends within a test's
time. It is up for this package only, and the shared fixtures (``make_user``, ``runpod_control``,
``store``...) point at it, because the session-scoped ones are redefined here by the same names.
"""

from devstack.config import StackConfig, free_base_port
from tests.conftest import TEST_FUNCTION_ENV
from tests.stack_fixtures import stack_fixtures

FAULT_FUNCTION_ENV = {
    **TEST_FUNCTION_ENV,
    "RUNPOD_EXECUTION_TIMEOUT_S": "5",  # the stand-in's minimum (--min-execution-timeout-ms 5000)
    "SUBMIT_CLAIM_S": "5",  # a submitter killed mid-claim blocks its job this long, not a minute
    "SUBMIT_MAX_ATTEMPTS": "5",
    "WEBHOOK_TIMEOUT_S": "2",  # a hung receiver is given up on after this
    # As in devstack.soak: the small soak here kills the events host, whose in-flight payment events
    # the emulator drops; the payments reconciler must repair them within the run, not after 10 min.
    "PAYMENT_RECONCILE_AFTER_S": "5",
}


stack_config, stack, issuer, store, publisher, admin = stack_fixtures(
    "package",
    lambda tmp: StackConfig(
        base_port=free_base_port(19080),
        state_dir=tmp.mktemp("faultstack"),
        worker="test",
        workers=2,
        webhook_retry_delay_s=0.2,
        function_env=FAULT_FUNCTION_ENV,
    ),
)
