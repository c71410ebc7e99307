"""The worker's bucket adapter against a real S3-compatible server (moto, over HTTP)."""

import os

import pytest

from worker_image.errors import InvalidInput
from worker_image.storage import R2Bucket


@pytest.fixture
def bucket(s3_url, bucket_name) -> R2Bucket:
    return R2Bucket(s3_url, "test", "test", bucket_name, multipart_threshold_mb=5)


def test_a_large_video_goes_up_in_parts_labelled_video_mp4(bucket, s3, bucket_name, tmp_path):
    path = tmp_path / "big.mp4"
    body = os.urandom(11 * 1024 * 1024)
    path.write_bytes(body)

    bucket.upload_video(path, "videos/big.mp4")

    head = s3.head_object(Bucket=bucket_name, Key="videos/big.mp4")
    assert head["ContentType"] == "video/mp4"
    assert head["ETag"].strip('"').endswith("-3")  # three parts of 5, 5 and 1 MB
    assert s3.get_object(Bucket=bucket_name, Key="videos/big.mp4")["Body"].read() == body


def test_multipart_upload_with_r2s_checksum_settings_makes_a_valid_object_and_sends_no_default_checksums(
        bucket, s3, bucket_name, tmp_path):
    """R2 documents ``when_required`` for both of boto3's checksum settings; boto3's own default
    adds CRC32 checksums to every part, which R2 does not take on multipart uploads."""
    assert bucket.client.meta.config.request_checksum_calculation == "when_required"
    assert bucket.client.meta.config.response_checksum_validation == "when_required"
    sent: list[tuple[str, dict]] = []
    bucket.client.meta.events.register("before-send.s3", lambda request, **_: sent.append((request.url, dict(request.headers))))
    path = tmp_path / "clip.mp4"
    body = os.urandom(12 * 1024 * 1024)
    path.write_bytes(body)

    bucket.upload_video(path, "videos/clip.mp4")

    parts = [headers for url, headers in sent if "partNumber=" in url]
    assert len(parts) == 3
    checksum_headers = {name.lower() for _, headers in sent for name in headers if "checksum" in name.lower()}
    assert checksum_headers == set(), checksum_headers
    head = s3.head_object(Bucket=bucket_name, Key="videos/clip.mp4")
    assert head["ContentLength"] == len(body) and head["ETag"].strip('"').endswith("-3")
    assert s3.get_object(Bucket=bucket_name, Key="videos/clip.mp4")["Body"].read() == body
    assert bucket.read("videos/clip.mp4", max_bytes=len(body)) == body  # and reads back under the same settings


def test_reading_an_object_over_the_limit_is_refused(bucket, s3, bucket_name):
    s3.put_object(Bucket=bucket_name, Key="inputs/huge.png", Body=bytes(2048))

    with pytest.raises(InvalidInput, match="larger than"):
        bucket.read("inputs/huge.png", max_bytes=1024)
