"""The worker, cog-style: ``setup()`` loads the model once, ``run(input)`` makes one video.

``run`` takes a validated ``GenerationInput`` and returns a ``GenerationOutput`` (the R2 key and
facts, never bytes). Bad input raises ``InvalidInput``; anything else is a crash for the caller
to report. Dependencies (bucket, image loader) are injected; the defaults come from settings.
"""

import random
import tempfile
from collections.abc import Iterator
from contextlib import closing
from fractions import Fraction
from pathlib import Path

from PIL import Image

from schemas.generation import MAX_SEED, GenerationInput, GenerationOutput, GenerationStage
from schemas.jobs import FPS, frames_for
from worker_image import images
from worker_image.encode import Mp4Writer, VideoFacts, verify
from worker_image.generate import VideoGenerator, VideoSpec
from worker_image.model import WanModel, load_model
from worker_image.progress import ProgressSink, ProgressTracker
from worker_image.settings import WorkerSettings
from worker_image.storage import Bucket, R2Bucket
from worker_image.timings import Timings


class VideoWorker:
    def __init__(
        self,
        settings: WorkerSettings,
        bucket: Bucket | None = None,
        image_loader: images.ImageLoader | None = None,
        model: WanModel | None = None,
    ):
        self.settings = settings
        self.bucket = bucket or R2Bucket(
            settings.r2_endpoint_url,
            settings.r2_access_key_id.get_secret_value(),
            settings.r2_secret_access_key.get_secret_value(),
            settings.r2_bucket,
            settings.r2_multipart_threshold_mb,
        )
        self.image_loader = image_loader or images.ImageLoader(
            self.bucket.read,
            max_bytes=settings.image_max_bytes,
            max_side=settings.image_max_side_px,
            timeout_s=settings.image_fetch_timeout_s,
            allow_http=settings.allow_http_image_urls,
        )
        self.model = model

    def setup(self) -> None:
        """Load the model (once; later calls do nothing)."""
        if self.model is None:
            self.model = load_model(self.settings)

    def release_memory(self) -> None:
        """After a failed job: drop the VAE's feature cache and cached GPU blocks."""
        if self.model is not None:
            self.model.free_memory()

    def run(self, request: GenerationInput, on_progress: ProgressSink) -> GenerationOutput:
        self.setup()
        progress, timings = ProgressTracker(on_progress), Timings()
        generator = VideoGenerator(self.model, self.settings.wan_guidance_scale)
        with timings.measure("total"):
            spec = self._spec(request, progress, timings)
            latents = generator.latents(spec, progress, timings)
            facts = VideoFacts(frames=spec.frames, width=spec.width, height=spec.height, fps=Fraction(FPS))
            with tempfile.TemporaryDirectory(prefix="cineweave-", dir=self.settings.worker_tmp_dir) as folder:
                path = Path(folder) / "video.mp4"
                self._write_video(generator.frames(latents), latents.shape[2], path, facts, progress, timings)
                del latents
                progress.begin(GenerationStage.UPLOADING)
                with timings.measure("upload"):
                    self.bucket.upload_video(path, request.output_key)
        progress.complete()
        return GenerationOutput(
            r2_key=request.output_key, duration_sec=request.duration_sec, frames=facts.frames,
            width=facts.width, height=facts.height, fps=FPS, seed=spec.seed, model=self.model.label,
            timings=timings.as_wire(),
        )

    def _spec(self, request: GenerationInput, progress: ProgressTracker, timings: Timings) -> VideoSpec:
        image: Image.Image | None = None
        if request.image is not None:
            progress.begin(GenerationStage.LOADING_IMAGE)
            with timings.measure("loadImage"):
                image = self.image_loader.load(request.image)
        width, height = self.settings.output_size(portrait=image is not None and images.is_portrait(image))
        return VideoSpec(
            prompt=request.prompt,
            frames=frames_for(request.duration_sec),
            width=width,
            height=height,
            seed=request.seed if request.seed is not None else random.randint(0, MAX_SEED),
            image=images.fit(image, width, height) if image is not None else None,
        )

    def _write_video(
        self, chunks: Iterator, chunk_count: int, path: Path, facts: VideoFacts, progress: ProgressTracker,
        timings: Timings,
    ) -> None:
        """Decode and encode chunk by chunk (one chunk of frames in memory), then check the file."""
        settings = self.settings
        progress.begin(GenerationStage.DECODING)
        with (
            closing(chunks),
            Mp4Writer(path, facts.width, facts.height, FPS, settings.video_x264_preset, settings.video_x264_crf) as mp4,
        ):
            for done, chunk in enumerate(timings.each("decode", chunks), start=1):
                with timings.measure("encodeVideo"):
                    mp4.write(chunk)
                progress.advance(GenerationStage.DECODING, done, chunk_count)
            progress.begin(GenerationStage.ENCODING_VIDEO)
            with timings.measure("encodeVideo"):
                mp4.close()
        with timings.measure("verifyVideo"):
            verify(path, facts)
