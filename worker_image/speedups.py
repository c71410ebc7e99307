"""The standard profile's speed switches, applied to a loaded transformer (and VAE) from settings.

Each is a setting, off or on by measurement (``bench_gpu --clips`` times every one). Lossless:
``WAN_COMPILE`` (regional ``torch.compile``; measured on an H100: 2.44 -> 1.87 s a step, on by
default), ``WAN_ATTENTION_BACKEND`` (diffusers' ``set_attention_backend``; empty keeps torch's own
SDPA choice, which measured best of the native ones). Near-lossless, off until a GPU run shows
them within bounds: ``WAN_FP8`` (torchao's ``Float8DynamicActivationFloat8WeightConfig``, Hopper
or newer), ``WAN_STEP_CACHE`` (diffusers' FirstBlockCache or MagCache; MagCache needs the
model's published ``WAN_MAGCACHE_RATIOS``), ``WAN_VAE_BF16`` (bf16 VAE decode). Only CUDA runs
them: on the CPU (the tiny model) every switch is ignored. None of the near-lossless ones has
been measured yet (no GPU was lent while they were written), so production keeps them off.
"""

import logging

import torch
from diffusers import AutoencoderKLWan, FirstBlockCacheConfig, MagCacheConfig, WanTransformer3DModel

from worker_image.settings import WorkerSettings

log = logging.getLogger(__name__)


def speed_up(transformer: WanTransformer3DModel, settings: WorkerSettings, device: torch.device, steps: int) -> list[str]:
    """Apply the switches that are on; returns their names (for logs and the bench's rows)."""
    applied: list[str] = []
    if device.type != "cuda":
        return applied
    if settings.wan_step_cache != "off":
        transformer.enable_cache(step_cache_config(settings, steps))
        applied.append(f"step cache {settings.wan_step_cache}")
    if settings.wan_attention_backend:
        transformer.set_attention_backend(settings.wan_attention_backend)
        applied.append(f"attention {settings.wan_attention_backend}")
    if settings.wan_fp8:
        from torchao.quantization import Float8DynamicActivationFloat8WeightConfig, quantize_  # CUDA image only

        quantize_(transformer, Float8DynamicActivationFloat8WeightConfig())
        applied.append("fp8")
    if settings.wan_compile:
        # Regional compilation: each block compiles once and is reused 30 times (bench_gpu.py).
        transformer.compile_repeated_blocks(fullgraph=False)
        applied.append("compiled blocks")
    log.info("speed switches: %s", ", ".join(applied) or "none")
    return applied


def step_cache_config(settings: WorkerSettings, steps: int) -> FirstBlockCacheConfig | MagCacheConfig:
    if settings.wan_step_cache == "first-block":
        return FirstBlockCacheConfig(threshold=settings.wan_step_cache_threshold)
    if not settings.wan_magcache_ratios:
        raise ValueError("WAN_STEP_CACHE=magcache needs WAN_MAGCACHE_RATIOS (the model's published magnitude ratios)")
    return MagCacheConfig(threshold=settings.wan_step_cache_threshold, num_inference_steps=steps,
                          mag_ratios=list(settings.wan_magcache_ratios))


def vae_dtype(settings: WorkerSettings, device: torch.device) -> torch.dtype:
    """fp32 unless ``WAN_VAE_BF16`` on CUDA (bf16 decode: 10.3 -> 6.4 s on an H100, off until its error is bounded)."""
    return torch.bfloat16 if settings.wan_vae_bf16 and device.type == "cuda" else torch.float32


def load_vae(folder, settings: WorkerSettings, device: torch.device) -> AutoencoderKLWan:
    return AutoencoderKLWan.from_pretrained(folder, subfolder="vae", dtype=vae_dtype(settings, device))
