"""Latents -> uint8 RGB frames, streamed one latent frame (4 video frames) at a time.

``AutoencoderKLWan.decode`` already runs its causal decoder one latent frame at a time, but it
concatenates every decoded float frame into one tensor (121 x 3 x 704 x 1280 floats, grown by
repeated ``torch.cat``), and the pipeline then copies it to float numpy. This module drives the
same decoder modules with the same feature cache, exactly as ``AutoencoderKLWan._decode`` does
(diffusers 0.42, non-tiled path), but hands each chunk out as uint8 as soon as it exists, so a
15 s clip never holds all its frames in float, nor twice.
"""

from collections.abc import Iterator

import numpy as np
import torch
from diffusers import AutoencoderKLWan
from diffusers.models.autoencoders.autoencoder_kl_wan import unpatchify


def denormalize_latents(vae: AutoencoderKLWan, latents: torch.Tensor) -> torch.Tensor:
    """Undo the latent normalisation, as the Wan pipelines do before ``vae.decode``."""
    shape = (1, vae.config.z_dim, 1, 1, 1)
    mean = torch.tensor(vae.config.latents_mean).view(shape)
    std = torch.tensor(vae.config.latents_std).view(shape)
    latents = latents.to(device=vae.device, dtype=vae.dtype)
    return latents * std.to(latents) + mean.to(latents)


@torch.no_grad()
def decode_frames(vae: AutoencoderKLWan, latents: torch.Tensor) -> Iterator[np.ndarray]:
    """Yield ``(n, height, width, 3)`` uint8 frames for normalised ``latents`` of one video.

    The first chunk holds 1 frame, every later one ``vae.config.scale_factor_temporal`` frames.
    """
    if latents.shape[0] != 1:
        raise ValueError(f"decode one video at a time, got a batch of {latents.shape[0]}")
    z = denormalize_latents(vae, latents)
    vae.clear_cache()
    try:
        x = vae.post_quant_conv(z)
        for i in range(x.shape[2]):
            vae._conv_idx = [0]
            chunk = vae.decoder(
                x[:, :, i : i + 1], feat_cache=vae._feat_map, feat_idx=vae._conv_idx, first_chunk=i == 0
            )
            if vae.config.patch_size is not None:
                chunk = unpatchify(chunk, patch_size=vae.config.patch_size)
            yield to_uint8(chunk[0])
    finally:
        vae.clear_cache()


def to_uint8(video: torch.Tensor) -> np.ndarray:
    """``(3, n, h, w)`` in [-1, 1] -> ``(n, h, w, 3)`` uint8, rounded as diffusers' postprocess does."""
    scaled = ((video.float().clamp(-1.0, 1.0) + 1.0) * 127.5).round()
    return scaled.to(torch.uint8).permute(1, 2, 3, 0).contiguous().cpu().numpy()
