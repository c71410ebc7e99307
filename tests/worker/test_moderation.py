"""Image moderation: the NSFW classifier through from_pretrained (a saved tiny ViT), and the two checks.

A tiny classifier saved leaning ``nsfw`` refuses every image, loaded through the same code path
as Falconsai's folder on the volume (``MODERATION_MODEL_DIR``): that is how these tests force a
refusal.
"""

import pytest
import torch
from botocore.exceptions import ClientError
from PIL import Image

from schemas.generation import GenerationStage
from tests.worker.helpers import image_bytes, job_input
from worker_image import nsfw
from worker_image.encode import Mp4Writer
from worker_image.errors import ModelUnavailable
from worker_image.handler import make_handler
from worker_image.moderation import sample_frames
from worker_image.settings import WorkerSettings
from worker_image.worker import VideoWorker

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def refusing_dir(tmp_path_factory):
    return nsfw.save_tiny(tmp_path_factory.mktemp("nsfw-refusing"), lean="nsfw")


@pytest.fixture(scope="module")
def allowing_dir(tmp_path_factory):
    return nsfw.save_tiny(tmp_path_factory.mktemp("nsfw-allowing"), lean="normal")


def test_a_classifier_folder_loads_through_from_pretrained_with_falconsais_labels_and_size(refusing_dir):
    classifier = nsfw.load_moderator(WorkerSettings(moderation_model_dir=refusing_dir, wan_device="cpu"))

    assert classifier.name == nsfw.REAL_LABEL  # a folder on the volume is taken as the real classifier
    assert classifier.model.config.id2label == {0: "normal", 1: "nsfw"}
    assert classifier.processor(images=[Image.new("RGB", (640, 360))], return_tensors="pt")["pixel_values"].shape == (1, 3, 224, 224)
    [verdict] = classifier.judge([Image.new("RGB", (64, 64), (200, 120, 90))])
    assert verdict.refused and verdict.label == "nsfw" and verdict.score > 0.99


def test_the_threshold_decides(allowing_dir):
    image = Image.new("RGB", (64, 64))
    assert not nsfw.NsfwClassifier(allowing_dir, threshold=0.5, device=CPU).judge([image])[0].refused
    assert nsfw.NsfwClassifier(allowing_dir, threshold=0.0, device=CPU).judge([image])[0].refused


def test_without_a_folder_the_tiny_classifier_is_built_saved_and_refuses_nothing(tmp_path):
    settings = WorkerSettings(moderation_model_dir=tmp_path / "absent", worker_tmp_dir=tmp_path, wan_device="cpu")

    classifier = nsfw.load_moderator(settings)

    assert classifier.name == nsfw.TINY_LABEL and (tmp_path / "cineweave-tiny-nsfw" / "config.json").is_file()
    assert [v.refused for v in classifier.judge([Image.new("RGB", (32, 32), c) for c in ("red", "white", "black")])] == [False] * 3


def test_without_a_folder_and_without_the_fallback_the_worker_refuses_to_start(tmp_path):
    with pytest.raises(ModelUnavailable, match="MODERATION_TINY_FALLBACK is off"):
        nsfw.load_moderator(WorkerSettings(moderation_model_dir=tmp_path / "absent", moderation_tiny_fallback=False))


def test_a_folder_without_an_nsfw_label_is_refused(tmp_path, allowing_dir):
    from transformers import AutoModelForImageClassification

    model = AutoModelForImageClassification.from_pretrained(allowing_dir)
    model.config.id2label, model.config.label2id = {0: "cat", 1: "dog"}, {"cat": 0, "dog": 1}
    model.save_pretrained(tmp_path)
    nsfw._processor().save_pretrained(tmp_path)
    with pytest.raises(ModelUnavailable, match="no 'nsfw' label"):
        nsfw.NsfwClassifier(tmp_path, 0.5, CPU)


def test_frames_are_sampled_every_interval_and_the_last(tmp_path):
    path = tmp_path / "v.mp4"
    with Mp4Writer(path, 64, 32, 24, "ultrafast", 23) as mp4:
        mp4.write(torch.zeros(121, 32, 64, 3, dtype=torch.uint8).numpy())

    indices, frames = sample_frames(path, 24)

    assert indices == [0, 24, 48, 72, 96, 120] and len(frames) == 6 and frames[0].size == (64, 32)
    assert sample_frames(path, 50)[0] == [0, 50, 100, 120]


def test_a_refused_conditioning_image_fails_the_job_before_generation(worker, settings_for, progress, s3, bucket_name, refusing_dir):
    strict = VideoWorker(settings_for(moderation_model_dir=refusing_dir), model=worker.model)
    s3.put_object(Bucket=bucket_name, Key="inputs/refused.png", Body=image_bytes(64, 64))
    request = job_input(image={"r2Key": "inputs/refused.png"})

    result = make_handler(strict, send_progress=progress)({"id": "rp-1", "input": request})

    assert result.keys() == {"error"}
    assert result["error"].startswith("[image_refused] the conditioning image was refused by moderation (nsfw ")
    assert [u["stage"] for u in progress.updates] == [GenerationStage.LOADING_IMAGE]  # no step was generated
    _assert_not_uploaded(s3, bucket_name, request["outputKey"])


def test_a_refused_output_frame_is_never_uploaded(worker, settings_for, progress, s3, bucket_name, refusing_dir):
    strict = VideoWorker(settings_for(moderation_model_dir=refusing_dir), model=worker.model)
    request = job_input()

    result = make_handler(strict, send_progress=progress)({"id": "rp-2", "input": request})

    assert result["error"].startswith("[output_refused] frame 0 of the generated video was refused by moderation")
    assert GenerationStage.UPLOADING not in [u["stage"] for u in progress.updates]
    _assert_not_uploaded(s3, bucket_name, request["outputKey"])


def test_the_default_worker_moderates_and_lets_ordinary_jobs_through(handle, worker, s3, bucket_name):
    result = handle(job_input())

    assert "error" not in result, result
    assert worker.moderator.name == nsfw.TINY_LABEL
    assert result["timings"]["moderateVideoS"] >= 0
    s3.head_object(Bucket=bucket_name, Key=result["r2Key"])


def _assert_not_uploaded(s3, bucket: str, key: str) -> None:
    with pytest.raises(ClientError) as missing:
        s3.head_object(Bucket=bucket, Key=key)
    assert missing.value.response["Error"]["Code"] in {"404", "NoSuchKey"}
