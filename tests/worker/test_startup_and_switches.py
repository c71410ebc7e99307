"""Start-up warms every compiled shape; the standard profile's speed switches are settings."""

import pytest
import torch
from diffusers import FirstBlockCacheConfig, MagCacheConfig

from worker_image import speedups
from worker_image.model import load_model
from worker_image.settings import WorkerSettings
from worker_image.worker import VideoWorker


def test_setup_warms_both_orientations_of_both_profiles_and_times_it(settings_for):
    worker = VideoWorker(settings_for(wan_warmup="on"))
    shapes = []
    worker.model = load_model(worker.settings)  # loaded first, so its transformer can be watched
    hook = worker.model.text_to_video.transformer.register_forward_pre_hook(
        lambda module, args, kwargs: shapes.append(tuple(kwargs["hidden_states"].shape[-2:])), with_kwargs=True)
    try:
        worker.setup()
    finally:
        hook.remove()

    assert {"loadFastModel", "warmUp"} <= worker.setup_timings.values.keys()
    # 64x128 landscape and 128x64 portrait -> latent grids (4, 8) and (8, 4), for each profile.
    assert set(shapes) == {(4, 8), (8, 4)}
    assert len(shapes) == 2 * (2 * 2) + 2 * 3  # standard: 2 steps x CFG's 2 passes; fast: 3 steps, one pass


def test_without_cuda_auto_warm_up_is_skipped(settings_for):
    worker = VideoWorker(settings_for())
    worker.setup()
    assert "warmUp" not in worker.setup_timings.values


def test_the_step_caches_are_built_from_settings():
    fbc = speedups.step_cache_config(WorkerSettings(wan_step_cache="first-block", wan_step_cache_threshold=0.08), 50)
    assert isinstance(fbc, FirstBlockCacheConfig) and fbc.threshold == 0.08

    mag = speedups.step_cache_config(WorkerSettings(wan_step_cache="magcache", wan_magcache_ratios=(1.0, 0.99, 0.98)), 50)
    assert isinstance(mag, MagCacheConfig) and mag.num_inference_steps == 50

    with pytest.raises(ValueError, match="WAN_MAGCACHE_RATIOS"):
        speedups.step_cache_config(WorkerSettings(wan_step_cache="magcache"), 50)


def test_switches_come_from_the_environment_and_default_to_the_safe_side(monkeypatch):
    defaults = WorkerSettings()
    assert (defaults.wan_fp8, defaults.wan_step_cache, defaults.wan_vae_bf16, defaults.wan_attention_backend) == (
        False, "off", False, "")
    monkeypatch.setenv("WAN_MAGCACHE_RATIOS", "[1.0, 0.98]")
    monkeypatch.setenv("WAN_STEP_CACHE", "magcache")
    monkeypatch.setenv("TORCH_COMPILE_CACHE_DIR", "/volume/cache")
    settings = WorkerSettings()
    assert settings.wan_magcache_ratios == (1.0, 0.98) and str(settings.torch_compile_cache_dir) == "/volume/cache"


def test_on_the_cpu_no_switch_touches_the_transformer(worker):
    settings = WorkerSettings(wan_step_cache="first-block", wan_fp8=True, wan_attention_backend="flash")
    transformer = worker.model.text_to_video.transformer
    assert speedups.speed_up(transformer, settings, torch.device("cpu"), 2) == []
