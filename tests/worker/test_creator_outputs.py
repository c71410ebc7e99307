"""What the worker makes for creators, on the tiny model at a small size: the asked-for frame shape,
the user's negative prompt, a poster and a preview beside the MP4, and signed Content Credentials."""

import io

import numpy as np
from PIL import Image

from tests.worker.helpers import download_video, image_bytes, job_input
from worker_image import provenance
from worker_image.generate import NEGATIVE_PROMPT
from worker_image.tiny import TINY_MODEL_LABEL


def test_a_portrait_ratio_makes_a_portrait_clip_from_text(handle, s3, bucket_name, tmp_path):
    result = handle(job_input(aspectRatio="9:16", seed=4))
    assert (result["width"], result["height"]) == (64, 128)
    assert download_video(s3, bucket_name, result["r2Key"], tmp_path).frames.shape == (121, 128, 64, 3)


def test_an_explicit_ratio_crops_a_portrait_image_to_landscape(handle, s3, bucket_name, tmp_path):
    s3.put_object(Bucket=bucket_name, Key="inputs/tall.png", Body=image_bytes(300, 400))
    result = handle(job_input(image={"r2Key": "inputs/tall.png"}, aspectRatio="16:9", seed=4))
    assert (result["width"], result["height"]) == (128, 64)  # the image alone would have made it portrait


def test_the_users_negative_prompt_replaces_the_models_default(handle, s3, bucket_name, tmp_path):
    default, same, other = (handle(job_input(seed=3, **extra)) for extra in
                            ({}, {"negativePrompt": NEGATIVE_PROMPT}, {"negativePrompt": "blurry, watermark"}))
    frames = [download_video(s3, bucket_name, r["r2Key"], tmp_path).frames for r in (default, same, other)]
    assert np.array_equal(frames[0], frames[1])  # absent means Wan's own default negative prompt
    assert not np.array_equal(frames[0], frames[2])


def test_a_poster_of_the_clips_size_and_a_small_preview_lie_beside_the_mp4(handle, s3, bucket_name):
    result = handle(job_input(aspectRatio="9:16", seed=8))
    stem = result["r2Key"].removesuffix(".mp4")
    assert (result["posterKey"], result["previewKey"]) == (f"{stem}.poster.jpg", f"{stem}.preview.webp")
    poster = s3.get_object(Bucket=bucket_name, Key=result["posterKey"])
    assert poster["ContentType"] == "image/jpeg"
    assert Image.open(io.BytesIO(poster["Body"].read())).size == (64, 128)  # the clip's own size
    preview = s3.get_object(Bucket=bucket_name, Key=result["previewKey"])
    image = Image.open(io.BytesIO(preview["Body"].read()))
    assert preview["ContentType"] == "image/webp" and image.is_animated and preview["ContentLength"] < 300 * 1024


def test_every_mp4_carries_content_credentials_that_validate_against_the_local_ca(handle, s3, bucket_name, tmp_path, settings_for):
    result = handle(job_input(seed=9))
    assert result["contentCredentials"] is True and "signVideoS" in result["timings"]
    path = tmp_path / "signed.mp4"
    path.write_bytes(s3.get_object(Bucket=bucket_name, Key=result["r2Key"])["Body"].read())
    ca_pem = (settings_for().test_ca_dir() / "ca.pem").read_bytes()
    found = provenance.read_video(path, trust_anchors_pem=ca_pem)
    assert found.state == "Trusted"
    assert found.digital_source_type == provenance.TRAINED_ALGORITHMIC_MEDIA
    assert found.software_agent == TINY_MODEL_LABEL  # the tiny model's output stays labelled as such
    assert download_video(s3, bucket_name, result["r2Key"], tmp_path).frames.shape[0] == 121
