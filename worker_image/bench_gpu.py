"""GPU benchmark of a 5 s 1280x704 (121-frame) TI2V-5B generation, stage by stage, no download.

    python -m worker_image.bench_gpu                 # full-size model, CUDA, 2 timed steps a config
    python -m worker_image.bench_gpu --scale tiny --device cpu --size 128x64   # checks the script
    python -m worker_image.bench_gpu --clips          # the cost table: 5/10/15 s x standard/fast x switches (bench_clips.py)

Builds the full-size TI2V-5B architecture from its config with random weights (same compute as
the real model): the 5.0 B transformer and the UMT5-XXL text encoder in bf16 (the transformer's
``_keep_in_fp32_modules`` in fp32, as ``from_pretrained`` does), the 0.7 B Wan 2.2 VAE. Then:

1. text encoding (prompt + negative prompt, 512 tokens each);
2. denoising per step, extrapolated to 50 steps, for each configuration of the lossless switches:
   diffusers' ``WanPipeline.__call__`` as shipped; a plain loop with each SDPA backend
   (``set_attention_backend``); classifier-free guidance batched into one forward (cond and
   uncond concatenated: diffusers runs two); ``torch.compile`` (regional, the 30 repeated blocks);
   a CUDA graph of the whole forward;
3. VAE decode (the worker's streamed ``decode_frames``) in fp32 and bf16, and the MP4 encode
   (the worker's ``Mp4Writer``; random weights decode to noise, the encoder's worst case).

It prints one table: per-step time, the 50-step estimate, the end-to-end estimate and its
distance from the product's 60 s target for a 5 s clip. A config that fails prints its error.
"""

import argparse
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path

import torch
from diffusers import AutoencoderKLWan, WanPipeline, WanTransformer3DModel
from transformers import UMT5Config, UMT5EncoderModel

from worker_image import bench_clips, tiny
from worker_image.decode import decode_frames
from worker_image.encode import Mp4Writer, VideoFacts, verify

TARGET_S = 60.0
PRODUCT_STEPS = 50
GUIDANCE = 5.0

TRANSFORMER = {
    "full": {
        "patch_size": (1, 2, 2), "num_attention_heads": 24, "attention_head_dim": 128,
        "in_channels": 48, "out_channels": 48, "text_dim": 4096, "freq_dim": 256, "ffn_dim": 14336,
        "num_layers": 30, "cross_attn_norm": True,
        "qk_norm": "rms_norm_across_heads", "eps": 1e-6, "rope_max_seq_len": 1024,
    },
    "tiny": {
        "patch_size": (1, 2, 2), "num_attention_heads": 2, "attention_head_dim": 12,
        "in_channels": 48, "out_channels": 48, "text_dim": 32, "freq_dim": 32, "ffn_dim": 32,
        "num_layers": 2, "cross_attn_norm": True,
        "qk_norm": "rms_norm_across_heads", "eps": 1e-6, "rope_max_seq_len": 1024,
    },
}
VAE = {
    "full": {"base_dim": 160, "decoder_base_dim": 256, "dim_mult": [1, 2, 4, 4], "num_res_blocks": 2},
    "tiny": {"base_dim": 8, "decoder_base_dim": 8, "dim_mult": [1, 1, 1, 1], "num_res_blocks": 1},
}
VAE_SHAPE = {
    "z_dim": 48, "temperal_downsample": [False, True, True], "is_residual": True, "in_channels": 12,
    "out_channels": 12, "patch_size": 2, "scale_factor_temporal": 4, "scale_factor_spatial": 16,
    "latents_mean": [0.0] * 48, "latents_std": [1.0] * 48,
}
TEXT = {
    "full": UMT5Config(  # UMT5-XXL, the Wan 2.2 text encoder
        vocab_size=256384, d_model=4096, d_kv=64, d_ff=10240, num_layers=24, num_heads=64,
        relative_attention_num_buckets=32, feed_forward_proj="gated-gelu", dropout_rate=0.0,
    ),
    "tiny": UMT5Config(vocab_size=512, d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4, dropout_rate=0.0),
}


@dataclass
class Row:
    config: str
    step_s: float | None = None
    forwards_per_step: int = 2
    compile_s: float | None = None
    peak_gib: float | None = None
    error: str | None = None
    notes: str = ""


@dataclass
class Report:
    device: str
    size: str
    frames: int
    timed_steps: int
    forward_pflop: float = 0.0
    build_s: float = 0.0
    text_encode_s: float | None = None
    rows: list[Row] = field(default_factory=list)
    stages: dict[str, float] = field(default_factory=dict)


