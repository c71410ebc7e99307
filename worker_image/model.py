"""Loads Wan 2.2 TI2V-5B once per worker: both diffusers pipelines over one set of weights.

The real model comes from ``WAN_WEIGHTS_DIR`` (a diffusers folder on the network volume): bf16
on CUDA, with the VAE kept in float32 as diffusers' TI2V-5B example does. Without that folder
(and with ``WAN_TINY_FALLBACK``) the tiny random model of the same shape is built instead, and
everything it makes is labelled as such.

The ``fast`` profile is a second ``WanModel``: the step-distilled transformer from
``WAN_FAST_WEIGHTS_DIR`` (text encoder and VAE shared with the standard model: the distillation
only trained the transformer), sampled by ``dmd.DmdScheduler`` without CFG. Without that folder
the worker has no fast model (a fast job fails), unless the tiny fallback serves the standard
profile too: then the tiny transformer runs the fast profile's own loop.
"""

import gc
import logging
import os
from dataclasses import dataclass

import torch
from diffusers import WanImageToVideoPipeline, WanPipeline, WanTransformer3DModel

from worker_image import speedups, tiny
from worker_image.cpu_kernels import use_cpu_kernels
from worker_image.dmd import DmdScheduler
from worker_image.errors import ModelUnavailable
from worker_image.settings import WorkerSettings

log = logging.getLogger(__name__)

REAL_MODEL_LABEL = "Wan2.2-TI2V-5B"
FAST_LABEL_SUFFIX = " (fast: 3-step DMD)"


@dataclass(frozen=True)
class WanModel:
    """The two pipelines (sharing transformer, VAE, text encoder and scheduler) and their facts."""

    text_to_video: WanPipeline
    image_to_video: WanImageToVideoPipeline
    label: str
    steps: int
    is_tiny: bool
    guidance_scale: float
    dmd: DmdScheduler | None = None  # the fast profile's sampler; None: the pipelines' own UniPC

    def use_noise(self, generator: torch.Generator) -> None:
        """Hand the job's seeded generator to a sampler that draws noise between steps."""
        if self.dmd is not None:
            self.dmd.use_noise(generator)

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
    device = device_for(settings)
    if (settings.wan_weights_dir / "model_index.json").is_file():
        text_to_video = _load_real(settings, device)
        label, steps, is_tiny = REAL_MODEL_LABEL, settings.wan_steps, False
    elif settings.wan_tiny_fallback:
        log.warning("no weights at %s: using the tiny random model (noise)", settings.wan_weights_dir)
        text_to_video = _build_tiny(settings, device)
        label, steps, is_tiny = tiny.TINY_MODEL_LABEL, settings.wan_tiny_steps, True
    else:
        raise ModelUnavailable(f"no diffusers model at {settings.wan_weights_dir} and WAN_TINY_FALLBACK is off")
    return model_from(text_to_video, label, steps, is_tiny, settings.wan_guidance_scale)


def load_fast_model(settings: WorkerSettings, standard: WanModel) -> WanModel | None:
    """The fast profile beside ``standard``, or None when this worker cannot serve it."""
    folder = settings.wan_fast_weights_dir
    dmd = DmdScheduler()
    if (folder / "transformer" / "config.json").is_file() and not standard.is_tiny:
        transformer = WanTransformer3DModel.from_pretrained(folder, subfolder="transformer", dtype=_dtype(standard.device))
        transformer.to(standard.device)
        speedups.speed_up(transformer, settings.model_copy(update={"wan_step_cache": "off"}), standard.device, dmd.steps)
        label, is_tiny = REAL_MODEL_LABEL + FAST_LABEL_SUFFIX, False
    elif standard.is_tiny:
        # Locally the tiny transformer stands in for the distilled one; the loop is the fast one.
        transformer, label, is_tiny = standard.text_to_video.transformer, tiny.TINY_MODEL_LABEL + FAST_LABEL_SUFFIX, True
    else:
        log.warning("no fast weights at %s: fast jobs will fail", folder)
        return None
    return fast_model_from(standard, transformer, label, is_tiny, dmd)


