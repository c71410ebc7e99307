"""R2 (S3 API) access for the functions: input images in, presigned video URLs out, expiry deletes."""

import contextlib
from collections.abc import Iterator
from datetime import timedelta

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionError as BotoConnectionError, HTTPClientError

from schemas.r2 import REGION, client_config

_MISSING = {"404", "NoSuchKey", "NotFound"}


class StorageUnavailable(Exception):
    """Transient: R2 could not be reached or did not answer in time."""


class R2Storage:
    def __init__(self, endpoint_url: str, access_key_id: str, secret_access_key: str, bucket: str, client=None):
        self.bucket = bucket
        # Short timeouts: a function (the clock tick above all) must not hang on a slow R2.
        self._s3 = client or boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            region_name=REGION,
            config=Config(**client_config(max_attempts=3, connect_timeout_s=5, read_timeout_s=20)),
        )

    def put(self, key: str, body: bytes, content_type: str) -> None:
        with _reachable():
            self._s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)

    def presigned_get(self, key: str, expires_in: timedelta) -> str | None:
        """A time-limited download link, or None when the object is gone (R2's lifecycle may delete a
        video before our own expiry does: check, then sign)."""
        return self.sign_get(key, expires_in) if self.exists(key) else None

    def sign_get(self, key: str, expires_in: timedelta) -> str:
        """A time-limited download link, signed locally without a look in the bucket. The file is
        served as an attachment, so a cross-origin Download link saves it; a <video> element ignores
        the disposition and plays it."""
        seconds = max(1, int(expires_in.total_seconds()))
        filename = f"cineweave-{key.rsplit('/', 1)[-1]}"
        params = {"Bucket": self.bucket, "Key": key, "ResponseContentDisposition": f'attachment; filename="{filename}"'}
        return self._s3.generate_presigned_url("get_object", Params=params, ExpiresIn=seconds)

    def delete(self, key: str) -> None:
        """Idempotent: deleting a missing object succeeds."""
        with _reachable():
            self._s3.delete_object(Bucket=self.bucket, Key=key)

    def exists(self, key: str) -> bool:
        try:
            with _reachable():
                self._s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                return False
            raise
        return True


@contextlib.contextmanager
def _reachable() -> Iterator[None]:
    """Turns boto3's connection failures and timeouts into ``StorageUnavailable``."""
    try:
        yield
    except (BotoConnectionError, HTTPClientError) as exc:
        raise StorageUnavailable(f"R2 is unreachable: {exc}") from exc