class Timer:
    """Wall time of a block, with the device synchronised on both sides."""

    def __init__(self, device: torch.device):
        self.device = device

    def __call__(self, fn: Callable[[], object], repeat: int = 1) -> tuple[float, object]:
        times, result = [], None
        for _ in range(repeat):
            self._sync()
            started = time.perf_counter()
            result = fn()
            self._sync()
            times.append(time.perf_counter() - started)
        return statistics.median(times), result

    def _sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)


def build_pipeline(scale: str, device: torch.device) -> WanPipeline:
    """The TI2V-5B-shaped pipeline with random weights, built straight on ``device``."""
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    with torch.device(device):
        transformer = _in_dtype(WanTransformer3DModel(**TRANSFORMER[scale]), dtype)
        text_encoder = UMT5EncoderModel(TEXT[scale]).to(dtype).eval()
        vae = AutoencoderKLWan(**VAE[scale], **VAE_SHAPE).eval()
    return WanPipeline(
        tokenizer=tiny.build_tokenizer(), text_encoder=text_encoder, vae=vae, transformer=transformer.eval(),
        scheduler=tiny.build_scheduler(5.0), expand_timesteps=True,
    )


def _in_dtype(model: WanTransformer3DModel, dtype: torch.dtype) -> WanTransformer3DModel:
    """Cast like ``from_pretrained(torch_dtype=...)``: ``_keep_in_fp32_modules`` stay float32."""
    keep = model._keep_in_fp32_modules or []
    for name, param in model.named_parameters():
        param.data = param.data.to(torch.float32 if any(part in keep for part in name.split(".")) else dtype)
    return model


class Denoiser:
    """One denoising step of the TI2V-5B loop (text-to-video), with the switches under test."""

    def __init__(self, pipe: WanPipeline, height: int, width: int, frames: int, cond, uncond):
        self.pipe, self.cond, self.uncond = pipe, cond, uncond
        generator = torch.Generator("cpu").manual_seed(0)
        self.latents = pipe.prepare_latents(1, 48, height, width, frames, torch.float32, pipe.device, generator)
        self.tokens = self.latents[0, 0, :, ::2, ::2].numel()  # expand_timesteps: one timestep per token

    def step_fn(self, batched_cfg: bool, forward: Callable | None = None) -> Callable[[int], None]:
        transformer, scheduler = self.pipe.transformer, self.pipe.scheduler
        forward = forward or (lambda x, t, text: transformer(
            hidden_states=x, timestep=t, encoder_hidden_states=text, return_dict=False)[0])
        scheduler.set_timesteps(PRODUCT_STEPS, device=self.latents.device)
        scheduler.set_begin_index(0)
        state = {"latents": self.latents.clone()}
        cond_uncond = torch.cat([self.cond, self.uncond]) if batched_cfg else None

        def step(i: int) -> None:
            t = scheduler.timesteps[i]
            x = state["latents"].to(transformer.dtype)
            timestep = torch.full((1, self.tokens), float(t), device=x.device)
            if batched_cfg:
                noise_cond, noise_uncond = forward(torch.cat([x, x]), timestep.expand(2, -1), cond_uncond).chunk(2)
            else:
                noise_cond, noise_uncond = forward(x, timestep, self.cond), forward(x, timestep, self.uncond)
            noise = noise_uncond + GUIDANCE * (noise_cond - noise_uncond)
            state["latents"] = scheduler.step(noise, t, state["latents"], return_dict=False)[0]

        return step


def cuda_graph_forward(transformer, example: tuple[torch.Tensor, ...]) -> Callable:
    """Capture one transformer forward in a CUDA graph; calls copy inputs in and replay it."""
    static = [t.clone() for t in example]

    def run(x, t, text):
        return transformer(hidden_states=x, timestep=t, encoder_hidden_states=text, return_dict=False)[0]

    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        run(*static)  # warm up outside the graph (allocator, cuBLAS handles)
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        static_out = run(*static)

    def replay(x, t, text):
        for dst, src in zip(static, (x, t, text)):
            dst.copy_(src)
        graph.replay()
        return static_out.clone()

    return replay


def forward_flops(config: dict, tokens: int, text_tokens: int = 512) -> float:
    """Matmul FLOPs of one transformer forward (about 0.52 PFLOP at 27,280 tokens, full size)."""
    dim = config["num_attention_heads"] * config["attention_head_dim"]
    layers, ffn = config["num_layers"], config["ffn_dim"]
    linear = 2 * tokens * layers * (6 * dim * dim + 2 * dim * ffn) + 2 * text_tokens * layers * 2 * dim * dim
    attention = layers * 4 * dim * (tokens * tokens + tokens * text_tokens)
    return float(linear + attention)


def time_steps(timer: Timer, step: Callable[[int], None], steps: int) -> float:
    step(0)  # warm-up (and compilation, when compiled)
    return statistics.median(timer(lambda i=i: step(i))[0] for i in range(1, steps + 1))


