"""A job RunPod stops (cancel, timeout) stops generating at the next step, and frees the GPU."""

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

from worker_image.handler import cancellable


class EndlessWorker:
    """Reports progress forever, like a long generation, until the progress callback refuses."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.stopped = threading.Event()
        self.steps = 0
        self.released = 0

    def run(self, request, on_progress):
        self.started.set()
        try:
            while True:
                self.steps += 1
                on_progress(_Update(self.steps))
        finally:
            self.stopped.set()

    def release_memory(self) -> None:
        self.released += 1


class _Update:
    def __init__(self, step: int) -> None:
        self.step = step

    def to_wire(self) -> dict:
        return {"stage": "denoising", "percent": 50, "step": self.step, "steps": 50}


def run_in_own_loop(make_coroutine):
    """asyncio.run on a thread of its own: another test may leave a loop running on this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(make_coroutine())).result(timeout=30)


JOB = {"id": "rp-1", "input": {"jobId": "job_1", "prompt": "a long take", "durationSec": 5, "outputKey": "videos/job_1.mp4"}}


def test_cancelling_the_task_stops_the_generation_between_steps_and_frees_the_gpu():
    worker = EndlessWorker()
    handler = cancellable(worker, send_progress=lambda job, payload: None)

    async def scenario() -> None:
        task = asyncio.create_task(handler(JOB))
        await asyncio.to_thread(worker.started.wait, 10)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass

    run_in_own_loop(scenario)
    assert worker.stopped.wait(10), "the generation kept running after the job was stopped"
    assert worker.released == 1  # the crash path released GPU memory for the next job


def test_a_job_that_is_not_stopped_runs_to_its_result():
    class OneStep(EndlessWorker):
        def run(self, request, on_progress):
            on_progress(_Update(1))

            class Output:
                def to_wire(self):
                    return {"r2Key": "videos/job_1.mp4"}

            return Output()

    updates = []
    handler = cancellable(OneStep(), send_progress=lambda job, payload: updates.append(payload))
    result = run_in_own_loop(lambda: handler(JOB))
    assert result == {"r2Key": "videos/job_1.mp4"} and updates[0]["step"] == 1
