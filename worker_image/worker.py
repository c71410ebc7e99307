"""The worker, cog-style: ``setup()`` loads the model once, ``run(input)`` makes one video.

``run`` takes a validated ``GenerationInput`` and returns a ``GenerationOutput`` (the R2 key and
facts, never bytes). Bad input raises ``InvalidInput``; anything else is a crash for the caller
to report. Dependencies (bucket, image loader) are injected; the defaults come from settings.
"""

import random
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from time import perf_counter

import numpy as np
from PIL import Image

from schemas.generation import MAX_SEED, GenerationInput, GenerationOutput, GenerationStage, still_keys
from schemas.jobs import FPS, Quality, is_portrait, segments_for
from worker_image import images, moderation, provenance
from worker_image.clip import ClipPlan, render_clip
from worker_image.continuation import ParentVideo, open_parent
from worker_image.encode import Mp4Writer, VideoFacts, verify
from worker_image.errors import ProfileUnavailable
from worker_image.generate import VideoGenerator
from worker_image.gpu import gpu_name
from worker_image.model import WanModel, load_fast_model, load_model
from worker_image.nsfw import load_moderator
from worker_image.progress import ProgressSink, ProgressTracker
from worker_image.settings import WorkerSettings
from worker_image.stills import Stills
from worker_image.storage import Bucket, R2Bucket
from worker_image.timings import Timings
from worker_image.warmup import warm_up

# Seams for features that look at a clip as it is made (moderation samples frames, provenance
# signs the file): a frame observer sees every chunk the encoder gets, in order; a video check
# sees the finished, verified MP4 before it is uploaded. Either may raise to fail the job.
FrameObserver = Callable[[np.ndarray], None]
VideoCheck = Callable[[Path, GenerationInput], None]


