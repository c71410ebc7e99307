"""R2 (S3 API) access for the functions: input images in, presigned video URLs out, expiry deletes."""

from datetime import timedelta

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError


class R2Storage:
    def __init__(self, endpoint_url: str, access_key_id: str, secret_access_key: str, bucket: str, client=None):
        self.bucket = bucket
        self._s3 = client or boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            region_name="auto",
            config=Config(signature_version="s3v4", retries={"max_attempts": 3, "mode": "standard"}),
        )

    def put(self, key: str, body: bytes, content_type: str) -> None:
        self._s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)

    def presigned_get(self, key: str, expires_in: timedelta) -> str:
        """A time-limited download link. The file is served as an attachment, so a cross-origin
        Download link saves it; a <video> element ignores the disposition and still plays it."""
        seconds = max(1, int(expires_in.total_seconds()))
        filename = f"cineweave-{key.rsplit('/', 1)[-1]}"
        params = {"Bucket": self.bucket, "Key": key, "ResponseContentDisposition": f'attachment; filename="{filename}"'}
        return self._s3.generate_presigned_url("get_object", Params=params, ExpiresIn=seconds)

    def delete(self, key: str) -> None:
        """Idempotent: deleting a missing object succeeds."""
        self._s3.delete_object(Bucket=self.bucket, Key=key)

    def exists(self, key: str) -> bool:
        try:
            self._s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise
        return True
