"""Loads Wan 2.2 TI2V-5B once per worker: both diffusers pipelines over one set of weights.

The real model comes from ``WAN_WEIGHTS_DIR`` (a diffusers folder on the network volume): bf16
on CUDA, with the VAE kept in float32 as diffusers' TI2V-5B example does. Without that folder
(and with ``WAN_TINY_FALLBACK``) the tiny random model of the same shape is built instead, and
everything it makes is labelled as such.
"""

import gc
import logging
from dataclasses import dataclass

import torch
from diffusers import AutoencoderKLWan, WanImageToVideoPipeline, WanPipeline

from worker_image import tiny
from worker_image.cpu_kernels import use_cpu_kernels
from worker_image.errors import ModelUnavailable
from worker_image.settings import WorkerSettings

log = logging.getLogger(__name__)

REAL_MODEL_LABEL = "Wan2.2-TI2V-5B"


@dataclass(frozen=True)
class WanModel:
    """The two pipelines (sharing transformer, VAE, text encoder and scheduler) and their facts."""

    text_to_video: WanPipeline
    image_to_video: WanImageToVideoPipeline
    label: str
    steps: int
    is_tiny: bool

    @property
    def device(self) -> torch.device:
        return self.text_to_video.transformer.device

    def free_memory(self) -> None:
        """Drop cached GPU blocks after a failed job, so the next one starts clean."""
        self.text_to_video.vae.clear_cache()
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def load_model(settings: WorkerSettings) -> WanModel:
    if settings.worker_torch_threads:
        torch.set_num_threads(settings.worker_torch_threads)
    device = _device(settings)
    if (settings.wan_weights_dir / "model_index.json").is_file():
        text_to_video = _load_real(settings, device)
        label, steps, is_tiny = REAL_MODEL_LABEL, settings.wan_steps, False
    elif settings.wan_tiny_fallback:
        log.warning("no weights at %s: using the tiny random model (noise)", settings.wan_weights_dir)
        text_to_video = _build_tiny(settings, device)
        label, steps, is_tiny = tiny.TINY_MODEL_LABEL, settings.wan_tiny_steps, True
    else:
        raise ModelUnavailable(f"no diffusers model at {settings.wan_weights_dir} and WAN_TINY_FALLBACK is off")
    text_to_video.set_progress_bar_config(disable=True)
    image_to_video = image_pipeline_from(text_to_video)
    image_to_video.set_progress_bar_config(disable=True)
    return WanModel(text_to_video, image_to_video, label=label, steps=steps, is_tiny=is_tiny)


def image_pipeline_from(text_to_video: WanPipeline) -> WanImageToVideoPipeline:
    """TI2V-5B's image-to-video: no CLIP, the image is VAE-encoded into latent frame 0."""
    parts = text_to_video.components
    return WanImageToVideoPipeline(
        tokenizer=parts["tokenizer"], text_encoder=parts["text_encoder"], vae=parts["vae"],
        scheduler=parts["scheduler"], transformer=parts["transformer"], image_encoder=None,
        image_processor=None, transformer_2=None, boundary_ratio=None, expand_timesteps=True,
    )


def _load_real(settings: WorkerSettings, device: torch.device) -> WanPipeline:
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    folder = settings.wan_weights_dir
    vae = AutoencoderKLWan.from_pretrained(folder, subfolder="vae", dtype=torch.float32)
    pipe = WanPipeline.from_pretrained(
        folder, vae=vae, scheduler=tiny.build_scheduler(settings.wan_flow_shift), dtype=dtype,
        transformer_2=None, boundary_ratio=None, expand_timesteps=True,
    )
    pipe.to(device)
    if settings.wan_compile and device.type == "cuda":
        # Regional compilation: each block compiles once and is reused 30 times (bench_gpu.py).
        pipe.transformer.compile_repeated_blocks(fullgraph=False)
    return pipe


def _build_tiny(settings: WorkerSettings, device: torch.device) -> WanPipeline:
    components = tiny.build_components(settings.wan_flow_shift, seed=settings.wan_tiny_seed)
    if device.type == "cpu" and settings.wan_tiny_cpu_kernels:
        use_cpu_kernels(components["vae"])
    return WanPipeline(**components, transformer_2=None, boundary_ratio=None, expand_timesteps=True).to(device)


def _device(settings: WorkerSettings) -> torch.device:
    if settings.wan_device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(settings.wan_device)
