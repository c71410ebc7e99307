"""Generated contracts are up to date; stopping a service leaves none of its processes behind."""

import os
import subprocess
import sys
import time

from devstack import processes
from schemas import export
from schemas.topics import TOPICS


def test_generated_schemas_match_the_models():
    stale = [name for name, text in export.documents().items() if not (export.GENERATED / name).exists()
             or (export.GENERATED / name).read_text() != text]
    assert stale == [], "run `make schemas`"
    on_disk = {str(p.relative_to(export.GENERATED)) for p in export.GENERATED.rglob("*.json")}
    assert on_disk == set(export.documents()), "a generated file has no model any more"


def test_every_topic_has_an_event_schema_and_every_route_an_operation():
    docs = export.documents()
    assert {f"events/{t.name}.json" for t in TOPICS} <= set(docs)
    assert '"operationId": "create_job"' in docs["openapi.json"]


def test_stop_kills_the_whole_process_group_including_grandchildren(tmp_path):
    # A wrapper that starts a child and is killed alone would leak it, as gcloud leaks java.
    script = "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); time.sleep(60)"
    pid = processes.spawn("wrapper", [sys.executable, "-c", script], dict(os.environ), tmp_path)
    deadline = time.monotonic() + 10
    while not (children := _children_of(pid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert children, "the wrapper did not start its child"
    processes.stop("wrapper", tmp_path)
    assert not processes.alive(pid)
    assert all(not _exists(child) for child in children)
    assert processes.running(tmp_path) == {}


def _children_of(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True).stdout.strip()
    return bool(state) and not state.startswith("Z")
