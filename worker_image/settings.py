"""The worker's one settings object, read from the environment once at start.

Model
    ``WAN_WEIGHTS_DIR``         diffusers folder of Wan2.2-TI2V-5B (default ``/runpod-volume/Wan2.2-TI2V-5B-Diffusers``);
                                loaded in bf16 on CUDA (fp32 on CPU).
    ``WAN_TINY_FALLBACK``       when that folder is absent, build the tiny random model instead of
                                failing (default ``true``; set ``false`` in production).
    ``WAN_FAST_WEIGHTS_DIR``    diffusers folder of the step-distilled FastWan2.2-TI2V-5B (the ``fast``
                                profile; default ``/runpod-volume/FastWan2.2-TI2V-5B-FullAttn-Diffusers``).
                                Only its ``transformer/`` is read. Absent: fast jobs fail (never
                                served by the standard model), unless the tiny fallback runs.
    ``WAN_STEPS``               denoising steps for the real model (default 50).
    ``WAN_TINY_STEPS``          denoising steps for the tiny model (default 2: its output is noise anyway).
    ``WAN_GUIDANCE_SCALE``      classifier-free guidance scale (default 5.0).
    ``WAN_FLOW_SHIFT``          UniPC flow shift (default 5.0).
    ``WAN_TINY_SEED``           seed of the tiny model's random weights (default 0).
    ``WAN_DEVICE``              ``cuda``, ``cpu`` or ``auto`` (default: CUDA when present).
    ``WAN_COMPILE``             on CUDA, ``torch.compile`` the transformer's 30 repeated blocks
                                (default true: 2.44 -> 1.86 s a step on an H100; the first job
                                of each new video shape pays ~15 s of compilation).
    ``WAN_ATTENTION_BACKEND``   diffusers attention backend for the transformer (``set_attention_backend``:
                                ``flash``, ``_native_cudnn``, ``sage``...; default empty: torch's own
                                SDPA choice, the fastest native one measured on an H100).
    ``WAN_FP8``                 fp8 dynamic matmuls through torchao (default false: near-lossless,
                                unmeasured here; Hopper or newer).
    ``WAN_STEP_CACHE``          ``off`` (default), ``first-block`` or ``magcache`` (diffusers.hooks);
                                ``WAN_STEP_CACHE_THRESHOLD`` (default 0.05); MagCache needs
                                ``WAN_MAGCACHE_RATIOS`` (a JSON list, the model's published ratios).
    ``WAN_VAE_BF16``            decode in bf16 on CUDA (default false: fp32, the reference).
    ``WAN_WARMUP``              ``auto`` (default: on CUDA), ``on`` or ``off``: run every compiled
                                shape once in setup, so the first job compiles nothing.
    ``TORCH_COMPILE_CACHE_DIR`` torch's compile caches (inductor and Triton), kept on the network
                                volume so a new worker reuses them (default
                                ``/runpod-volume/torch-compile-cache``; empty: torch's default).
    ``WAN_TINY_CPU_KERNELS``    swap the tiny VAE's conv3d and RMS norm for CPU-friendly twins
                                (cpu_kernels.py; default true: decode ~4x faster, same numbers).
    ``WORKER_TORCH_THREADS``    CPU threads for torch (default 0: one per core).
Video
    ``VIDEO_WIDTH`` / ``VIDEO_HEIGHT``  landscape output size, multiples of 32 (default 1280x704);
                                portrait swaps them. Tests shrink them; production leaves them.
    ``VIDEO_X264_PRESET``       libx264 preset (default ``veryfast``), ``VIDEO_X264_CRF`` (default 18).
    ``WORKER_TMP_DIR``          where MP4s are written before upload (default: the system temp dir).
Bucket (R2, S3 API)
    ``R2_ENDPOINT_URL``, ``R2_ACCESS_KEY_ID``, ``R2_SECRET_ACCESS_KEY``, ``R2_BUCKET`` (default
    ``cineweave-outputs``); ``R2_MULTIPART_THRESHOLD_MB`` (default 8).
Moderation (worker_image/moderation.py, nsfw.py)
    ``MODERATION_MODEL_DIR``    transformers folder of Falconsai/nsfw_image_detection (default
                                ``/runpod-volume/nsfw_image_detection``).
    ``MODERATION_TINY_FALLBACK``  without that folder, a tiny random ViT of the same shape that
                                refuses nothing (default true; set false in production).
    ``MODERATION_NSFW_THRESHOLD``  refuse an image whose nsfw probability is at least this (default 0.5).
    ``MODERATION_FRAME_INTERVAL``  judge every Nth frame of the finished video, and its last
                                (default 24: one a second, 6 / 11 / 16 frames for 5 / 10 / 15 s).
RunPod
    ``RUNPOD_WEBHOOK_GET_JOB``  set by RunPod (and the local stand-in); its ``gpu`` query names the
                                GPU where CUDA cannot (jobs report it as ``gpuType``).
Content Credentials (C2PA; every MP4 is signed, see provenance.py)
    ``C2PA_CERT_CHAIN_PEM``     the signing certificate chain, PEM, leaf first (production: a secret).
    ``C2PA_PRIVATE_KEY_PEM``    its ES256 private key, PEM (a secret).
    ``C2PA_TIMESTAMP_URL``      an RFC 3161 time-stamp authority (default: none).
    ``C2PA_TEST_CREDENTIALS``   without a certificate, sign with a throwaway local test CA (default
                                ``true``; set ``false`` in production, where a missing one stops the worker).
    ``C2PA_TEST_CA_DIR``        where that test CA and its leaf are kept (default: the temp dir).
Conditioning images (always read from the bucket: create_job fetches ``imageUrl`` images)
    ``IMAGE_MAX_BYTES``         largest accepted image (default 10 MB).
    ``IMAGE_MAX_SIDE_PX``       largest accepted image side (default 4096).
"""