def fast_model_from(standard: WanModel, transformer: WanTransformer3DModel, label: str, is_tiny: bool,
                    dmd: DmdScheduler | None = None) -> WanModel:
    """The fast profile: ``transformer`` with the standard model's text encoder and VAE, the DMD loop."""
    dmd = dmd or DmdScheduler()
    parts = {**standard.text_to_video.components, "transformer": transformer, "scheduler": dmd}
    # No CFG: guidance 1.0 makes the pipelines skip the unconditional pass and the negative prompt.
    return model_from(WanPipeline(**parts), label, dmd.steps, is_tiny, guidance_scale=1.0, dmd=dmd)


def model_from(text_to_video: WanPipeline, label: str, steps: int, is_tiny: bool, guidance_scale: float,
           dmd: DmdScheduler | None = None) -> WanModel:
    text_to_video.set_progress_bar_config(disable=True)
    image_to_video = image_pipeline_from(text_to_video)
    image_to_video.set_progress_bar_config(disable=True)
    return WanModel(text_to_video, image_to_video, label=label, steps=steps, is_tiny=is_tiny,
                    guidance_scale=guidance_scale, dmd=dmd)


def image_pipeline_from(text_to_video: WanPipeline) -> WanImageToVideoPipeline:
    """TI2V-5B's image-to-video: no CLIP, the image is VAE-encoded into latent frame 0."""
    parts = text_to_video.components
    return WanImageToVideoPipeline(
        tokenizer=parts["tokenizer"], text_encoder=parts["text_encoder"], vae=parts["vae"],
        scheduler=parts["scheduler"], transformer=parts["transformer"], image_encoder=None,
        image_processor=None, transformer_2=None, boundary_ratio=None, expand_timesteps=True,
    )


def _dtype(device: torch.device) -> torch.dtype:
    return torch.bfloat16 if device.type == "cuda" else torch.float32


def _load_real(settings: WorkerSettings, device: torch.device) -> WanPipeline:
    dtype = _dtype(device)
    folder = settings.wan_weights_dir
    use_compile_cache(settings, device)
    vae = speedups.load_vae(folder, settings, device)
    pipe = WanPipeline.from_pretrained(
        folder, vae=vae, scheduler=tiny.build_scheduler(settings.wan_flow_shift), dtype=dtype,
        transformer_2=None, boundary_ratio=None, expand_timesteps=True,
    )
    pipe.to(device)
    speedups.speed_up(pipe.transformer, settings, device, settings.wan_steps)
    return pipe


def use_compile_cache(settings: WorkerSettings, device: torch.device) -> None:
    """Point torch's compile caches at the network volume, so a new worker reuses what an earlier
    one compiled. Torch reads these from the environment when it first compiles."""
    folder = settings.torch_compile_cache_dir
    if device.type != "cuda" or folder is None:
        return
    folder.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(folder / "inductor"))
    os.environ.setdefault("TRITON_CACHE_DIR", str(folder / "triton"))
    os.environ.setdefault("TORCHINDUCTOR_FX_GRAPH_CACHE", "1")
    os.environ.setdefault("TORCHINDUCTOR_AUTOGRAD_CACHE", "1")


def _build_tiny(settings: WorkerSettings, device: torch.device) -> WanPipeline:
    components = tiny.build_components(settings.wan_flow_shift, seed=settings.wan_tiny_seed)
    if device.type == "cpu" and settings.wan_tiny_cpu_kernels:
        use_cpu_kernels(components["vae"])
    return WanPipeline(**components, transformer_2=None, boundary_ratio=None, expand_timesteps=True).to(device)


def device_for(settings: WorkerSettings) -> torch.device:
    if settings.wan_device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(settings.wan_device)
