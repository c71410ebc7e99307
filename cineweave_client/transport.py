"""The HTTP layer every client method goes through: base URL, bearer token, timeout, errors."""

from collections.abc import Callable
from typing import Any

import requests

# A fixed token (an API key, or a session token for a short script) or a callable that returns a
# current one on each request, the way Clerk's ``getToken()`` does for 60 s session tokens.
TokenSource = str | Callable[[], str] | None


class ApiError(Exception):
    """A 4xx/5xx answer. ``code``, ``message`` and ``field`` come from the API's error body."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        error = body.get("error", {}) if isinstance(body, dict) else {}
        super().__init__(f"{status} {error.get('code', '')}: {error.get('message', body)}")
        self.status, self.body = status, body
        self.code: str = error.get("code", "")
        self.message: str = error.get("message", "")
        self.field: str | None = error.get("field")
        self.headers = headers or {}

    @property
    def retry_after_s(self) -> float | None:
        """Seconds to wait before retrying, from ``Retry-After`` (429 and 503 answers)."""
        value = self.headers.get("Retry-After")
        return float(value) if value and value.isdigit() else None


class Transport:
    def __init__(
        self, base_url: str, token: TokenSource = None, session: requests.Session | None = None, timeout_s: float = 30
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._http = session or requests.Session()
        self._timeout_s = timeout_s

    @property
    def token(self) -> str | None:
        """The bearer token the next request carries."""
        return self._token() if callable(self._token) else self._token

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """The raw answer of ``method path`` (``path`` below the base URL), never raising on status."""
        headers = dict(kwargs.pop("headers", None) or {})
        token = self.token
        if token:
            headers["Authorization"] = f"Bearer {token}"
        kwargs.setdefault("timeout", self._timeout_s)
        return self._http.request(method, self.base_url + path, headers=headers, **kwargs)

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """The decoded JSON body of a 2xx answer; ``ApiError`` otherwise."""
        response = self.request(method, path, **kwargs)
        try:
            body = response.json() if response.content else {}
        except ValueError:
            body = {"error": {"code": f"http_{response.status_code}", "message": response.text[:200]}}
        if response.status_code >= 400:
            raise ApiError(response.status_code, body, dict(response.headers))
        return body

    def stream_to(self, url: str, path: str, chunk_bytes: int = 1 << 20) -> None:
        """Save a (presigned, unauthenticated) URL to ``path`` without holding it in memory."""
        with self._http.get(url, stream=True, timeout=self._timeout_s) as response:
            response.raise_for_status()
            with open(path, "wb") as out:
                for chunk in response.iter_content(chunk_bytes):
                    out.write(chunk)
