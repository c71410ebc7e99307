"""A tiny, randomly initialised model of the exact Wan 2.2 TI2V-5B *shape*, built offline.

Same interfaces and geometry as the real model (48-channel latent, 16x spatial and 4x temporal
VAE compression with a 2x2 VAE patch, transformer patch 1x2x2, UMT5 text encoder, a tokenizer),
but a few thousand random parameters: the output is noise, and everything that carries it is
labelled ``TINY_MODEL_LABEL``. It lets the whole worker run on a laptop CPU in seconds.

Two choices keep the local default fast without touching the output contract:
- the VAE decoder is as thin as the architecture allows (4 channels, one residual block per
  stage): at 1280x704 it still runs causal 3D convolutions over every frame at 640x352;
- its convolutions are initialised as *smooth* random filters (a random channel mix times a
  blur kernel), so decoded frames are soft colour fields instead of white noise; soft fields
  also encode to H.264 several times faster than noise.
"""

import torch
from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanTransformer3DModel
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast, UMT5Config, UMT5EncoderModel

TINY_MODEL_LABEL = "tiny-random-wan2.2-shape (noise, not the real model)"

LATENT_CHANNELS = 48
TEXT_DIM = 32

# Words the tokenizer is trained on: any prompt still tokenizes (unknown pieces become <unk>).
_CORPUS = (
    "a cinematic shot of a cat walking on the beach at sunset, slow camera pan, golden light",
    "an astronaut riding a horse through a neon city at night in the rain, 35mm film",
    "close-up of coffee pouring into a cup, steam rising, shallow depth of field",
    "aerial view of mountains and a winding river, clouds moving fast, timelapse",
    "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789 .,;:!?'\"-()",
)


def build_tokenizer() -> PreTrainedTokenizerFast:
    """A small T5-style (Metaspace, ``</s>``-terminated) tokenizer trained in-process."""
    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.normalizer = normalizers.NFKC()
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=["<pad>", "</s>", "<unk>"])
    tokenizer.train_from_iterator(_CORPUS, trainer=trainer)
    tokenizer.post_processor = processors.TemplateProcessing(
        single="$A </s>", special_tokens=[("</s>", tokenizer.token_to_id("</s>"))]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, pad_token="<pad>", eos_token="</s>", unk_token="<unk>"
    )


def build_text_encoder(vocab_size: int) -> UMT5EncoderModel:
    config = UMT5Config(
        vocab_size=vocab_size, d_model=TEXT_DIM, d_kv=8, d_ff=64, num_layers=2, num_heads=4,
        relative_attention_num_buckets=8, dropout_rate=0.0,
    )
    return UMT5EncoderModel(config).eval()


def build_transformer() -> WanTransformer3DModel:
    # One layer and one head of 12 dims: at 27,280 tokens the attention still dominates a step.
    return WanTransformer3DModel(
        patch_size=(1, 2, 2), num_attention_heads=1, attention_head_dim=12,
        in_channels=LATENT_CHANNELS, out_channels=LATENT_CHANNELS, text_dim=TEXT_DIM,
        freq_dim=32, ffn_dim=16, num_layers=1, cross_attn_norm=True,
        qk_norm="rms_norm_across_heads", eps=1e-6, rope_max_seq_len=1024,
    ).eval()


def build_vae() -> AutoencoderKLWan:
    vae = AutoencoderKLWan(
        base_dim=4, decoder_base_dim=4, z_dim=LATENT_CHANNELS, dim_mult=[1, 1, 1, 1],
        num_res_blocks=0, temperal_downsample=[False, True, True], is_residual=True,
        in_channels=12, out_channels=12, patch_size=2, scale_factor_temporal=4,
        scale_factor_spatial=16, latents_mean=[0.0] * LATENT_CHANNELS,
        latents_std=[1.0] * LATENT_CHANNELS,
    )
    _smooth_init(vae.decoder)
    return vae.eval()


def build_scheduler(flow_shift: float) -> UniPCMultistepScheduler:
    """The official TI2V-5B sampler configuration (shared with the real model)."""
    return UniPCMultistepScheduler(
        prediction_type="flow_prediction", use_flow_sigmas=True, num_train_timesteps=1000,
        flow_shift=flow_shift,
    )


def build_components(flow_shift: float, seed: int = 0) -> dict:
    """Every component ``WanPipeline`` takes, deterministic for a given ``seed``."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        tokenizer = build_tokenizer()
        return {
            "tokenizer": tokenizer,
            "text_encoder": build_text_encoder(len(tokenizer)),
            "transformer": build_transformer(),
            "vae": build_vae(),
            "scheduler": build_scheduler(flow_shift),
        }


@torch.no_grad()
def _smooth_init(decoder: torch.nn.Module) -> None:
    """Random channel mixing times a blur, so upsampled latents stay soft rather than speckled."""
    for module in decoder.modules():
        if isinstance(module, (torch.nn.Conv2d, torch.nn.Conv3d)):
            weight = module.weight
            out_ch, in_ch, *kernel = weight.shape
            mix = torch.randn(out_ch, in_ch) / in_ch**0.5
            weight.copy_(mix.view(out_ch, in_ch, *[1] * len(kernel)) * _blur(kernel))
            if module.bias is not None:
                module.bias.zero_()
    # The last conv emits 3 colours x a 2x2 pixel patch: one weight per colour, so the patch is flat.
    conv_out = decoder.conv_out.weight
    per_colour = conv_out.view(3, 4, *conv_out.shape[1:])[:, :1]
    conv_out.copy_(per_colour.expand(3, 4, *conv_out.shape[1:]).reshape(conv_out.shape))


def _blur(kernel: list[int]) -> torch.Tensor:
    """A normalised separable [1, 2, 1] blur of the given kernel size (1 where the size is 1)."""
    taps = {1: torch.tensor([1.0]), 3: torch.tensor([1.0, 2.0, 1.0])}
    result = torch.ones(())
    for size in kernel:
        result = result.unsqueeze(-1) * taps[size]
    return result / result.sum()
