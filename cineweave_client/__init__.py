"""A typed Python client of the CineWeave API.

    from cineweave_client import Client

    client = Client("http://127.0.0.1:8080", token="cw_live_…")   # an API key or a session token
    job = client.create("a lighthouse at dawn, slow dolly in", duration_sec=5)
    done = client.wait(job.job_id)                                # JobView, once the job has ended
    client.download(done, "lighthouse.mp4")

    # in a webhook receiver: the body exactly as received, and its headers
    job = verify_webhook(body, headers, secret)                   # InvalidWebhook if not ours

Every answer is a model from ``schemas`` (``JobView``, ``JobList``, ``CreatedApiKey`` …); every
error is an ``ApiError`` carrying the API's ``{"error": {"code", "message", "field"}}`` body.
"""

from cineweave_client.client import TERMINAL, Client
from cineweave_client.transport import ApiError, TokenSource, Transport
from cineweave_client.webhooks import InvalidWebhook, verify_webhook

__all__ = ["TERMINAL", "ApiError", "Client", "InvalidWebhook", "TokenSource", "Transport", "verify_webhook"]
