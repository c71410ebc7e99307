"""The API as plain JSON dicts, over ``cineweave_client``'s transport: what the demo, the soak,
the benchmark and the end-to-end tests use to look at raw answers (the CLI uses the typed
``cineweave_client.Client``)."""

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cineweave_client import TERMINAL as _TERMINAL
from cineweave_client import ApiError, Transport
from cineweave_client.client import present
from cineweave_client.polling import poll_until

__all__ = ["TERMINAL", "ApiError", "CineWeaveClient"]

TERMINAL = {status.value for status in _TERMINAL}


class CineWeaveClient(Transport):
    def create_job(
        self, prompt: str, duration_sec: int, seed: int | None = None, image: Path | None = None,
        image_url: str | None = None, idempotency_key: str | None = None, aspect_ratio: str | None = None,
        negative_prompt: str | None = None, quality: str | None = None,
    ) -> dict[str, Any]:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        fields = present(prompt=prompt, durationSec=duration_sec, seed=seed, aspectRatio=aspect_ratio,
                          negativePrompt=negative_prompt, quality=quality)
        if image:
            form = {k: str(v) for k, v in fields.items()}
            with open(image, "rb") as file:
                return self.json("POST", "/jobs/create", data=form, files={"image": (image.name, file)}, headers=headers)
        if image_url:
            fields["imageUrl"] = image_url
        return self.json("POST", "/jobs/create", json=fields, headers=headers)

    def job(self, job_id: str) -> dict[str, Any]:
        return self.json("GET", f"/jobs/{job_id}")

    def jobs(self, limit: int = 20, cursor: str | None = None) -> dict[str, Any]:
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        return self.json("GET", "/jobs", params=params)

    def extend(self, job_id: str, duration_sec: int, prompt: str | None = None) -> dict[str, Any]:
        """Continue a done clip from its last frame by ``duration_sec``."""
        return self.json("POST", f"/jobs/{job_id}/extend", json=present(durationSec=duration_sec, prompt=prompt))

    def remix(self, job_id: str, prompt: str, negative_prompt: str | None = None, seed: int | None = None) -> dict[str, Any]:
        """A new job with the parent's settings and seed (unless ``seed``) and a new prompt."""
        return self.json("POST", f"/jobs/{job_id}/remix", json=present(prompt=prompt, negativePrompt=negative_prompt, seed=seed))

    def cancel(self, job_id: str) -> dict[str, Any]:
        return self.json("POST", f"/jobs/{job_id}/cancel")

    def credits(self) -> dict[str, Any]:
        return self.json("GET", "/credits")

    def plans(self) -> dict[str, Any]:
        return self.json("GET", "/plans")

    def subscribe(self, plan_id: str, payer: dict[str, str] | None = None, renew_with: str = "link") -> dict[str, Any]:
        body = {"planId": plan_id, "renewWith": renew_with, **({"payer": payer} if payer else {})}
        return self.json("POST", "/subscribe", json=body)

    def topup(self, credits: int, payer: dict[str, str] | None = None) -> dict[str, Any]:
        return self.json("POST", "/topup", json={"credits": credits, **({"payer": payer} if payer else {})})

    def account(self) -> dict[str, Any]:
        return self.json("GET", "/account")

    def grant(self, user_id: str, credits: int, grant_id: str | None = None) -> dict[str, Any]:
        body = {"userId": user_id, "credits": credits, "grantId": grant_id or uuid.uuid4().hex}
        return self.json("POST", "/admin/grants", json=body)

    def wait(
        self, job_id: str, until: Callable[[dict[str, Any]], bool], timeout_s: float = 600,
        on_poll: Callable[[dict[str, Any]], None] | None = None, interval_s: float = 0.5,
    ) -> dict[str, Any]:
        """Poll the job until ``until(job)`` holds; TimeoutError past the deadline."""
        return poll_until(lambda: self.job(job_id), until, timeout_s=timeout_s, interval_s=interval_s,
                          on_update=on_poll, describe=lambda job: f"job {job_id} is still {job['status']}")

    def download(self, url: str, path: Path) -> Path:
        self.stream_to(url, str(path))
        return path