def run_config(report: Report, timer: Timer, body: Callable[[], Row]) -> Row:
    device = timer.device
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    try:
        row = body()
    except Exception as exc:  # a failed switch is a result, not a crash
        row = Row(getattr(body, "__name__", "config"), error=f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}")
    if device.type == "cuda":
        row.peak_gib = round(torch.cuda.max_memory_allocated(device) / 2**30, 1)
    report.rows.append(row)
    print(f"  {row}", flush=True)
    return row


CONFIGS = ("shipped", "sdpa", "batched", "graph", "compile", "decode")  # and "autotune", after decode


@torch.no_grad()
def bench(args: argparse.Namespace) -> Report:
    device = torch.device(args.device)
    width, height = (int(v) for v in args.size.split("x"))
    timer = Timer(device)
    report = Report(device=_device_name(device), size=args.size, frames=args.frames, timed_steps=args.steps)
    print(f"device: {report.device}; torch {torch.__version__}", flush=True)

    report.build_s, pipe = timer(lambda: build_pipeline(args.scale, device))
    pipe.set_progress_bar_config(disable=True)
    print(f"built in {report.build_s:.1f} s", flush=True)

    report.text_encode_s, (cond, uncond) = timer(lambda: pipe.encode_prompt(
        "a lighthouse at dusk, waves crashing", negative_prompt="blurry, static", device=device,
        max_sequence_length=512), repeat=3)
    cond, uncond = cond.to(pipe.transformer.dtype), uncond.to(pipe.transformer.dtype)
    denoiser = Denoiser(pipe, height, width, args.frames, cond, uncond)
    report.forward_pflop = round(forward_flops(TRANSFORMER[args.scale], denoiser.tokens) / 1e15, 4)
    print(f"text encoding {report.text_encode_s:.3f} s; {denoiser.tokens} tokens; "
          f"{report.forward_pflop} PFLOP per transformer forward", flush=True)

    def shipped(label: str, compiled: bool = False) -> Row:
        """diffusers' own ``__call__`` (two forwards a step), timed between step callbacks."""
        marks: list[float] = []

        def on_step(p, i, t, kw):
            timer._sync()
            marks.append(time.perf_counter())
            return {}

        started = time.perf_counter()
        pipe(prompt_embeds=cond, negative_prompt_embeds=uncond, height=height, width=width,
             num_frames=args.frames, num_inference_steps=args.steps + 1, guidance_scale=GUIDANCE,
             output_type="latent", callback_on_step_end=on_step)
        step_s = statistics.median(b - a for a, b in itertools.pairwise(marks))
        # When compiled, the first step's extra time is the compilation.
        return Row(label, step_s=step_s, compile_s=marks[0] - started - step_s if compiled else None)

    def batched(label: str, forward: Callable | None = None) -> Row:
        return Row(label, forwards_per_step=1, step_s=time_steps(timer, denoiser.step_fn(True, forward), args.steps))

    configs = args.configs.split(",")
    if "shipped" in configs:
        run_config(report, timer, lambda: shipped("diffusers WanPipeline as shipped (SDPA native)"))

    best = "native"
    if "sdpa" in configs:
        backends = ["native", "_native_flash", "_native_cudnn", "_native_efficient"] if device.type == "cuda" else ["native"]
        timed = []
        for backend in backends:
            def sequential(backend=backend) -> Row:
                pipe.transformer.set_attention_backend(backend)
                return Row(f"loop, CFG 2 forwards, SDPA {backend}", step_s=time_steps(timer, denoiser.step_fn(False), args.steps))
            timed.append((run_config(report, timer, sequential).step_s or float("inf"), backend))
        best = min(timed)[1]
        pipe.transformer.set_attention_backend(best)

    if "batched" in configs:
        run_config(report, timer, lambda: batched(f"CFG batched, SDPA {best}"))

    if "graph" in configs and device.type == "cuda":
        def graphed() -> Row:
            x = denoiser.latents.to(pipe.transformer.dtype)
            example = (torch.cat([x, x]), torch.zeros(2, denoiser.tokens, device=device), torch.cat([cond, uncond]))
            capture_s, forward = timer(lambda: cuda_graph_forward(pipe.transformer, example))
            row = batched(f"CFG batched + CUDA graph, SDPA {best}", forward)
            row.compile_s = capture_s
            return row
        run_config(report, timer, graphed)

    if "compile" in configs:
        pipe.transformer.compile_repeated_blocks(fullgraph=False)
        # The worker's own path with WAN_COMPILE (its default on CUDA): the pipeline as shipped.
        run_config(report, timer, lambda: shipped(f"WanPipeline + torch.compile (blocks), SDPA {best} = worker", True))
        run_config(report, timer, lambda: batched(f"CFG batched + torch.compile (blocks), SDPA {best}"))

    if "decode" in configs:
        _bench_decode_and_encode(report, pipe, denoiser, timer, width, height, args)
    if "autotune" in configs:
        pipe.transformer.compile_repeated_blocks(fullgraph=False, mode="max-autotune-no-cudagraphs")
        def autotuned() -> Row:
            compile_s, _ = timer(lambda: denoiser.step_fn(True)(0))
            row = batched(f"CFG batched + torch.compile max-autotune (blocks), SDPA {best}")
            row.compile_s = compile_s
            return row
        run_config(report, timer, autotuned)

    return report


