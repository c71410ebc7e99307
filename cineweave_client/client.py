"""``Client``: one method per API operation, each answering the typed model from ``schemas``.

Extension points: new operations are methods built on ``self.http`` (a ``Transport``) and a
model from ``schemas``; ``poll`` is the polling fallback a stream-based ``wait`` can reuse.
"""

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import requests
from pydantic import BaseModel

from cineweave_client.events import follow
from cineweave_client.polling import poll_until
from cineweave_client.transport import TokenSource, Transport
from schemas.api import CreateJobResponse, CreditsView, JobList, JobView, PlanList
from schemas.jobs import JobStatus
from schemas.keys import ApiKeyList, ApiKeyView, CreatedApiKey
from schemas.webhooks import DeliveryList, DeliveryView, EndpointCreated, EndpointList, EndpointView, SecretView

M = TypeVar("M", bound=BaseModel)

TERMINAL = frozenset({JobStatus.DONE, JobStatus.EXPIRED, JobStatus.REJECTED, JobStatus.FAILED, JobStatus.CANCELED})


class Client:
    """The CineWeave API. ``token`` is an API key (``cw_live_…``), a session token, or a callable
    returning a current session token."""

    def __init__(
        self, base_url: str, token: TokenSource = None, *, session: requests.Session | None = None, timeout_s: float = 30
    ) -> None:
        self.http = Transport(base_url, token, session=session, timeout_s=timeout_s)

    def _call(self, model: type[M], method: str, path: str, **kwargs: Any) -> M:
        # extra="ignore": a newer server may add fields; an older client still reads what it knows.
        return model.model_validate(self.http.json(method, path, **kwargs), extra="ignore")

    # --- jobs -------------------------------------------------------------------------------
    def create(
        self,
        prompt: str,
        duration_sec: int = 5,
        *,
        seed: int | None = None,
        image: Path | str | None = None,
        image_url: str | None = None,
        idempotency_key: str | None = None,
        aspect_ratio: str | None = None,
        negative_prompt: str | None = None,
        webhook_url: str | None = None,
        webhook_events: Sequence[str] | None = None,
        quality: str | None = None,
        shots: list[str] | None = None,
    ) -> CreateJobResponse:
        """Queue a video job. ``image`` is a local PNG/JPEG/WebP to animate (uploaded), ``image_url``
        an https URL; ``aspect_ratio`` ``"16:9"`` or ``"9:16"``; ``negative_prompt`` what to avoid;
        ``shots`` one prompt per 5 s of a 10 or 15 s clip (``prompt`` may then be empty);
        ``quality`` ``"standard"`` (default) or ``"fast"``; ``idempotency_key`` makes a retried create
        return the first job; ``webhook_url`` receives the job's events (``webhook_events``, default all), signed with ``webhook_secret()``."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        fields = present(prompt=prompt or None, durationSec=duration_sec, seed=seed, aspectRatio=aspect_ratio,
                         negativePrompt=negative_prompt, webhookUrl=webhook_url, quality=quality,
                         shots=[{"prompt": shot} for shot in shots] if shots else None)
        if webhook_events:
            fields["webhookEvents"] = list(webhook_events) if image is None else ",".join(webhook_events)
        if image is not None:
            image = Path(image)
            with open(image, "rb") as file:
                form = {name: str(value) for name, value in fields.items() if name != "shots"}
                form_shots = [("shots", shot) for shot in shots or ()]  # a form repeats the field per shot
                return self._call(CreateJobResponse, "POST", "/jobs/create", data=[*form.items(), *form_shots],
                                  files={"image": (image.name, file)}, headers=headers)
        if image_url:
            fields["imageUrl"] = image_url
        return self._call(CreateJobResponse, "POST", "/jobs/create", json=fields, headers=headers)

    def remix(
        self, job_id: str, prompt: str, *, negative_prompt: str | None = None, seed: int | None = None,
        idempotency_key: str | None = None,
    ) -> CreateJobResponse:
        """A new job with a done clip's duration, frame, image and seed (unless ``seed``), and a new prompt."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        body = present(prompt=prompt, negativePrompt=negative_prompt, seed=seed)
        return self._call(CreateJobResponse, "POST", f"/jobs/{job_id}/remix", json=body, headers=headers)

    def extend(self, job_id: str, duration_sec: int, *, prompt: str | None = None, idempotency_key: str | None = None
               ) -> CreateJobResponse:
        """Continue a done clip by ``duration_sec`` from its last frame (charged for those seconds only)."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        body = present(durationSec=duration_sec, prompt=prompt)
        return self._call(CreateJobResponse, "POST", f"/jobs/{job_id}/extend", json=body, headers=headers)

    def get(self, job_id: str) -> JobView:
        return self._call(JobView, "GET", f"/jobs/{job_id}")

    def list(self, limit: int = 20, cursor: str | None = None) -> JobList:
        """One page of the caller's jobs, newest first; pass ``next_cursor`` for the next page."""
        return self._call(JobList, "GET", "/jobs", params={"limit": limit, **({"cursor": cursor} if cursor else {})})

    def iter_jobs(self, page_size: int = 50) -> Iterator[JobView]:
        """Every job of the caller, newest first, page by page."""
        cursor = None
        while True:
            page = self.list(limit=page_size, cursor=cursor)
            yield from page.jobs
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    def cancel(self, job_id: str) -> JobView:
        """Cancel a job that has not ended; its credits are refunded."""
        return self._call(JobView, "POST", f"/jobs/{job_id}/cancel")

    def poll(
        self,
        job_id: str,
        until: Callable[[JobView], bool] = lambda job: job.status in TERMINAL,
        *,
        timeout_s: float = 1800,
        interval_s: float = 1.0,
        on_update: Callable[[JobView], None] | None = None,
    ) -> JobView:
        """Read the job every ``interval_s`` until ``until(job)`` holds (default: it has ended);
        ``TimeoutError`` past ``timeout_s``."""
        return poll_until(lambda: self.get(job_id), until, timeout_s=timeout_s, interval_s=interval_s,
                          on_update=on_update, describe=lambda job: f"job {job_id} is still {job.status.value}")

    def wait(
        self,
        job_id: str,
        until: Callable[[JobView], bool] = lambda job: job.status in TERMINAL,
        *,
        timeout_s: float = 1800,
        on_update: Callable[[JobView], None] | None = None,
    ) -> JobView:
        """Follow the job over its event stream (``GET /jobs/{id}/events``) until ``until(job)``
        holds (default: it has ended); each change reaches ``on_update`` as it happens. A broken
        stream is resumed where it stopped; one that cannot be had falls back to ``poll``."""
        return follow(self.http, job_id, lambda: self.get(job_id), until, timeout_s=timeout_s, on_update=on_update)

    def download(self, job: JobView | str, path: Path | str) -> Path:
        """Save a done job's MP4 to ``path``. A job id is read first; its link is fresh for an hour."""
        view = self.get(job) if isinstance(job, str) else job
        if view.video is None:
            raise ValueError(f"job {view.job_id} has no video to download (it is {view.status.value})")
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.http.stream_to(view.video.url, str(path))
        return path

    # --- credits ----------------------------------------------------------------------------
    def credits(self) -> CreditsView:
        return self._call(CreditsView, "GET", "/credits")

    def plans(self) -> PlanList:
        return self._call(PlanList, "GET", "/plans")

    # --- API keys (a session token only: a key never creates keys) ----------------------------
    def create_key(self, name: str) -> CreatedApiKey:
        """A new API key; ``.key`` holds the secret, shown this once."""
        return self._call(CreatedApiKey, "POST", "/keys", json={"name": name})

    def list_keys(self) -> ApiKeyList:
        return self._call(ApiKeyList, "GET", "/keys")

    def revoke_key(self, key_id: str) -> ApiKeyView:
        """Revoke a key; requests carrying it are refused from then on."""
        return self._call(ApiKeyView, "DELETE", f"/keys/{key_id}")


    # --- webhooks ---------------------------------------------------------------------------
    def webhook_secret(self) -> str:
        """The secret that signs the webhooks of jobs created with ``webhook_url``."""
        return self._call(SecretView, "GET", "/webhooks/secret").secret

    def create_webhook_endpoint(self, url: str, events: Sequence[str] | None = None) -> EndpointCreated:
        """A receiver of every job's events (``events``, default all); ``.secret`` is shown this once."""
        return self._call(EndpointCreated, "POST", "/webhooks/endpoints", json=present(url=url, events=list(events) if events else None))

    def list_webhook_endpoints(self) -> EndpointList:
        return self._call(EndpointList, "GET", "/webhooks/endpoints")

    def delete_webhook_endpoint(self, endpoint_id: str) -> EndpointView:
        return self._call(EndpointView, "DELETE", f"/webhooks/endpoints/{endpoint_id}")

    def rotate_webhook_secret(self, endpoint_id: str, overlap_seconds: int = 86_400) -> EndpointCreated:
        """A new secret; the old one also signs for ``overlap_seconds``, so receivers can switch over."""
        return self._call(EndpointCreated, "POST", f"/webhooks/endpoints/{endpoint_id}/rotate",
                          json={"overlapSeconds": overlap_seconds})

    def list_webhook_deliveries(self, job_id: str | None = None, limit: int = 20, cursor: str | None = None) -> DeliveryList:
        """Deliveries (each with every attempt: status code, latency, error), newest first."""
        return self._call(DeliveryList, "GET", "/webhooks/deliveries",
                          params=present(jobId=job_id, limit=limit, cursor=cursor))

    def redeliver_webhook(self, delivery_id: str) -> DeliveryView:
        """Send a delivery again: the same ``webhook-id`` and body, a fresh retry schedule."""
        return self._call(DeliveryView, "POST", f"/webhooks/deliveries/{delivery_id}/redeliver")


def present(**fields: Any) -> dict[str, Any]:
    """The fields that were given: an absent option is left out of the body, not sent as null."""
    return {name: value for name, value in fields.items() if value is not None}
