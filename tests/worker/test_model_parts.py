"""The tiny model's shape, the faster CPU kernels and the streamed decode match diffusers' own."""

import copy

import numpy as np
import pytest
import torch
from diffusers.models.autoencoders.autoencoder_kl_wan import WanCausalConv3d, WanRMS_norm

from worker_image import tiny
from worker_image.cpu_kernels import ExplicitRMSNorm, TimeStackedCausalConv3d, use_cpu_kernels
from worker_image.decode import decode_frames


@pytest.fixture(scope="module")
def components() -> dict:
    return tiny.build_components(flow_shift=5.0, seed=0)


def test_the_tiny_model_has_the_ti2v_5b_shape(components):
    vae, transformer = components["vae"], components["transformer"]
    assert vae.config.z_dim == transformer.config.in_channels == transformer.config.out_channels == 48
    assert (vae.config.scale_factor_spatial, vae.config.scale_factor_temporal, vae.config.patch_size) == (16, 4, 2)
    assert tuple(transformer.config.patch_size) == (1, 2, 2)
    assert type(components["text_encoder"]).__name__ == "UMT5EncoderModel"
    ids = components["tokenizer"]("a cat on the beach", padding="max_length", max_length=16).input_ids
    assert len(ids) == 16 and components["tokenizer"].eos_token_id in ids


def test_the_tiny_model_is_the_same_for_the_same_seed_and_differs_for_another():
    weights = [tiny.build_components(5.0, seed=seed)["transformer"].proj_out.weight for seed in (1, 1, 2)]
    assert torch.equal(weights[0], weights[1])
    assert not torch.equal(weights[0], weights[2])


@pytest.mark.parametrize(("in_ch", "out_ch", "kernel", "frames"), [(4, 4, 3, 3), (4, 12, 3, 6), (8, 4, 1, 2), (4, 8, (3, 1, 1), 5)])
def test_the_time_stacked_conv_computes_what_conv3d_computes(in_ch, out_ch, kernel, frames):
    stock = WanCausalConv3d(in_ch, out_ch, kernel, padding=1 if kernel == 3 else 0)
    fast = copy.deepcopy(stock)
    fast.__class__ = TimeStackedCausalConv3d
    x = torch.randn(1, in_ch, frames, 10, 12)

    with torch.no_grad():
        torch.testing.assert_close(fast(x), stock(x), rtol=1e-4, atol=1e-5)


def test_the_explicit_rms_norm_computes_what_the_stock_one_computes():
    stock = WanRMS_norm(6, images=False)
    stock.gamma.data.uniform_(0.5, 1.5)
    fast = copy.deepcopy(stock)
    fast.__class__ = ExplicitRMSNorm
    x = torch.randn(2, 6, 3, 5, 7)

    torch.testing.assert_close(fast(x), stock(x))


def test_cpu_kernels_leave_the_decoded_video_unchanged(components):
    vae = components["vae"]
    fast = use_cpu_kernels(copy.deepcopy(vae))
    z = torch.randn(1, 48, 3, 4, 6, generator=torch.Generator().manual_seed(0))

    with torch.no_grad():
        torch.testing.assert_close(fast.decode(z).sample, vae.decode(z).sample, rtol=1e-4, atol=1e-5)


def test_streamed_decoding_gives_the_frames_of_a_whole_decode(components):
    vae = components["vae"]
    z = torch.randn(1, 48, 4, 4, 6, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        whole = vae.decode(z).sample[0]
    expected = ((whole.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(1, 2, 3, 0).numpy()

    chunks = list(decode_frames(vae, z))

    assert [len(chunk) for chunk in chunks] == [1, 4, 4, 4]
    assert np.array_equal(np.concatenate(chunks), expected)


def test_the_tiny_decoder_makes_soft_frames_not_speckle(components):
    z = torch.randn(1, 48, 2, 8, 12, generator=torch.Generator().manual_seed(2))

    frame = next(decode_frames(components["vae"], z))[0].astype(float)

    # Neighbouring pixels differ far less than independent noise (which averages ~85 levels).
    assert np.abs(np.diff(frame, axis=1)).mean() < 10
