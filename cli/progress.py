"""A one-line progress bar for a job being followed from the terminal."""

from typing import Any, TextIO

WIDTH = 30


class ProgressBar:
    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._last = ""

    def update(self, job: dict[str, Any]) -> None:
        progress = job.get("progress") or {}
        percent = 100 if job["status"] == "done" else int(progress.get("percent", 0))
        stage = progress.get("stage", "")
        if progress.get("step") and progress.get("steps"):
            stage = f"{stage} {progress['step']}/{progress['steps']}"
        filled = WIDTH * percent // 100
        line = f"\r[{'#' * filled}{'.' * (WIDTH - filled)}] {percent:3d}% {job['status']:<8} {stage:<24}"
        if line != self._last:
            self._out.write(line)
            self._out.flush()
            self._last = line

    def close(self) -> None:
        self._out.write("\n")
        self._out.flush()