class VideoWorker:
    def __init__(
        self,
        settings: WorkerSettings,
        bucket: Bucket | None = None,
        image_loader: images.ImageLoader | None = None,
        model: WanModel | None = None,
        frame_observers: Sequence[FrameObserver] = (),
        video_checks: Sequence[VideoCheck] = (),
        moderator: moderation.ImageModerator | None = None,
        load: Callable[[WorkerSettings], WanModel] = load_model,
    ):
        self.settings = settings
        self._load = load
        self._cold_setup_s: float | None = None  # set by setup(), reported by the next job
        self.bucket = bucket or R2Bucket(
            settings.r2_endpoint_url,
            settings.r2_access_key_id.get_secret_value(),
            settings.r2_secret_access_key.get_secret_value(),
            settings.r2_bucket,
            settings.r2_multipart_threshold_mb,
        )
        self.image_loader = image_loader or images.ImageLoader(
            self.bucket.read, max_bytes=settings.image_max_bytes, max_side=settings.image_max_side_px
        )
        self.model = model
        self.fast_model: WanModel | None = None
        self.setup_timings = Timings()
        self._fast_loaded = False
        self.frame_observers = tuple(frame_observers)
        self.video_checks = tuple(video_checks)
        self.moderator = moderator  # None: the NSFW classifier of the settings, loaded by setup()
        self.credentials: provenance.SigningCredentials | None = None

    def setup(self) -> None:
        """Load the models, warm their compiled shapes, load the signing credentials (once; later
        calls do nothing). ``setup_timings`` records what start-up cost: weights read, warm-up; the
        next job reports a cold start."""
        started = perf_counter()
        loaded = False
        if self.credentials is None:
            s = self.settings
            self.credentials = provenance.credentials_from(
                s.c2pa_cert_chain_pem.get_secret_value(), s.c2pa_private_key_pem.get_secret_value(), s.c2pa_timestamp_url,
                s.test_ca_dir() if s.c2pa_test_credentials else None,
            )
        if self.model is None:
            with self.setup_timings.measure("loadModel"):
                self.model = self._load(self.settings)
            loaded = True
        if not self._fast_loaded:
            with self.setup_timings.measure("loadFastModel"):
                self.fast_model = load_fast_model(self.settings, self.model)
            self._fast_loaded = True
            if self._warm_up_wanted():
                sizes = [self.settings.output_size(portrait=False), self.settings.output_size(portrait=True)]
                with self.setup_timings.measure("warmUp"):
                    for model in (self.model, self.fast_model):
                        if model is not None:
                            warm_up(model, sizes)
        if self.moderator is None:
            self.moderator = load_moderator(self.settings)
        if loaded:
            self._cold_setup_s = perf_counter() - started

    def _warm_up_wanted(self) -> bool:
        if self.settings.wan_warmup == "auto":
            return self.model.device.type == "cuda" and self.settings.wan_compile
        return self.settings.wan_warmup == "on"

    def release_memory(self) -> None:
        """After a failed job: drop the VAE's feature cache and cached GPU blocks."""
        if self.model is not None:
            self.model.free_memory()

    def model_for(self, quality: Quality) -> WanModel:
        """The model of a quality profile; a profile this worker lacks is never served by another."""
        self.setup()
        if quality is Quality.STANDARD:
            return self.model
        if self.fast_model is None:
            raise ProfileUnavailable(
                f"the fast profile's weights are not deployed on this worker ({self.settings.wan_fast_weights_dir})"
            )
        return self.fast_model

    def run(self, request: GenerationInput, on_progress: ProgressSink) -> GenerationOutput:
        model = self.model_for(request.quality)
        setup_s, self._cold_setup_s = self._cold_setup_s, None  # this job met the worker cold, or not
        progress, timings = ProgressTracker(on_progress, segments=segments_for(request.duration_sec)), Timings()
        with timings.measure("total"):
            with tempfile.TemporaryDirectory(prefix="cineweave-", dir=self.settings.worker_tmp_dir) as folder:
                parent = self._parent(request, Path(folder), progress, timings)
                plan = self._plan(request, parent, progress, timings)
                facts = VideoFacts(frames=plan.frames, width=plan.width, height=plan.height, fps=Fraction(FPS))
                stills = Stills(plan.frames)
                poster_key, preview_key = still_keys(request.output_key)
                path = Path(folder) / "video.mp4"
                generator = VideoGenerator(model, negative_prompt=request.negative_prompt)
                self._make_video(generator, plan, parent, path, facts, stills, model.label, progress, timings)
                with timings.measure("moderateVideo"):
                    moderation.check_video(self.moderator, path, self.settings.moderation_frame_interval)
                for check in self.video_checks:
                    check(path, request)
                progress.begin(GenerationStage.UPLOADING)
                with timings.measure("stills"):
                    poster, preview = stills.poster_jpeg(), stills.preview_webp()
                with timings.measure("upload"):
                    self.bucket.upload_video(path, request.output_key)
                    self.bucket.put(poster_key, poster, "image/jpeg")
                    self.bucket.put(preview_key, preview, "image/webp")
        progress.complete()
        total_sec = request.duration_sec + (request.continues.duration_sec if request.continues else 0)
        return GenerationOutput(
            r2_key=request.output_key, duration_sec=total_sec, frames=facts.frames,
            width=facts.width, height=facts.height, fps=FPS, seed=plan.seed, model=model.label,
            timings=timings.as_wire(), poster_key=poster_key, preview_key=preview_key, content_credentials=True,
            gpu_type=gpu_name(model.device, self.settings.runpod_webhook_get_job),
            cold_start=setup_s is not None, setup_s=round(setup_s, 3) if setup_s is not None else None,
        )

    def _parent(self, request: GenerationInput, folder: Path, progress: ProgressTracker, timings: Timings
                ) -> ParentVideo | None:
        """The video an extension continues, downloaded into ``folder``."""
        if request.continues is None:
            return None
        progress.begin(GenerationStage.LOADING_VIDEO)
        with timings.measure("loadVideo"):
            path = folder / "parent.mp4"
            self.bucket.download(request.continues.video_key, path)
            return open_parent(path, request.continues.frames)

    def _plan(self, request: GenerationInput, parent: ParentVideo | None, progress: ProgressTracker, timings: Timings
              ) -> ClipPlan:
        seed = request.seed if request.seed is not None else random.randint(0, MAX_SEED)
        if parent is not None:  # its frames go first; its last frame starts the new segments
            return ClipPlan(prompts=tuple(request.segment_prompts()), width=parent.width, height=parent.height, seed=seed,
                            lead_frames=parent.frames)
        image: Image.Image | None = None
        if request.image is not None:
            progress.begin(GenerationStage.LOADING_IMAGE)
            with timings.measure("loadImage"):
                image = self.image_loader.load(request.image)
            with timings.measure("moderateImage"):
                moderation.check_image(self.moderator, image)
        # An asked-for frame wins (an image is then centre-cropped to it); else the image's orientation.
        portrait = is_portrait(request.aspect_ratio) if request.aspect_ratio else image is not None and images.is_portrait(image)
        width, height = self.settings.output_size(portrait=portrait)
        return ClipPlan(
            prompts=tuple(request.segment_prompts()),
            width=width,
            height=height,
            seed=seed,
            image=images.fit(image, width, height) if image is not None else None,
        )

    def _make_video(
        self, generator: VideoGenerator, plan: ClipPlan, parent: ParentVideo | None, path: Path, facts: VideoFacts,
        stills: Stills, model_label: str, progress: ProgressTracker, timings: Timings,
    ) -> None:
        """Every segment streams its frames into one H.264 encoder (and the poster and preview take
        theirs on the way); the file is signed with its Content Credentials, then checked."""
        settings = self.settings
        unsigned = path.with_name("unsigned.mp4")
        with Mp4Writer(unsigned, facts.width, facts.height, FPS, settings.video_x264_preset, settings.video_x264_crf) as mp4:

            def write(chunk: np.ndarray) -> None:
                mp4.write(chunk)
                stills.add(chunk)
                for observe in self.frame_observers:
                    observe(chunk)

            if parent is not None:
                with timings.measure("copyVideo"):
                    plan = replace(plan, image=parent.copy_into(write))
            render_clip(generator, plan, write, progress, timings)
            progress.begin(GenerationStage.ENCODING_VIDEO)
            with timings.measure("encodeVideo"):
                mp4.close()
        with timings.measure("signVideo"):
            provenance.sign_video(unsigned, path, self.credentials, model_label, datetime.now(UTC))
            unsigned.unlink()
        with timings.measure("verifyVideo"):
            verify(path, facts)
