"""CPU benchmark of the local default: the tiny model, a 5 s 1280x704 clip, the worker's own path.

    python -m worker_image.bench_cpu [--runs 2] [--duration 5] [--size 1280x704]

Runs ``VideoWorker.run`` end to end (prompt encoding, denoising, streamed VAE decode, MP4
encode, file check) with a local folder standing in for the bucket, and prints the time of each
stage, per denoising step, and in total. No network, no weights: ``WAN_WEIGHTS_DIR`` is ignored.
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from schemas.generation import GenerationInput, GenerationProgress
from worker_image.settings import WorkerSettings
from worker_image.worker import VideoWorker


class FolderBucket:
    """A ``storage.Bucket`` on a local folder: 'uploads' copy the MP4 there."""

    def __init__(self, folder: Path):
        self.folder = folder

    def upload_video(self, path: Path, key: str) -> None:
        target = self.folder / key
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)

    def read(self, key: str, max_bytes: int) -> bytes:
        return (self.folder / key).read_bytes()


class StepClock:
    """Records when each denoising step ends, from the worker's own progress updates."""

    def __init__(self):
        self.marks: list[float] = []

    def __call__(self, update: GenerationProgress) -> None:
        if update.step is not None or (update.stage == "denoising" and not self.marks):
            self.marks.append(time.perf_counter())

    def step_times(self) -> list[float]:
        return [later - earlier for earlier, later in zip(self.marks, self.marks[1:])]


def run_once(worker: VideoWorker, duration: int, seed: int) -> tuple[dict[str, float], list[float]]:
    clock = StepClock()
    request = GenerationInput(job_id=f"bench-{seed}", prompt="a lighthouse at dusk, waves crashing",
                              duration_sec=duration, seed=seed, output_key=f"videos/bench-{seed}.mp4")
    cpu_started = time.process_time()
    output = worker.run(request, on_progress=clock)
    # CPU seconds of all the process's threads: with idle cores about 2x the wall time of the
    # parallel stages; when other processes compete for the cores, wall time grows, this does not.
    return {**output.timings, "processCpuS": time.process_time() - cpu_started}, clock.step_times()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=2, help="timed runs (the table shows the median)")
    parser.add_argument("--duration", type=int, choices=[5, 10, 15], default=5)
    parser.add_argument("--size", default="1280x704", help="landscape WIDTHxHEIGHT")
    parser.add_argument("--stock-kernels", action="store_true", help="diffusers' own CPU conv3d/norm (slower)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: one per core)")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.split("x"))

    with tempfile.TemporaryDirectory() as folder:
        settings = WorkerSettings(wan_weights_dir=Path(folder) / "no-weights", wan_tiny_fallback=True,
                                  wan_device="cpu", video_width=width, video_height=height,
                                  wan_tiny_cpu_kernels=not args.stock_kernels, worker_torch_threads=args.threads)
        worker = VideoWorker(settings, bucket=FolderBucket(Path(folder)))
        started = time.perf_counter()
        worker.setup()
        setup_s = time.perf_counter() - started
        runs = [run_once(worker, args.duration, seed) for seed in range(args.runs)]

    stages = sorted({name for timings, _ in runs for name in timings}, key=list(runs[0][0]).index)
    steps = [step for _, step_times in runs for step in step_times]
    print(f"\nCPU: {torch.get_num_threads()} torch threads | {worker.model.label} | {args.size} x "
          f"{args.duration} s ({args.duration * 24 + 1} frames) | {worker.model.steps} steps | "
          f"x264 {settings.video_x264_preset} | {'stock' if args.stock_kernels else 'cpu_kernels'} VAE kernels | "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')} | model setup {setup_s:.2f} s | median of {args.runs} runs")
    print("| stage | seconds |")
    print("| --- | ---: |")
    for name in stages:
        print(f"| {name.removesuffix('S')} | {statistics.median(t.get(name, 0.0) for t, _ in runs):.2f} |")
    print(f"| denoise, per step | {statistics.median(steps):.2f} |")


if __name__ == "__main__":
    sys.exit(main())