import tempfile
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class WorkerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore", frozen=True)

    wan_weights_dir: Path = Path("/runpod-volume/Wan2.2-TI2V-5B-Diffusers")
    wan_tiny_fallback: bool = True
    wan_fast_weights_dir: Path = Path("/runpod-volume/FastWan2.2-TI2V-5B-FullAttn-Diffusers")
    wan_steps: int = Field(default=50, ge=1, le=200)
    wan_tiny_steps: int = Field(default=2, ge=1, le=200)
    wan_guidance_scale: float = Field(default=5.0, ge=0.0)
    wan_flow_shift: float = Field(default=5.0, gt=0.0)
    wan_tiny_seed: int = 0
    wan_tiny_cpu_kernels: bool = True
    wan_device: Literal["auto", "cuda", "cpu"] = "auto"
    wan_compile: bool = True
    wan_attention_backend: str = ""
    wan_fp8: bool = False
    wan_step_cache: Literal["off", "first-block", "magcache"] = "off"
    wan_step_cache_threshold: float = Field(default=0.05, gt=0)
    wan_magcache_ratios: tuple[float, ...] = ()
    wan_vae_bf16: bool = False
    wan_warmup: Literal["auto", "on", "off"] = "auto"
    torch_compile_cache_dir: Path | None = Path("/runpod-volume/torch-compile-cache")
    worker_torch_threads: int = Field(default=0, ge=0)

    video_width: int = Field(default=1280, ge=32)
    video_height: int = Field(default=704, ge=32)
    video_x264_preset: str = "veryfast"
    video_x264_crf: int = Field(default=18, ge=0, le=51)
    worker_tmp_dir: Path | None = None

    r2_endpoint_url: str | None = None
    r2_access_key_id: SecretStr = SecretStr("")
    r2_secret_access_key: SecretStr = SecretStr("")
    r2_bucket: str = "cineweave-outputs"
    r2_multipart_threshold_mb: int = Field(default=8, ge=5)

    moderation_model_dir: Path = Path("/runpod-volume/nsfw_image_detection")
    moderation_tiny_fallback: bool = True
    moderation_nsfw_threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    moderation_frame_interval: int = Field(default=24, ge=1)
    c2pa_cert_chain_pem: SecretStr = SecretStr("")
    c2pa_private_key_pem: SecretStr = SecretStr("")
    c2pa_timestamp_url: str | None = None
    c2pa_test_credentials: bool = True
    c2pa_test_ca_dir: Path | None = None

    runpod_webhook_get_job: str = ""

    image_max_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    image_max_side_px: int = Field(default=4096, gt=0)

    @field_validator("video_width", "video_height")
    @classmethod
    def _multiple_of_32(cls, value: int) -> int:
        # 16x VAE compression times the transformer's 2x2 patch: anything else is silently cropped.
        if value % 32:
            raise ValueError(f"must be a multiple of 32, got {value}")
        return value

    def test_ca_dir(self) -> Path:
        return self.c2pa_test_ca_dir or Path(self.worker_tmp_dir or tempfile.gettempdir()) / "cineweave-c2pa-test"

    def output_size(self, portrait: bool) -> tuple[int, int]:
        """``(width, height)`` of the video for the given orientation."""
        long_side, short_side = max(self.video_width, self.video_height), min(self.video_width, self.video_height)
        return (short_side, long_side) if portrait else (long_side, short_side)
