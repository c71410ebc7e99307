"""Small helpers shared by the tests: waiting on conditions, and the ledger invariant."""

import time
from collections.abc import Callable
from typing import Any, TypeVar

import requests

from functions.core.paths import JOBS, ledger_collection, user_path
from functions.store import Query

T = TypeVar("T")


def wait_until(condition: Callable[[], T], timeout_s: float = 30, interval_s: float = 0.05, what: str = "condition") -> T:
    """Poll ``condition`` until it returns something truthy; fail the test past the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(interval_s)


def ledger_of(store, user_id: str) -> list[dict]:
    return [data for _, data in store.query(Query(ledger_collection(user_id)))]


def assert_ledger_balanced(store, user_id: str) -> None:
    """balance == sum of the ledger, and every reserved job that ended has one settle or one refund."""
    user = store.get(user_path(user_id)) or {"balance": 0}
    entries = ledger_of(store, user_id)
    assert user["balance"] == sum(e["amount"] for e in entries), (user, entries)
    ids = {e["entryId"] for e in entries}
    jobs = [data for _, data in store.query(Query(JOBS, where=[("userId", "==", user_id)]))]
    for job in jobs:
        reserved = f"reserve:{job['jobId']}" in ids
        endings = {f"settle:{job['jobId']}", f"refund:{job['jobId']}"} & ids
        if job["status"] in ("done", "expired"):
            assert reserved and endings == {f"settle:{job['jobId']}"}, job
        elif job["status"] in ("failed", "canceled"):
            assert endings == ({f"refund:{job['jobId']}"} if reserved else set()), job
        elif job["status"] in ("pending", "rejected"):
            assert not reserved and not endings, job
        else:
            assert reserved and not endings, job


class StandInControls:
    """The ``/_control`` endpoints of a local stand-in (RunPod, TrueLayer)."""

    def __init__(self, base_url: str) -> None:
        self._base = f"{base_url}/_control"

    def post(self, path: str, **body: Any) -> Any:
        response = requests.post(f"{self._base}/{path}", json=body, timeout=5)
        response.raise_for_status()
        return response.json()

    def get(self, path: str) -> Any:
        response = requests.get(f"{self._base}/{path}", timeout=5)
        response.raise_for_status()
        return response.json()

    def reset(self) -> "StandInControls":
        self.post("reset")
        return self
