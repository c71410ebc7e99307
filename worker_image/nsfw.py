"""The NSFW image classifier: ``Falconsai/nsfw_image_detection`` (ViT-base, 224 px, Apache-2.0).

Loaded once per worker with transformers' ``from_pretrained`` from ``MODERATION_MODEL_DIR``, a
folder on the network volume like Wan's weights (``huggingface-cli download
Falconsai/nsfw_image_detection --local-dir /runpod-volume/nsfw_image_detection``). Without that
folder (and with ``MODERATION_TINY_FALLBACK``) a tiny random ViT of the same architecture, labels
and preprocessing is built offline, saved, and loaded through the very same code path; it leans
to ``normal``, so the local stack refuses nothing by accident, and it is labelled as tiny.

An image is refused when the probability of the ``nsfw`` label is at least the threshold
(``MODERATION_NSFW_THRESHOLD``, default 0.5: the model's own argmax over its two labels).
"""

import logging
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import torch
from PIL import Image
from transformers import AutoImageProcessor, AutoModelForImageClassification, ViTConfig, ViTForImageClassification

from worker_image.errors import ModelUnavailable
from worker_image.model import device_for
from worker_image.moderation import Verdict
from worker_image.settings import WorkerSettings

log = logging.getLogger(__name__)

REAL_LABEL = "Falconsai/nsfw_image_detection"
TINY_LABEL = "tiny-random-vit (not the real classifier)"
NSFW = "nsfw"
LABELS = {0: "normal", 1: NSFW}


class NsfwClassifier:
    """An ``ImageModerator`` over a transformers image-classification folder with an ``nsfw`` label."""

    def __init__(self, folder: Path, threshold: float, device: torch.device, name: str = REAL_LABEL):
        self.name = name
        self.threshold = threshold
        self.device = device
        self.processor = AutoImageProcessor.from_pretrained(folder)
        dtype = torch.float16 if device.type == "cuda" else torch.float32
        self.model = AutoModelForImageClassification.from_pretrained(folder, dtype=dtype).to(device).eval()
        labels = {label.lower(): index for index, label in self.model.config.id2label.items()}
        if NSFW not in labels:
            raise ModelUnavailable(f"the classifier at {folder} has no '{NSFW}' label: {self.model.config.id2label}")
        self._nsfw = int(labels[NSFW])

    @torch.no_grad()
    def judge(self, images: Sequence[Image.Image]) -> list[Verdict]:
        if not images:
            return []
        inputs = self.processor(images=[image.convert("RGB") for image in images], return_tensors="pt")
        pixels = inputs["pixel_values"].to(self.device, self.model.dtype)
        probabilities = self.model(pixel_values=pixels).logits.float().softmax(dim=-1)[:, self._nsfw].tolist()
        return [Verdict(refused=p >= self.threshold, score=p, label=NSFW if p >= 0.5 else "normal") for p in probabilities]


def save_tiny(folder: Path, lean: str = "normal", seed: int = 0) -> Path:
    """A tiny random ViT with Falconsai's labels and preprocessing, saved as a transformers folder.
    ``lean`` ("normal" or "nsfw") biases its head so every image gets that label (tests force refusals)."""
    config = ViTConfig(
        image_size=224, patch_size=16, num_channels=3, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, id2label=LABELS, label2id={v: k for k, v in LABELS.items()},
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = ViTForImageClassification(config).eval()
    with torch.no_grad():
        model.classifier.weight.zero_()
        model.classifier.bias.copy_(torch.tensor([8.0, -8.0] if lean == "normal" else [-8.0, 8.0]))
    model.save_pretrained(folder)
    _processor().save_pretrained(folder)
    return folder


def _processor():
    # Falconsai's preprocessor_config.json: 224x224 bilinear, rescale 1/255, mean = std = 0.5.
    from transformers import ViTImageProcessorPil

    return ViTImageProcessorPil(size={"height": 224, "width": 224}, resample=2, image_mean=[0.5] * 3, image_std=[0.5] * 3)


def load_moderator(settings: WorkerSettings) -> NsfwClassifier:
    """The classifier of ``MODERATION_MODEL_DIR`` on the generation device, else the tiny one."""
    folder, threshold, device = settings.moderation_model_dir, settings.moderation_nsfw_threshold, device_for(settings)
    if (folder / "config.json").is_file():
        return NsfwClassifier(folder, threshold, device)
    if not settings.moderation_tiny_fallback:
        raise ModelUnavailable(f"no NSFW classifier at {folder} and MODERATION_TINY_FALLBACK is off")
    log.warning("no NSFW classifier at %s: using a tiny random one that refuses nothing", folder)
    tiny_dir = Path(settings.worker_tmp_dir or tempfile.gettempdir()) / "cineweave-tiny-nsfw"
    if not (tiny_dir / "config.json").is_file():
        staging = Path(tempfile.mkdtemp(prefix=".tiny-nsfw-", dir=tiny_dir.parent))
        save_tiny(staging)
        try:
            staging.rename(tiny_dir)
        except OSError:  # another worker on this machine saved it first
            shutil.rmtree(staging, ignore_errors=True)
    return NsfwClassifier(tiny_dir, threshold, device, name=TINY_LABEL)
