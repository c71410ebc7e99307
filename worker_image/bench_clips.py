"""The cost table: 5 / 10 / 15 s clips x standard / fast x each speed switch, through the worker.

    python -m worker_image.bench_gpu --clips                      # on the GPU machine
    python -m worker_image.bench_gpu --clips --scale tiny --device cpu --size 128x64 --steps 2   # checks it

Builds the full-size TI2V-5B architecture with random weights (bench_gpu.build_pipeline: same
compute as the real model; the fast profile runs the same architecture through its own 3-step
DMD loop, which is the distilled model's compute), then runs ``VideoWorker.run`` for every clip:
prompt, every segment's denoising, streamed decode, H.264, moderation, the file check. Per row it
prints seconds a step, end to end, GPU seconds, dollars a clip at ``--gpu-price`` and the margin
at each plan's price per credit and at the top-up price. ``--steps N`` times N standard steps a
segment and extrapolates to the product's 50 (the fast profile always runs its 3).

Switches run in order, each on top of the last, because compiling and fp8 cannot be undone:
``eager`` (the lossless reference), ``compile``, ``compile+fbc`` (FirstBlockCache),
``compile+fp8``. A switch that fails prints its error and the rest go on.
"""

import argparse
import statistics
import tempfile
from pathlib import Path

import torch

from schemas.generation import GenerationInput
from schemas.jobs import Quality
from worker_image import costs, speedups
from worker_image.bench_cpu import FolderBucket, StepClock
from worker_image.model import REAL_MODEL_LABEL, fast_model_from, model_from
from worker_image.settings import WorkerSettings
from worker_image.worker import VideoWorker

PRODUCT_STEPS = 50
SWITCHES = ("eager", "compile", "compile+fbc", "compile+fp8")


def switch_settings(name: str) -> WorkerSettings:
    """The worker settings of one row: what ``speedups.speed_up`` applies for it."""
    return WorkerSettings(
        wan_compile="compile" in name, wan_fp8=name.endswith("fp8"),
        wan_step_cache="first-block" if name.endswith("fbc") else "off",
    )


def extrapolated_total(total_s: float, step_s: float, timed_steps: int, product_steps: int, segments: int) -> float:
    """End to end as if every segment had run ``product_steps``."""
    return total_s + (product_steps - timed_steps) * step_s * segments


def run_clips(args: argparse.Namespace, build_pipeline) -> list[tuple[str, costs.ClipCost, float]]:
    device = torch.device(args.device)
    width, height = (int(v) for v in args.size.split("x"))
    pipe = build_pipeline(args.scale, device)
    standard = model_from(pipe, REAL_MODEL_LABEL + " (random weights)", args.steps, is_tiny=False, guidance_scale=5.0)
    fast = fast_model_from(standard, pipe.transformer, standard.label + " fast", is_tiny=False)
    prices = costs.PriceList.default(args.usd_per_billing_unit)
    rows: list[tuple[str, costs.ClipCost, float]] = []
    applied: set[str] = set()
    with tempfile.TemporaryDirectory() as folder:
        settings = WorkerSettings(wan_weights_dir=Path(folder) / "none", wan_device=args.device, video_width=width,
                                  video_height=height, video_x264_preset=args.preset, wan_warmup="off")
        worker = VideoWorker(settings, bucket=FolderBucket(Path(folder)), model=standard)
        worker.fast_model, worker._fast_loaded = fast, True
        for switch in args.switches.split(","):
            try:
                _apply(switch, pipe.transformer, device, applied)
            except Exception as exc:  # noqa: BLE001 - one failing switch must not hide the others
                print(f"{switch}: failed to apply: {type(exc).__name__}: {exc}", flush=True)
                continue
            for quality in args.qualities.split(","):
                for duration in args.durations:
                    rows.append(_one_clip(worker, switch, Quality(quality), duration, args, prices))
                    label, cost, step_s = rows[-1]
                    print(f"{label} {duration} s {quality}: {step_s:.3f} s/step, {cost.gpu_seconds:.1f} s end to end",
                          flush=True)
            if "fbc" in switch:
                pipe.transformer.disable_cache()  # the next switch builds on compile alone
    return rows


def _apply(switch: str, transformer, device: torch.device, applied: set[str]) -> None:
    """Apply what ``switch`` adds to those already applied (compile once, fp8 once)."""
    settings = switch_settings(switch)
    if "compile" in applied:
        settings = settings.model_copy(update={"wan_compile": False})  # already compiled
    if settings.wan_compile or settings.wan_fp8 or settings.wan_step_cache != "off":
        speedups.speed_up(transformer, settings, device, PRODUCT_STEPS)
    applied.update(part for part in ("compile", "fp8") if part in switch)


def _one_clip(worker: VideoWorker, switch: str, quality: Quality, duration: int, args, prices):
    clock = StepClock()
    request = GenerationInput(job_id="bench", prompt="a lighthouse at dusk, waves crashing", duration_sec=duration,
                              seed=0, output_key="videos/bench.mp4", quality=quality)
    output = worker.run(request, on_progress=clock)
    step_s = statistics.median(clock.step_times())
    timed = worker.model_for(quality).steps
    product = timed if quality is Quality.FAST else PRODUCT_STEPS
    total = extrapolated_total(output.timings["totalS"], step_s, timed, product, duration // 5)
    cost = costs.clip_cost(duration, quality, total, prices, args.gpu_price)
    return switch, cost, step_s


def print_cost_table(rows: list[tuple[str, costs.ClipCost, float]], device: str, args) -> None:
    print(f"\nCost table: {device} | {args.size} | GPU ${args.gpu_price}/s | USD per billing unit "
          f"{args.usd_per_billing_unit} | standard steps timed {args.steps} (extrapolated to {PRODUCT_STEPS})")
    print("| configuration | clip | s/step | end to end (s) | GPU s | $ per clip | credits | margins (plan: starter, creator, studio, top-up) |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for label, cost, step_s in rows:
        margins = ", ".join(f"{name} {value:+.0%}" for name, value in cost.margins.items())
        print(f"| {label} | {cost.duration_sec} s {cost.quality.value} | {step_s:.3f} | {cost.gpu_seconds:.1f} | "
              f"{cost.gpu_seconds:.1f} | {cost.usd:.4f} | {cost.credits} | {margins} |")
    for label in dict.fromkeys(label for label, _, _ in rows):
        for quality in Quality:
            by = {c.duration_sec: c.gpu_seconds for lab, c, _ in rows if lab == label and c.quality is quality}
            if 5 in by and 15 in by:
                print(f"{label} {quality.value}: 15 s / 5 s = {by[15] / by[5]:.2f}x (issue: <= 3.1x)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--clips", action="store_true", help="the cost table (5/10/15 s x standard/fast x switches)")
    parser.add_argument("--durations", type=int, nargs="+", choices=[5, 10, 15], default=[5, 10, 15])
    parser.add_argument("--qualities", default="standard,fast")
    parser.add_argument("--switches", default=",".join(SWITCHES), help=f"comma-separated, in order: {','.join(SWITCHES)}")
    parser.add_argument("--gpu-price", type=float, default=costs.GPU_PRICE_PER_SECOND_USD,
                        help="GPU_PRICE_PER_SECOND_USD (default: the functions' default)")
    parser.add_argument("--usd-per-billing-unit", type=float, default=costs.USD_PER_BILLING_UNIT)
