"""RunPod entry point: ``python -m worker_image.handler`` runs the SDK's worker loop.

The handler is glue only: parse the job input, run the worker, map failures to RunPod's
``{"error": "..."}`` (the job ends FAILED). A failed job never takes the worker down: GPU memory
is released and the next job starts clean.

The SDK runs the handler as an asyncio task and cancels that task when RunPod stops the job
(cancel, timeout). A synchronous handler would block the SDK's loop and never see the stop, so
the GPU would finish a video nobody will pay for. ``cancellable`` runs the generation in a thread
and turns the task's cancellation into a stop flag checked at every progress update, i.e. after
each denoising step, in whichever segment of the clip runs.
"""

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

import runpod
import torch
from pydantic import ValidationError

from schemas.generation import GenerationInput, failure_text
from worker_image.errors import ContentRefused, InvalidInput, ProfileUnavailable
from worker_image.settings import WorkerSettings
from worker_image.worker import VideoWorker

log = logging.getLogger(__name__)

Job = dict[str, Any]
SendProgress = Callable[[Job, dict], None]


def make_handler(worker: VideoWorker, send_progress: SendProgress = runpod.serverless.progress_update):
    def handler(job: Job) -> dict:
        try:
            request = GenerationInput.model_validate(job.get("input") or {})
        except ValidationError as exc:
            return {"error": f"invalid input: {_describe(exc)}"}
        try:
            output = worker.run(request, on_progress=lambda update: send_progress(job, update.to_wire()))
        except InvalidInput as exc:
            return {"error": f"invalid input: {exc}"}
        except ContentRefused as exc:
            log.warning("job %s refused by moderation: %s", request.job_id, exc.message)
            return {"error": failure_text(exc.code, exc.message)}
        except ProfileUnavailable as exc:
            return {"error": f"profile unavailable: {exc}"}
        except Exception as exc:
            log.exception("job %s failed", request.job_id)
            error = _crash_message(exc)
        else:
            return output.to_wire()
        # Out of the except block, the traceback and the tensors its frames held are gone.
        worker.release_memory()
        return {"error": error}

    return handler


class JobStopped(Exception):
    """RunPod stopped the job (canceled or timed out): abandon the generation at the next step."""


def cancellable(worker: VideoWorker, send_progress: SendProgress = runpod.serverless.progress_update):
    """The async handler the SDK runs: ``make_handler``'s work in a thread, stoppable between steps."""
    one_at_a_time = threading.Lock()  # a stopping generation must leave the GPU before the next starts

    async def handler(job: Job) -> dict:
        stop = threading.Event()

        def progress(job: Job, payload: dict) -> None:
            if stop.is_set():
                raise JobStopped(f"job {job.get('id')} was stopped")
            send_progress(job, payload)

        run_one = make_handler(worker, send_progress=progress)

        def run_locked() -> dict:
            with one_at_a_time:
                return run_one(job)

        try:
            return await asyncio.to_thread(run_locked)
        except asyncio.CancelledError:
            stop.set()
            raise

    return handler


def _crash_message(exc: Exception) -> str:
    if isinstance(exc, torch.OutOfMemoryError):
        return f"out of GPU memory: {str(exc).splitlines()[0]}"
    return f"worker error: {type(exc).__name__}: {exc}"


def _describe(exc: ValidationError) -> str:
    """One line per problem, naming the field as the wire spells it (``durationSec: ...``)."""
    problems = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"]) or "input"
        problems.append(f"{where}: {error['msg']}")
    return "; ".join(problems)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    worker = VideoWorker(WorkerSettings())
    worker.setup()
    log.info("model ready: %s on %s; fast profile: %s", worker.model.label, worker.model.device,
             worker.fast_model.label if worker.fast_model else "not deployed")
    runpod.serverless.start({"handler": cancellable(worker)})


if __name__ == "__main__":
    main()