def _bench_decode_and_encode(report, pipe, denoiser, timer, width, height, args) -> None:
    """The worker's own decode + encode path: streamed chunks in, a verified MP4 out."""
    latents = torch.randn_like(denoiser.latents)
    variants = [("fp32", torch.float32, False)]
    if timer.device.type == "cuda":
        variants += [("fp32_cudnn_benchmark", torch.float32, True), ("bf16_cudnn_benchmark", torch.bfloat16, True)]
    for label, dtype, cudnn_benchmark in variants:
        torch.backends.cudnn.benchmark = cudnn_benchmark
        for param in pipe.vae.parameters():
            param.data = param.data.to(dtype)
        for _ in decode_frames(pipe.vae, latents[:, :, :3]):  # warm-up: every chunk shape once
            pass
        decode_s = encode_s = 0.0
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "bench.mp4"
            with Mp4Writer(path, width, height, 24, preset=args.preset) as mp4:
                chunks = decode_frames(pipe.vae, latents)
                while True:
                    elapsed, chunk = timer(lambda chunks=chunks: next(chunks, None))
                    decode_s += elapsed
                    if chunk is None:
                        break
                    started = time.perf_counter()
                    mp4.write(chunk)
                    encode_s += time.perf_counter() - started
                started = time.perf_counter()
            encode_s += time.perf_counter() - started
            verify(path, VideoFacts(args.frames, width, height, Fraction(24)))
        report.stages[f"vae_decode_{label}_s"] = round(decode_s, 2)
        report.stages[f"mp4_encode_{label}_s"] = round(encode_s, 2)
        print(f"  VAE decode {label}: {decode_s:.2f} s; MP4 encode ({args.preset}): {encode_s:.2f} s", flush=True)
    torch.backends.cudnn.benchmark = False


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"CPU ({os.cpu_count()} cores, {torch.get_num_threads()} threads)"


def print_table(report: Report) -> None:
    decode = report.stages.get("vae_decode_fp32_s", 0.0)
    encode = report.stages.get("mp4_encode_fp32_s", 0.0)
    fixed = (report.text_encode_s or 0.0) + decode + encode
    print(f"\n{report.device} | {report.size} x {report.frames} frames | {PRODUCT_STEPS} steps, CFG {GUIDANCE} | "
          f"text {report.text_encode_s:.2f} s + VAE decode (fp32) {decode:.1f} s + MP4 {encode:.1f} s = {fixed:.1f} s "
          "outside the denoiser")
    print("| configuration | s/step | TFLOP/s | 50 steps (s) | end to end (s) | vs 60 s target | peak GiB | one-off (s) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in report.rows:
        if row.step_s is None:
            print(f"| {row.config} | failed: {row.error} | | | | | | |")
            continue
        denoise = row.step_s * PRODUCT_STEPS
        total = denoise + fixed
        rate = report.forward_pflop * 1e3 * 2 / row.step_s  # 2 forwards' work per step, batched or not
        print(f"| {row.config} | {row.step_s:.3f} | {rate:.0f} | {denoise:.1f} | {total:.1f} | "
              f"{total - TARGET_S:+.1f} s ({total / TARGET_S:.2f}x) | {row.peak_gib or '-'} | "
              f"{'-' if row.compile_s is None else round(row.compile_s, 1)} |")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=["full", "tiny"], default="full")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--size", default="1280x704", help="WIDTHxHEIGHT")
    parser.add_argument("--frames", type=int, default=121)
    parser.add_argument("--steps", type=int, default=2, help="timed denoising steps per configuration")
    parser.add_argument("--preset", default="veryfast", help="libx264 preset")
    parser.add_argument("--configs", default=",".join(CONFIGS),
                        help=f"comma-separated, run in this order: {','.join(CONFIGS)},autotune (compiles for minutes)")
    parser.add_argument("--json", type=Path, help="also write the report here")
    bench_clips.add_arguments(parser)
    args = parser.parse_args(argv)
    if args.clips:
        with torch.no_grad():
            rows = bench_clips.run_clips(args, build_pipeline)
        bench_clips.print_cost_table(rows, _device_name(torch.device(args.device)), args)
        return
    report = bench(args)
    print_table(report)
    if args.json:
        args.json.write_text(json.dumps(asdict(report), indent=2))


if __name__ == "__main__":
    sys.exit(main())
