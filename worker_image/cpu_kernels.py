"""Faster CPU kernels for two leaf modules of diffusers' Wan VAE, same arithmetic.

With 4-channel layers (the tiny model) at 640x352, PyTorch's CPU ``conv3d`` falls back to its
slow im2col path (about 1 GFLOP/s here) and ``F.normalize`` over the channel axis of a 5-D
tensor takes ~45 ms a frame. Measured on 2 cores, a 3x3x3 causal convolution of one frame runs
~7x faster as a single ``conv2d`` over time-stacked channels, and the RMS norm ~60x faster
written out. ``use_cpu_kernels`` swaps the class of those modules in place; the modules keep
their parameters, their feature cache and everything else the VAE's decode loop relies on.
Only the tiny CPU model uses this; on a GPU the stock kernels are the fast ones.
"""

import torch
import torch.nn.functional as F
from diffusers.models.autoencoders.autoencoder_kl_wan import WanCausalConv3d, WanRMS_norm


class TimeStackedCausalConv3d(WanCausalConv3d):
    """A 3D convolution computed as one 2D convolution over windows of ``kt`` stacked frames."""

    def _conv_forward(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        if self.stride != (1, 1, 1) or self.dilation != (1, 1, 1) or self.groups != 1:
            return super()._conv_forward(x, weight, bias)
        batch, channels, frames, height, width = x.shape
        out_channels, _, kt, kh, kw = weight.shape
        frames_out = frames - kt + 1
        # (B, C, T', H, W, kt) -> (B*T', kt*C, H, W) channels-last: each output frame sees its kt
        # input frames; oneDNN's channels-last conv2d is ~2x faster than its NCHW one here.
        windows = x.unfold(2, kt, 1).permute(0, 2, 3, 4, 5, 1).reshape(batch * frames_out, height, width, kt * channels)
        weight_2d = weight.permute(0, 3, 4, 2, 1).reshape(out_channels, kh, kw, kt * channels)
        out = F.conv2d(windows.permute(0, 3, 1, 2), weight_2d.permute(0, 3, 1, 2), bias)
        out = out.view(batch, frames_out, out_channels, *out.shape[-2:])
        return out.permute(0, 2, 1, 3, 4).contiguous()


class ExplicitRMSNorm(WanRMS_norm):
    """``WanRMS_norm`` with ``F.normalize`` written out (same eps), for float32 on CPU."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dim = 1 if self.channel_first else -1
        norm = x.square().sum(dim=dim, keepdim=True).sqrt().clamp_min(1e-12)
        return x / norm * self.scale * self.gamma + self.bias


_FASTER = {WanCausalConv3d: TimeStackedCausalConv3d, WanRMS_norm: ExplicitRMSNorm}


def use_cpu_kernels(model: torch.nn.Module) -> torch.nn.Module:
    """Swap every ``WanCausalConv3d`` / ``WanRMS_norm`` in ``model`` for its CPU-friendly twin."""
    for module in model.modules():
        faster = _FASTER.get(type(module))
        if faster is not None:
            module.__class__ = faster
    return model
