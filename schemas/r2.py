"""R2's S3 dialect: the boto3 client settings Cloudflare documents for R2, shared by the functions
and the worker (both import ``schemas``; neither imports the other).

boto3 1.36+ adds CRC checksums to every upload and checks them on every download by default
("when_supported"). R2 does not support every checksum boto3 sends (a multipart upload with
the new default checksums is refused or left unverifiable), so Cloudflare's R2 docs ask for
"when_required": checksums only where the S3 API requires one. Plain data, no boto3 import:
callers build ``botocore.config.Config(**client_config(...))``.
"""

from typing import Any

REGION = "auto"  # R2 has no regions; boto3 needs a name to sign with

# The bucket's lifecycle rule deletes videos and inputs this long after their upload, never sooner
# (it may lag). Terraform's ``r2_object_max_age_s``; the offline infra checks hold the two equal.
LIFECYCLE_MAX_AGE_S = 86400


def client_config(*, max_attempts: int, connect_timeout_s: float, read_timeout_s: float) -> dict[str, Any]:
    return {
        "signature_version": "s3v4",
        "request_checksum_calculation": "when_required",
        "response_checksum_validation": "when_required",
        "retries": {"max_attempts": max_attempts, "mode": "standard"},
        "connect_timeout": connect_timeout_s,
        "read_timeout": read_timeout_s,
    }
