"""A one-line progress bar for a job being followed from the terminal."""

from typing import TextIO

from schemas.api import JobView
from schemas.jobs import JobStatus

WIDTH = 30


class ProgressBar:
    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._last = ""

    def update(self, job: JobView) -> None:
        progress = job.progress
        percent = 100 if job.status is JobStatus.DONE else int(progress.percent if progress else 0)
        stage = progress.describe() if progress else ""
        if job.queue_position is not None:
            eta = f", about {job.eta_seconds} s" if job.eta_seconds is not None else ""
            stage = f"{job.queue_position} ahead in the queue{eta}"
        filled = WIDTH * percent // 100
        line = f"\r[{'#' * filled}{'.' * (WIDTH - filled)}] {percent:3d}% {job.status.value:<8} {stage:<36}"
        if line != self._last:
            self._out.write(line)
            self._out.flush()
            self._last = line

    def close(self) -> None:
        self._out.write("\n")
        self._out.flush()
