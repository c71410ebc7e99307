"""R2 (S3 API) access for the functions: input images in, presigned video URLs out, expiry deletes."""

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionError as BotoConnectionError, HTTPClientError

from schemas.r2 import REGION, client_config

_MISSING = {"404", "NoSuchKey", "NotFound"}


LINK_REUSE = timedelta(minutes=5)
MAX_CACHED_LINKS = 10_000


@dataclass(frozen=True)
class SignedLink:
    url: str
    expires_at: datetime


class StorageUnavailable(Exception):
    """Transient: R2 could not be reached or did not answer in time."""


class R2Storage:
    def __init__(self, endpoint_url: str, access_key_id: str, secret_access_key: str, bucket: str, client=None):
        self.bucket = bucket
        self._links: dict[str, SignedLink] = {}
        self._lock = threading.Lock()
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

    def presigned_get(self, key: str, until: datetime, now: datetime) -> SignedLink | None:
        """A download link valid until no later than ``until``, or None when the object is gone (R2's
        lifecycle may delete a video before our own expiry does: check, then sign)."""
        return self.sign_get(key, until, now) if self.exists(key) else None

    def sign_get(self, key: str, until: datetime, now: datetime) -> SignedLink:
        """A download link valid until no later than ``until``, signed locally without a look in the
        bucket. The file is served as an attachment, so a cross-origin Download link saves it; a
        <video> element ignores the disposition and plays it.

        A link this instance signed for the key is handed out again while it expires within
        ``LINK_REUSE`` before ``until`` (never after it): a link is a capability to GET one object
        until its own expiry, which the answer states, so giving its owner the same one again grants
        nothing a fresh one would not, and a polling page keeps one URL for its video and images
        (the browser does not fetch them again) while the poll signs nothing."""
        with self._lock:
            cached = self._links.get(key)
        if cached and until - LINK_REUSE <= cached.expires_at <= until:
            return cached
        seconds = max(1, int((until - now).total_seconds()))
        filename = f"cineweave-{key.rsplit('/', 1)[-1]}"
        params = {"Bucket": self.bucket, "Key": key, "ResponseContentDisposition": f'attachment; filename="{filename}"'}
        link = SignedLink(self._s3.generate_presigned_url("get_object", Params=params, ExpiresIn=seconds),
                          now + timedelta(seconds=seconds))
        with self._lock:
            if len(self._links) >= MAX_CACHED_LINKS:  # bounded: at worst, links are signed afresh
                self._links.clear()
            self._links[key] = link
        return link

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
