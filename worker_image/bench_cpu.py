"""CPU benchmark of the local default: the tiny model, 5 / 10 / 15 s clips at 1280x704, side by side.

    python -m worker_image.bench_cpu [--runs 1] [--durations 5 10 15] [--size 1280x704] [--quality standard]

Runs ``VideoWorker.run`` end to end (prompt encoding, denoising of every segment, streamed VAE
decode, MP4 encode, file check) with a local folder standing in for the bucket. Each clip runs in
a fresh process, so its peak RSS is its own; the durations alternate within each round, so a
noisy machine slows them alike. It prints the time of each stage per duration, the ratios to
the 5 s clip, and the issue's floors. No network, no weights: ``WAN_WEIGHTS_DIR`` is ignored.
"""

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from schemas.generation import GenerationInput, GenerationProgress
from schemas.jobs import frames_for
from worker_image.settings import WorkerSettings
from worker_image.worker import VideoWorker

# The floors, as ratios of a 15 s (or 10 s) clip to a 5 s one, measured in one run.
# Each is checked on wall seconds and on process CPU seconds (``...CpuS``): on a shared machine
# the wall ratios carry the other processes' load, the CPU ones only this clip's work.
FLOORS = (
    ("denoise", 15, 3.3), ("denoise", 10, 2.2), ("total", 15, 3.7),
    ("denoiseCpuS", 15, 3.3), ("denoiseCpuS", 10, 2.2), ("processCpuS", 15, 3.7),
    ("peakRssMb", 15, 1.2),
)


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

    def download(self, key: str, path: Path) -> None:
        shutil.copyfile(self.folder / key, path)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        target = self.folder / key
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


class StepClock:
    """Records when each denoising step ends, from the worker's own progress updates, in wall and
    in process CPU seconds (which other processes on the cores do not inflate)."""

    def __init__(self):
        self.marks: list[list[tuple[float, float]]] = []  # one list per segment's denoising

    def __call__(self, update: GenerationProgress) -> None:
        mark = (time.perf_counter(), time.process_time())
        if update.stage == "denoising" and update.step is None:
            self.marks.append([mark])
        elif update.step is not None:
            self.marks[-1].append(mark)

    def step_times(self) -> list[float]:
        return [later[0] - earlier[0] for marks in self.marks for earlier, later in zip(marks, marks[1:])]

    def denoise_cpu_s(self) -> float:
        """CPU seconds from the start of each segment's denoising to its last step."""
        return sum(marks[-1][1] - marks[0][1] for marks in self.marks)


def run_one(duration: int, seed: int, size: str, quality: str, stock_kernels: bool, threads: int) -> dict:
    """One clip in this process: its stage timings, step times, model facts and peak RSS."""
    width, height = (int(v) for v in size.split("x"))
    with tempfile.TemporaryDirectory() as folder:
        settings = WorkerSettings(wan_weights_dir=Path(folder) / "no-weights", wan_tiny_fallback=True,
                                  wan_device="cpu", video_width=width, video_height=height,
                                  wan_tiny_cpu_kernels=not stock_kernels, worker_torch_threads=threads)
        worker = VideoWorker(settings, bucket=FolderBucket(Path(folder)))
        started = time.perf_counter()
        worker.setup()
        setup_s = time.perf_counter() - started
        clock = StepClock()
        request = GenerationInput(job_id=f"bench-{seed}", prompt="a lighthouse at dusk, waves crashing",
                                  duration_sec=duration, seed=seed, output_key=f"videos/bench-{seed}.mp4",
                                  quality=quality)
        cpu_started = time.process_time()
        output = worker.run(request, on_progress=clock)
        model = worker.model_for(request.quality)
    return {
        "timings": {name.removesuffix("S"): value for name, value in output.timings.items()},
        # CPU seconds of all the process's threads: when other processes compete for the cores,
        # wall time grows, this does not.
        "processCpuS": time.process_time() - cpu_started,
        "stepS": clock.step_times(),
        "denoiseCpuS": clock.denoise_cpu_s(),
        "peakRssMb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "setupS": setup_s,
        "model": model.label,
        "steps": model.steps,
        "threads": torch.get_num_threads(),
    }


