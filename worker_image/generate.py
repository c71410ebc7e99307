"""One segment: prompt (+ first frame) -> latents through diffusers' Wan pipelines -> uint8 frames.

The pipelines run unchanged; the worker only (1) encodes the prompt itself, to time and report
that stage (once per distinct prompt of the clip), (2) asks for ``output_type="latent"`` and
decodes with ``decode.decode_frames`` so frames stream out as uint8, and (3) reports progress
from ``callback_on_step_end``. ``clip.render_clip`` chains segments into one clip.
"""

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from schemas.generation import GenerationStage
from worker_image.decode import decode_frames
from worker_image.model import WanModel
from worker_image.progress import ProgressTracker
from worker_image.timings import Timings

MAX_TEXT_TOKENS = 512

# The official Wan 2.2 default negative prompt (sample_neg_prompt in its shared config).
NEGATIVE_PROMPT = (
    "色调艳丽，过曝，静态，细节模糊不清，字幕，风格，作品，画作，画面，静止，整体发灰，最差质量，低质量，"
    "JPEG压缩残留，丑陋的，残缺的，多余的手指，画得不好的手部，画得不好的脸部，畸形的，毁容的，"
    "形态畸形的肢体，手指融合，静止不动的画面，杂乱的背景，三条腿，背景人很多，倒着走"
)


@dataclass(frozen=True)
class SegmentSpec:
    """One pipeline call: 121 frames from a prompt and, when given, a first frame."""

    prompt: str
    frames: int
    width: int
    height: int
    image: Image.Image | None = None  # the first frame (fitted to width x height), kept fixed


class VideoGenerator:
    """One job's use of a ``WanModel``: prompt embeddings are encoded once per distinct prompt."""

    def __init__(self, model: WanModel, negative_prompt: str | None = None):
        self._model = model
        self._negative_prompt = negative_prompt or NEGATIVE_PROMPT  # absent: Wan's own default
        self._embeddings: dict[str, tuple[torch.Tensor, torch.Tensor | None]] = {}

    @torch.no_grad()
    def latents(self, spec: SegmentSpec, noise: torch.Generator, progress: ProgressTracker, timings: Timings) -> torch.Tensor:
        """Denoise one segment; returns its normalised latents. ``noise`` is the job's seeded generator."""
        model, steps = self._model, self._model.steps
        prompt_embeds, negative_embeds = self._encode(spec.prompt, progress, timings)
        progress.begin(GenerationStage.DENOISING)

        def on_step_end(pipe, index: int, timestep, tensors: dict) -> dict:
            progress.advance(GenerationStage.DENOISING, index + 1, steps, with_steps=True)
            return {}

        pipe = model.text_to_video if spec.image is None else model.image_to_video
        image_args = {} if spec.image is None else {"image": spec.image}
        model.use_noise(noise)
        with timings.measure("denoise"):
            return pipe(
                **image_args,
                prompt_embeds=prompt_embeds,
                negative_prompt_embeds=negative_embeds,
                height=spec.height,
                width=spec.width,
                num_frames=spec.frames,
                num_inference_steps=steps,
                guidance_scale=model.guidance_scale,
                generator=noise,
                output_type="latent",
                callback_on_step_end=on_step_end,
                max_sequence_length=MAX_TEXT_TOKENS,
            ).frames

    def _encode(self, prompt: str, progress: ProgressTracker, timings: Timings) -> tuple[torch.Tensor, torch.Tensor | None]:
        if prompt not in self._embeddings:
            model = self._model
            progress.begin(GenerationStage.ENCODING_PROMPT)
            with timings.measure("encodePrompt"):
                self._embeddings[prompt] = model.text_to_video.encode_prompt(
                    prompt=prompt,
                    negative_prompt=self._negative_prompt,
                    do_classifier_free_guidance=model.guidance_scale > 1.0,
                    max_sequence_length=MAX_TEXT_TOKENS,
                    device=model.device,
                )
        return self._embeddings[prompt]

    def frames(self, latents: torch.Tensor) -> Iterator[np.ndarray]:
        """uint8 ``(n, h, w, 3)`` chunks, decoded one latent frame at a time."""
        return decode_frames(self._model.text_to_video.vae, latents)
