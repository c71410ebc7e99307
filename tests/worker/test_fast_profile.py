"""The ``fast`` profile: its own 3-step DMD loop without CFG, and never served by the standard model."""

import pytest
import torch
from diffusers import WanPipeline

from tests.worker.helpers import job_input
from worker_image import tiny
from worker_image.dmd import DMD_TIMESTEPS, DmdScheduler
from worker_image.handler import make_handler
from worker_image.model import FAST_LABEL_SUFFIX, REAL_MODEL_LABEL
from worker_image.worker import VideoWorker


class Forwards:
    """Records each transformer forward: batch size and the largest per-token timestep."""

    def __init__(self, transformer):
        self.calls: list[tuple[int, float]] = []
        self._hook = transformer.register_forward_pre_hook(self._record, with_kwargs=True)

    def _record(self, module, args, kwargs):
        self.calls.append((kwargs["hidden_states"].shape[0], float(kwargs["timestep"].max())))

    def remove(self) -> None:
        self._hook.remove()


@pytest.fixture
def forwards(worker):
    recorder = Forwards(worker.model.text_to_video.transformer)  # the tiny fast model shares it
    yield recorder
    recorder.remove()


def test_fast_runs_the_dmd_loop_three_steps_one_forward_each(handle, progress, forwards, worker):
    result = handle(job_input(quality="fast", seed=2))

    assert result["frames"] == 121 and result["model"].endswith(FAST_LABEL_SUFFIX)
    assert forwards.calls == [(1, t) for t in DMD_TIMESTEPS]  # no unconditional (CFG) pass
    assert [(u["step"], u["steps"]) for u in progress.updates if "step" in u] == [(1, 3), (2, 3), (3, 3)]
    assert worker.model.steps != 3  # the standard loop has a step count of its own


def test_standard_runs_its_own_loop_with_cfg(handle, forwards, worker):
    handle(job_input(seed=2))

    assert len(forwards.calls) == 2 * worker.model.steps  # a conditional and an unconditional forward a step
    assert [t for _, t in forwards.calls[::2]] != list(DMD_TIMESTEPS)


def test_a_fast_long_clip_runs_each_segment_through_the_fast_loop(handle, forwards):
    result = handle(job_input(quality="fast", duration=10, seed=2))

    assert result["frames"] == 241
    assert [t for _, t in forwards.calls] == list(DMD_TIMESTEPS) * 2


def test_the_dmd_step_predicts_the_clean_sample_then_renoises_to_the_next_level():
    scheduler = DmdScheduler()
    scheduler.set_timesteps(3)
    sample, flow = torch.full((1, 2), 0.5), torch.full((1, 2), 0.25)
    scheduler.use_noise(torch.Generator().manual_seed(0))
    noise = torch.randn((1, 2), generator=torch.Generator().manual_seed(0))

    middle = scheduler.step(flow, scheduler.timesteps[1], sample)[0]
    last = scheduler.step(flow, scheduler.timesteps[2], sample)[0]

    clean_middle = sample - 0.757 * flow
    assert torch.allclose(middle, (1 - 0.522) * clean_middle + 0.522 * noise)
    assert torch.allclose(last, sample - 0.522 * flow)  # the last step returns the clean prediction


def test_the_distilled_model_refuses_another_step_count():
    with pytest.raises(ValueError, match="3 steps, not 50"):
        DmdScheduler().set_timesteps(50)


@pytest.fixture(scope="module")
def weights_dir(tmp_path_factory):
    """A diffusers folder standing in for the real weights (tiny inside)."""
    folder = tmp_path_factory.mktemp("wan-diffusers")
    WanPipeline(**tiny.build_components(5.0), expand_timesteps=True).save_pretrained(folder)
    return folder


def test_without_fast_weights_and_without_the_fallback_a_fast_job_fails_clearly(settings_for, weights_dir, tmp_path):
    worker = VideoWorker(settings_for(wan_weights_dir=weights_dir, wan_tiny_fallback=False,
                                      wan_fast_weights_dir=tmp_path / "absent"))
    handler = make_handler(worker, send_progress=lambda job, update: None)

    result = handler({"id": "rp-fast", "input": job_input(quality="fast")})

    assert result == {"error": "profile unavailable: the fast profile's weights are not deployed on this "
                               f"worker ({tmp_path / 'absent'})"}
    assert worker.model.label == REAL_MODEL_LABEL  # the standard model is there, and was not used


def test_fast_weights_load_their_own_transformer_beside_the_standard_model(settings_for, weights_dir):
    worker = VideoWorker(settings_for(wan_weights_dir=weights_dir, wan_tiny_fallback=False,
                                      wan_fast_weights_dir=weights_dir))
    worker.setup()

    fast, standard = worker.fast_model, worker.model
    assert fast.label == REAL_MODEL_LABEL + FAST_LABEL_SUFFIX and (fast.steps, fast.guidance_scale) == (3, 1.0)
    assert fast.text_to_video.transformer is not standard.text_to_video.transformer
    assert fast.text_to_video.vae is standard.text_to_video.vae  # only the transformer was distilled
    assert isinstance(fast.image_to_video.scheduler, DmdScheduler)
