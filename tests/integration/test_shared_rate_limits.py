"""Two instances share one limit: two processes count against the same Firestore counters."""

import json
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

from google.cloud import firestore

from devstack.config import ROOT
from functions.adapters.rate_counter import BATCH_WRITES, FirestoreRateCounter

INSTANCE = """
import json, sys, time
from google.cloud import firestore
from functions.adapters.rate_counter import FirestoreRateCounter
from functions.core.rate_limits import Rule
from functions.http.rate_limits import RateLimited, RateLimiter
from functions.adapters.clerk import Principal
from functions.http.routes import route_for

subject, start_at = sys.argv[1], float(sys.argv[2])
limiter = RateLimiter(FirestoreRateCounter(firestore.Client(project=sys.argv[3])), {"create": Rule("create", 10, 3600)})
while time.time() < start_at:  # both instances begin together
    time.sleep(0.005)
answers = []
for _ in range(15):
    try:
        quota = limiter.check(route_for("create_job"), Principal(subject, False), None)
        answers.append(quota.used)
    except RateLimited as limited:
        answers.append(-limited.quota.used)
print(json.dumps(answers))
"""


def test_two_instances_share_one_create_limit(stack):
    subject = f"user_shared_{uuid.uuid4().hex[:8]}"
    start_at = time.time() + 3
    env = {**stack.emulator_env(), "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    instances = [subprocess.Popen([sys.executable, "-c", INSTANCE, subject, str(start_at), stack.project], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = []
    for instance in instances:
        out, err = instance.communicate(timeout=60)
        assert instance.returncode == 0, err
        results.append(json.loads(out))
    allowed = [used for answers in results for used in answers if used > 0]
    assert sorted(allowed) == list(range(1, 11))  # exactly the limit, across both, each count seen once
    assert sum(1 for answers in results for used in answers if used < 0) == 20  # every other request refused


def test_one_add_commits_more_counters_than_one_batch_holds(stack):
    counter = FirestoreRateCounter(firestore.Client(project=stack.project))
    subject, expires_at = f"ip:batch_{uuid.uuid4().hex[:8]}", datetime.now(UTC) + timedelta(minutes=5)
    increments = {f"{subject}:{n}": (n % 3 + 1, expires_at) for n in range(BATCH_WRITES + 20)}
    assert counter.add(increments) == {key: n for key, (n, _) in increments.items()}
    assert counter.add(increments) == {key: 2 * n for key, (n, _) in increments.items()}  # added, not set
