"""The few-step sampler of the ``fast`` profile: DMD, as the step-distilled TI2V-5B was trained.

FastWan2.2-TI2V-5B (FastVideo, Apache-2.0) samples in 3 steps at fixed timesteps
[1000, 757, 522], without classifier-free guidance. Each step predicts the clean latents from the
flow the transformer returns (``x0 = x_t - sigma * v``) and, unless it is the last step,
re-noises them to the next level with fresh noise (``x = (1 - sigma') * x0 + sigma' * noise``).

diffusers' Wan pipelines take no custom timesteps and have no such update, but they delegate both
to their scheduler. So this loop is a scheduler: the pipelines run unchanged (their image
conditioning, ``first_frame_mask`` and per-token timesteps included) and this class supplies the
timesteps and the update. The fresh noise comes from the job's seeded generator (``use_noise``),
so the same seed still gives the same frames.
"""

import torch

DMD_TIMESTEPS = (1000.0, 757.0, 522.0)
NUM_TRAIN_TIMESTEPS = 1000


class DmdScheduler:
    """The DMD loop in the shape of a diffusers scheduler (what the Wan pipelines call of one)."""

    order = 1

    def __init__(self, timesteps: tuple[float, ...] = DMD_TIMESTEPS):
        self.schedule = timesteps
        self.timesteps = torch.tensor(timesteps)
        self.sigmas = torch.tensor([*timesteps, 0.0]) / NUM_TRAIN_TIMESTEPS  # read by step caches
        self._noise: torch.Generator | None = None
        self.config = {"num_train_timesteps": NUM_TRAIN_TIMESTEPS}

    @property
    def steps(self) -> int:
        return len(self.schedule)

    def use_noise(self, generator: torch.Generator) -> None:
        """Draw the re-noising noise from ``generator`` (the job's seeded one)."""
        self._noise = generator

    def set_timesteps(self, num_inference_steps: int, device: torch.device | str | None = None, **_: object) -> None:
        if num_inference_steps != self.steps:
            raise ValueError(f"the distilled model samples in {self.steps} steps, not {num_inference_steps}")
        self.timesteps = torch.tensor(self.schedule, device=device)

    def set_begin_index(self, begin_index: int = 0) -> None:
        """The pipelines call this; every DMD step finds its index from its own timestep."""

    def step(self, model_output: torch.Tensor, timestep: torch.Tensor, sample: torch.Tensor,
             return_dict: bool = False, **_: object) -> tuple[torch.Tensor]:
        index = self.schedule.index(float(timestep))
        sigma = self.schedule[index] / NUM_TRAIN_TIMESTEPS
        clean = sample.float() - sigma * model_output.float()
        if index + 1 == self.steps:
            return (clean.to(sample.dtype),)
        next_sigma = self.schedule[index + 1] / NUM_TRAIN_TIMESTEPS
        noise = torch.randn(sample.shape, generator=self._noise, dtype=torch.float32).to(sample.device)
        return (((1.0 - next_sigma) * clean + next_sigma * noise).to(sample.dtype),)
