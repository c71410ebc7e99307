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


def test_reading_an_object_over_the_limit_is_refused(bucket, s3, bucket_name):
    s3.put_object(Bucket=bucket_name, Key="inputs/huge.png", Body=bytes(2048))

    with pytest.raises(InvalidInput, match="larger than"):
        bucket.read("inputs/huge.png", max_bytes=1024)
