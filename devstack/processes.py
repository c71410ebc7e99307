"""Starts local services in their own process groups and stops them without leaving any behind.

The gcloud emulator wrappers leave their java child running when killed alone, so every service
is started with ``setsid`` and stopped by signalling its whole group.
"""

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import requests


_children: dict[int, subprocess.Popen] = {}  # ours to reap, so a killed child is no zombie


def spawn(name: str, argv: list[str], env: dict[str, str], state_dir: Path, cwd: Path | None = None) -> int:
    logs = state_dir / "logs"
    pids = state_dir / "pids"
    logs.mkdir(parents=True, exist_ok=True)
    pids.mkdir(parents=True, exist_ok=True)
    with open(logs / f"{name}.log", "ab") as log:
        process = subprocess.Popen(
            argv, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    (pids / f"{name}.pid").write_text(str(process.pid))
    _children[process.pid] = process
    return process.pid


def running(state_dir: Path) -> dict[str, int]:
    pids = state_dir / "pids"
    found = {}
    for pid_file in sorted(pids.glob("*.pid")) if pids.exists() else []:
        pid = int(pid_file.read_text())
        if alive(pid):
            found[pid_file.stem] = pid
    return found


def stop(name: str, state_dir: Path, sig: int = signal.SIGTERM, timeout_s: float = 10.0) -> None:
    pid_file = state_dir / "pids" / f"{name}.pid"
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text())
    _signal_group(pid, sig)
    deadline = time.monotonic() + timeout_s
    while group_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    _signal_group(pid, signal.SIGKILL)
    pid_file.unlink(missing_ok=True)


def stop_all(state_dir: Path) -> None:
    pids = state_dir / "pids"
    for pid_file in sorted(pids.glob("*.pid")) if pids.exists() else []:
        stop(pid_file.stem, state_dir)


def wait_until(check: Callable[[], bool], timeout_s: float, what: str, interval_s: float = 0.1) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval_s)
    raise TimeoutError(f"{what} did not come up within {timeout_s:.0f} s")


def answers(url: str, ok_statuses: tuple[int, ...] | None = (200,)) -> Callable[[], bool]:
    """A check that ``url`` answers (with one of ``ok_statuses``; None: any HTTP answer)."""

    def check() -> bool:
        try:
            status = requests.get(url, timeout=1).status_code
        except requests.RequestException:
            return False
        return ok_statuses is None or status in ok_statuses

    return check


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def alive(pid: int) -> bool:
    """The process has not exited (a child of ours that exited is reaped here, not left a zombie)."""
    if pid in _children:
        return _children[pid].poll() is None
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def group_alive(pgid: int) -> bool:
    """Any process of the group still running? Zombies don't count: an orphan's zombie lingers
    until init reaps it, and waiting for that would stall every `make down`."""
    if pgid in _children and _children[pgid].poll() is not None:
        _children.pop(pgid)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False
