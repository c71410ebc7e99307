"""Model loading: a diffusers folder through ``from_pretrained`` (offline), else the tiny model."""

import pytest
from diffusers import UniPCMultistepScheduler, WanPipeline

from worker_image import tiny
from worker_image.errors import ModelUnavailable
from worker_image.model import REAL_MODEL_LABEL, load_model
from worker_image.settings import WorkerSettings


@pytest.fixture(scope="module")
def weights_dir(tmp_path_factory):
    """A diffusers folder laid out like Wan2.2-TI2V-5B-Diffusers (tiny weights inside)."""
    folder = tmp_path_factory.mktemp("wan-diffusers")
    WanPipeline(**tiny.build_components(5.0), expand_timesteps=True).save_pretrained(folder)
    return folder


def test_a_weights_folder_loads_through_from_pretrained_with_the_ti2v_sampler(weights_dir):
    model = load_model(WorkerSettings(wan_weights_dir=weights_dir, wan_device="cpu", wan_flow_shift=3.0))

    assert (model.label, model.steps, model.is_tiny) == (REAL_MODEL_LABEL, 50, False)
    assert model.text_to_video.config.expand_timesteps and model.image_to_video.config.expand_timesteps
    scheduler = model.text_to_video.scheduler
    assert isinstance(scheduler, UniPCMultistepScheduler)
    assert (scheduler.config.prediction_type, scheduler.config.use_flow_sigmas, scheduler.config.flow_shift) == (
        "flow_prediction", True, 3.0)


def test_both_pipelines_share_one_set_of_weights(weights_dir):
    model = load_model(WorkerSettings(wan_weights_dir=weights_dir, wan_device="cpu"))

    t2v, i2v = model.text_to_video, model.image_to_video
    for name in ("transformer", "vae", "text_encoder", "tokenizer", "scheduler"):
        assert getattr(i2v, name) is getattr(t2v, name)
    assert i2v.image_encoder is None and i2v.transformer_2 is None


def test_without_weights_the_tiny_model_is_built_and_labelled(tmp_path):
    model = load_model(WorkerSettings(wan_weights_dir=tmp_path / "absent", wan_device="cpu", wan_tiny_steps=3))

    assert (model.label, model.steps, model.is_tiny) == (tiny.TINY_MODEL_LABEL, 3, True)
    assert "not the real model" in model.label


def test_without_weights_and_without_the_fallback_the_worker_refuses_to_start(tmp_path):
    with pytest.raises(ModelUnavailable, match="WAN_TINY_FALLBACK is off"):
        load_model(WorkerSettings(wan_weights_dir=tmp_path / "absent", wan_tiny_fallback=False))


def test_settings_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("WAN_WEIGHTS_DIR", str(tmp_path))
    monkeypatch.setenv("WAN_STEPS", "40")
    monkeypatch.setenv("VIDEO_WIDTH", "640")
    monkeypatch.setenv("VIDEO_HEIGHT", "352")
    monkeypatch.setenv("R2_SECRET_ACCESS_KEY", "s3cret")

    settings = WorkerSettings()

    assert (settings.wan_weights_dir, settings.wan_steps) == (tmp_path, 40)
    assert settings.output_size(portrait=False) == (640, 352) and settings.output_size(portrait=True) == (352, 640)
    assert "s3cret" not in repr(settings)


def test_sizes_that_are_not_multiples_of_32_are_refused():
    with pytest.raises(ValueError, match="multiple of 32"):
        WorkerSettings(video_width=1280, video_height=720)
