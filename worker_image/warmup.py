"""Start-up: run every compiled shape once in ``setup``, so the first job compiles nothing.

With ``WAN_COMPILE`` the transformer's blocks compile on the first forward of each input shape.
Every job's forward has one of two shapes (a 121-frame segment, landscape or portrait; text and
image conditioning feed the same shape, and CFG's two passes share it), so a short generation at
each, per model, is the whole warm-up. With the compile caches on the network volume
(``TORCH_COMPILE_CACHE_DIR``) a new worker loads the compiled code instead of compiling it.
"""

import logging
import time

import torch

from schemas.jobs import SEGMENT_FRAMES
from worker_image.model import WanModel

log = logging.getLogger(__name__)
WARMUP_STEPS = 2  # UniPC needs two to run its multistep update once; DMD runs its own 3


@torch.no_grad()
def warm_up(model: WanModel, sizes: list[tuple[int, int]]) -> float:
    """One short generation per ``(width, height)``; returns the seconds it took."""
    started = time.perf_counter()
    noise = torch.Generator("cpu").manual_seed(0)
    model.use_noise(noise)
    for width, height in sizes:
        model.text_to_video(
            prompt="warm-up", height=height, width=width, num_frames=SEGMENT_FRAMES,
            num_inference_steps=model.steps if model.dmd else WARMUP_STEPS, guidance_scale=model.guidance_scale,
            generator=noise, output_type="latent",
        )
    seconds = time.perf_counter() - started
    log.info("warmed %s at %s in %.1f s", model.label, sizes, seconds)
    return seconds
