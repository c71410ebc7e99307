"""What moderation costs per image and per video: ``python -m worker_image.bench_moderation``.

The classifier's cost depends on its architecture, not on its weights, so without
``--model-dir`` a randomly initialised ViT-base of exactly Falconsai/nsfw_image_detection's
shape (224 px, patch 16, 12 layers of 768, two labels) is built offline, saved, and loaded through
the worker's own ``NsfwClassifier``. Prints milliseconds per image for one image (the conditioning
image) and for a batch of 16 (the sampled frames of a 15 s video), and the cost of decoding and
sampling the frames of a finished 1280x704 MP4.
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from transformers import ViTConfig, ViTForImageClassification

from worker_image import nsfw
from worker_image.encode import Mp4Writer
from worker_image.moderation import sample_frames


def vit_base_folder(folder: Path) -> Path:
    config = ViTConfig(image_size=224, patch_size=16, id2label=nsfw.LABELS, label2id={v: k for k, v in nsfw.LABELS.items()})
    ViTForImageClassification(config).eval().save_pretrained(folder)
    nsfw._processor().save_pretrained(folder)
    return folder


def per_image_ms(classifier: nsfw.NsfwClassifier, images: list[Image.Image], repeats: int) -> float:
    classifier.judge(images)  # warm-up
    if classifier.device.type == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    for _ in range(repeats):
        classifier.judge(images)
    if classifier.device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - started) / repeats / len(images) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, help="a real classifier folder (default: a random ViT-base of its shape)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    device = torch.device(args.device)
    rng = np.random.default_rng(0)
    photo = Image.fromarray(rng.integers(0, 256, (704, 1280, 3), dtype=np.uint8))
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.model_dir or vit_base_folder(Path(scratch) / "vit-base")
        classifier = nsfw.NsfwClassifier(folder, threshold=0.5, device=device)
        params = sum(p.numel() for p in classifier.model.parameters()) / 1e6
        print(f"classifier: {folder.name}, {params:.1f} M parameters, {classifier.model.dtype}, on {device} "
              f"({torch.get_num_threads()} CPU threads)")
        print(f"  1 image (the conditioning image):  {per_image_ms(classifier, [photo], args.repeats):7.1f} ms per image")
        print(f"  16 images (a 15 s clip's samples): {per_image_ms(classifier, [photo] * 16, args.repeats):7.1f} ms per image")

        video = Path(scratch) / "clip.mp4"
        with Mp4Writer(video, 1280, 704, 24, "veryfast", 18) as mp4:
            base = rng.integers(0, 256, (1, 704, 1280, 3), dtype=np.uint8)
            for i in range(0, 121, 4):
                mp4.write(np.roll(base, i * 8, axis=2).repeat(min(4, 121 - i), axis=0))
        started = time.perf_counter()
        indices, frames = sample_frames(video, 24)
        decode_s = time.perf_counter() - started
        print(f"  sampling a 121-frame 1280x704 MP4 (every 24th + last, {len(frames)} frames): {decode_s * 1000:.0f} ms decode")


if __name__ == "__main__":
    main()