def _child(args: argparse.Namespace, duration: int, seed: int) -> dict:
    command = [sys.executable, "-m", "worker_image.bench_cpu", "--child", "--durations", str(duration),
               "--seed", str(seed), "--size", args.size, "--quality", args.quality, "--threads", str(args.threads)]
    if args.stock_kernels:
        command.append("--stock-kernels")
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def summarise(results: dict[int, list[dict]]) -> dict[int, dict[str, float]]:
    """Median per duration of each stage, the step time, the process CPU time and the peak RSS."""
    summary = {}
    for duration, runs in results.items():
        stages = {name for run in runs for name in run["timings"]}
        row = {name: statistics.median(run["timings"].get(name, 0.0) for run in runs) for name in stages}
        row["step"] = statistics.median(step for run in runs for step in run["stepS"])
        row["processCpuS"] = statistics.median(run["processCpuS"] for run in runs)
        row["denoiseCpuS"] = statistics.median(run["denoiseCpuS"] for run in runs)
        row["peakRssMb"] = statistics.median(run["peakRssMb"] for run in runs)
        summary[duration] = row
    return summary


def floor_lines(summary: dict[int, dict[str, float]]) -> list[str]:
    """Each floor of the issue against the measured ratio: ``met`` or ``SHORT``."""
    lines = []
    for name, duration, limit in FLOORS:
        if 5 in summary and duration in summary:
            ratio = summary[duration][name] / summary[5][name]
            verdict = "met" if ratio <= limit else "SHORT"
            lines.append(f"| {name} {duration} s / 5 s | {ratio:.2f}x | <= {limit}x | {verdict} |")
    return lines


def print_table(summary: dict[int, dict[str, float]], first: dict, args: argparse.Namespace) -> None:
    durations = sorted(summary)
    print(f"\nCPU: {os.cpu_count()} cores, {first['threads']} torch threads | {first['model']} | {args.size} | "
          f"{first['steps']} steps a segment | {args.quality} | "
          f"{'stock' if args.stock_kernels else 'cpu_kernels'} VAE kernels | load average "
          f"{os.getloadavg()[0]:.1f} | median of {args.runs} run(s), one process per clip, durations interleaved")
    print("| stage | " + " | ".join(f"{d} s ({frames_for(d)} frames)" for d in durations) + " |")
    print("| --- |" + " ---: |" * len(durations))
    order = ["loadImage", "encodePrompt", "denoise", "decode", "encodeVideo", "verifyVideo", "upload", "total"]
    for name in [n for n in order if n in summary[durations[0]]]:
        print(f"| {name} | " + " | ".join(f"{summary[d].get(name, 0.0):.2f}" for d in durations) + " |")
    print("| denoise, per step | " + " | ".join(f"{summary[d]['step']:.2f}" for d in durations) + " |")
    print("| denoise, process CPU s | " + " | ".join(f"{summary[d]['denoiseCpuS']:.2f}" for d in durations) + " |")
    print("| end to end, process CPU s | " + " | ".join(f"{summary[d]['processCpuS']:.1f}" for d in durations) + " |")
    print("| peak RSS MB | " + " | ".join(f"{summary[d]['peakRssMb']:.0f}" for d in durations) + " |")
    if lines := floor_lines(summary):
        print("\n| ratio | measured | floor | |\n| --- | ---: | ---: | --- |")
        print("\n".join(lines))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1, help="rounds (each clip once a round; the table shows medians)")
    parser.add_argument("--durations", type=int, nargs="+", choices=[5, 10, 15], default=[5, 10, 15])
    parser.add_argument("--size", default="1280x704", help="landscape WIDTHxHEIGHT")
    parser.add_argument("--quality", choices=["standard", "fast"], default="standard")
    parser.add_argument("--stock-kernels", action="store_true", help="diffusers' own CPU conv3d/norm (slower)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: one per core)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_one(args.durations[0], args.seed, args.size, args.quality, args.stock_kernels, args.threads)))
        return
    results: dict[int, list[dict]] = {d: [] for d in args.durations}
    for seed in range(args.runs):
        for duration in args.durations:
            results[duration].append(_child(args, duration, seed))
            print(f"round {seed + 1}: {duration} s in {results[duration][-1]['timings']['total']:.1f} s", file=sys.stderr)
    print_table(summarise(results), results[args.durations[0]][0], args)


if __name__ == "__main__":
    sys.exit(main())
