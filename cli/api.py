"""A small HTTP client of the public API: what the CLI, the demo and the end-to-end tests use."""

import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests


class ApiError(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        error = body.get("error", {}) if isinstance(body, dict) else {}
        super().__init__(f"{status} {error.get('code', '')}: {error.get('message', body)}")
        self.status, self.body = status, body


class CineWeaveClient:
    def __init__(self, base_url: str, token: str | None = None, session: requests.Session | None = None, timeout_s: float = 30):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self._http = session or requests.Session()
        self._timeout_s = timeout_s

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return self._http.request(method, self.base_url + path, headers=headers, timeout=self._timeout_s, **kwargs)

    def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self.request(method, path, **kwargs)
        body = response.json() if response.content else {}
        if response.status_code >= 400:
            raise ApiError(response.status_code, body)
        return body

    def create_job(
        self, prompt: str, duration_sec: int, seed: int | None = None, image: Path | None = None,
        image_url: str | None = None, idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        fields = {"prompt": prompt, "durationSec": duration_sec, **({"seed": seed} if seed is not None else {})}
        if image:
            form = {k: str(v) for k, v in fields.items()}
            with open(image, "rb") as file:
                return self._json("POST", "/jobs/create", data=form, files={"image": (image.name, file)}, headers=headers)
        if image_url:
            fields["imageUrl"] = image_url
        return self._json("POST", "/jobs/create", json=fields, headers=headers)

    def job(self, job_id: str) -> dict[str, Any]:
        return self._json("GET", f"/jobs/{job_id}")

    def jobs(self, limit: int = 20, cursor: str | None = None) -> dict[str, Any]:
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        return self._json("GET", "/jobs", params=params)

    def cancel(self, job_id: str) -> dict[str, Any]:
        return self._json("POST", f"/jobs/{job_id}/cancel")

    def credits(self) -> dict[str, Any]:
        return self._json("GET", "/credits")

    def plans(self) -> dict[str, Any]:
        return self._json("GET", "/plans")

    def subscribe(self, plan_id: str, payer: dict[str, str] | None = None, renew_with: str = "link") -> dict[str, Any]:
        body = {"planId": plan_id, "renewWith": renew_with, **({"payer": payer} if payer else {})}
        return self._json("POST", "/subscribe", json=body)

    def topup(self, credits: int, payer: dict[str, str] | None = None) -> dict[str, Any]:
        return self._json("POST", "/topup", json={"credits": credits, **({"payer": payer} if payer else {})})

    def account(self) -> dict[str, Any]:
        return self._json("GET", "/account")

    def grant(self, user_id: str, credits: int, grant_id: str | None = None) -> dict[str, Any]:
        body = {"userId": user_id, "credits": credits, "grantId": grant_id or uuid.uuid4().hex}
        return self._json("POST", "/admin/grants", json=body)

    def wait(
        self, job_id: str, until: Callable[[dict[str, Any]], bool], timeout_s: float = 600,
        on_poll: Callable[[dict[str, Any]], None] | None = None, interval_s: float = 0.5,
    ) -> dict[str, Any]:
        """Poll the job until ``until(job)`` holds; TimeoutError past the deadline."""
        deadline = time.monotonic() + timeout_s
        while True:
            job = self.job(job_id)
            if on_poll:
                on_poll(job)
            if until(job):
                return job
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} is still {job['status']} after {timeout_s:.0f} s")
            time.sleep(interval_s)

    def download(self, url: str, path: Path) -> Path:
        with self._http.get(url, stream=True, timeout=self._timeout_s) as response:
            response.raise_for_status()
            with open(path, "wb") as out:
                for chunk in response.iter_content(1 << 20):
                    out.write(chunk)
        return path


TERMINAL = {"done", "expired", "rejected", "failed", "canceled"}
