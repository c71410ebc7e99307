"""The worker's R2 bucket (S3 API through boto3): input images in, finished MP4s (and their
posters and previews) out."""

from pathlib import Path
from typing import Protocol

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

from schemas.r2 import REGION, client_config
from worker_image.errors import InvalidInput

MB = 1024 * 1024


class Bucket(Protocol):
    """What the worker needs from object storage (``R2Bucket`` in production)."""

    def read(self, key: str, max_bytes: int) -> bytes: ...

    def upload_video(self, path: Path, key: str) -> None: ...

    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def download(self, key: str, path: Path) -> None: ...


class R2Bucket:
    """One bucket; the boto3 client is created on first use, once per worker."""

    def __init__(
        self,
        endpoint_url: str | None,
        access_key_id: str,
        secret_access_key: str,
        bucket: str,
        multipart_threshold_mb: int = 8,
    ):
        self.bucket = bucket
        self._client_args = {
            "endpoint_url": endpoint_url,
            "aws_access_key_id": access_key_id or None,
            "aws_secret_access_key": secret_access_key or None,
            "region_name": REGION,
            # R2's checksum rules (schemas/r2.py); a long read timeout, since parts are 8 MB.
            "config": Config(**client_config(max_attempts=5, connect_timeout_s=10, read_timeout_s=120)),
        }
        # Parts of 8 MB (R2 and S3 need >= 5 MB, except the last): a 15 s clip goes up in a few parts.
        self._transfer = TransferConfig(
            multipart_threshold=multipart_threshold_mb * MB, multipart_chunksize=multipart_threshold_mb * MB
        )
        self._s3 = None

    @property
    def client(self):
        if self._s3 is None:
            self._s3 = boto3.client("s3", **self._client_args)
        return self._s3

    def read(self, key: str, max_bytes: int) -> bytes:
        """The object's bytes; a missing or oversized object is the job's fault, not ours."""
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                raise InvalidInput(f"no image at {key} in the bucket") from exc
            raise
        if response["ContentLength"] > max_bytes:
            response["Body"].close()
            raise InvalidInput(f"the image is larger than {max_bytes // MB} MB")
        return response["Body"].read()

    def upload_video(self, path: Path, key: str) -> None:
        """Upload an MP4 (multipart when large), labelled ``video/mp4`` for browsers."""
        self.client.upload_file(
            str(path), self.bucket, key, ExtraArgs={"ContentType": "video/mp4"}, Config=self._transfer
        )

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """A small object (a poster, a preview) in one request."""
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def download(self, key: str, path: Path) -> None:
        """An object (the video an extension continues) to a file; a missing one is the job's fault."""
        try:
            self.client.download_file(self.bucket, key, str(path))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                raise InvalidInput(f"no video at {key} in the bucket (it may have expired)") from exc
            raise
