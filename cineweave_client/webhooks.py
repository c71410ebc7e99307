"""Checks that a webhook came from CineWeave: its Standard Webhooks signature, and its freshness."""

from collections.abc import Mapping

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from schemas.api import JobView


class InvalidWebhook(Exception):
    """The signature does not match any of ``secrets``, a header is missing, or the timestamp is
    more than five minutes off."""


def verify_webhook(body: bytes | str, headers: Mapping[str, str], secret: str | list[str]) -> JobView:
    """The job view a webhook carries, once its signature is verified with ``secret`` (a ``whsec_``
    secret, or several while a rotation overlaps). Pass the body exactly as received, before any
    JSON parsing. Deduplicate on ``headers["webhook-id"]``: a retry carries the same one."""
    last: Exception | None = None
    for candidate in [secret] if isinstance(secret, str) else secret:
        try:
            return JobView.model_validate(Webhook(candidate).verify(body, dict(headers)), extra="ignore")
        except WebhookVerificationError as exc:
            last = exc
    raise InvalidWebhook(str(last))
