"""A clip as chained 5 s segments: each one 121 frames, each later one starting on the last frame
of the one before, all streamed to one encoder.

TI2V-5B was trained on 121 frames, and attention grows with the square of the tokens: one pass
over a 15 s clip would cost 6x a 5 s one. Segments keep every forward at 27,280 tokens, so cost
grows with length. Segment k+1 is image-to-video from segment k's last decoded frame (the
pipeline VAE-encodes it into latent frame 0 and keeps it fixed through ``first_frame_mask``);
its own first frame re-renders that frame, so it is dropped: 121 + 120 + 120 = 361 frames.

Only one segment's latents and one decoded chunk exist at a time, so the peak memory of a 15 s
clip is that of a 5 s one. One seeded generator draws the noise of every segment in order: the
same seed and inputs give the same frames.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from schemas.generation import GenerationStage
from schemas.jobs import SEGMENT_FRAMES
from worker_image.generate import SegmentSpec, VideoGenerator
from worker_image.progress import ProgressTracker
from worker_image.timings import Timings

FrameSink = Callable[[np.ndarray], None]  # receives uint8 (n, h, w, 3) chunks, in order


@dataclass(frozen=True)
class ClipPlan:
    prompts: tuple[str, ...]  # one per segment, in order
    width: int
    height: int
    seed: int
    image: Image.Image | None = None  # segment 1's first frame, fitted to width x height
    lead_frames: int = 0  # an extension: the parent's frames, written before; ``image`` is its last

    @property
    def frames(self) -> int:
        if self.lead_frames:
            return self.lead_frames + (SEGMENT_FRAMES - 1) * len(self.prompts)
        return SEGMENT_FRAMES + (SEGMENT_FRAMES - 1) * (len(self.prompts) - 1)


def render_clip(
    generator: VideoGenerator, plan: ClipPlan, write: FrameSink, progress: ProgressTracker, timings: Timings
) -> None:
    """Generate every segment of ``plan`` and hand its new frames to ``write`` as they are decoded."""
    # A CPU generator draws the same noise on any device: a seed means one video.
    noise = torch.Generator("cpu").manual_seed(plan.seed)
    first_frame = plan.image
    for number, prompt in enumerate(plan.prompts, start=1):
        progress.start_segment(number)
        spec = SegmentSpec(prompt=prompt, frames=SEGMENT_FRAMES, width=plan.width, height=plan.height, image=first_frame)
        last = _decode_into(generator, generator.latents(spec, noise, progress, timings), write,
                            drop_first=number > 1 or plan.lead_frames > 0, progress=progress, timings=timings)
        first_frame = Image.fromarray(last)
    progress.end_segments()


def _decode_into(
    generator: VideoGenerator, latents: torch.Tensor, write: FrameSink, drop_first: bool,
    progress: ProgressTracker, timings: Timings,
) -> np.ndarray:
    """Stream one segment's frames to ``write``; returns its last frame (the next segment's first)."""
    chunk_count = latents.shape[2]
    chunks = generator.frames(latents)
    del latents  # the decoder holds what it needs; the next segment's latents take this memory
    progress.begin(GenerationStage.DECODING)
    last = None
    try:
        for done, chunk in enumerate(timings.each("decode", chunks), start=1):
            if drop_first and done == 1:
                chunk = chunk[1:]  # the conditioning frame, already written as the last one before
            if len(chunk):
                with timings.measure("encodeVideo"):
                    write(chunk)
                last = chunk[-1]
            progress.advance(GenerationStage.DECODING, done, chunk_count)
    finally:
        chunks.close()
    return last.copy()
