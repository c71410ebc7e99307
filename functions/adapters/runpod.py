"""RunPod Serverless client: ``/run``, ``/status``, ``/cancel`` and ``/health`` of one endpoint.

Failures come out as one exception per mode, so callers can decide without reading HTTP codes:

- ``RunPodUnavailable``: transient (network error, timeout, 429, 5xx) after bounded retries
  with exponential backoff, full jitter and ``Retry-After``. Let the event be redelivered.
- ``RunPodRejected``: permanent (4xx other than 404 on a job), carrying RunPod's message.
- ``RunPodJobNotFound``: ``/status`` or ``/cancel`` of a job RunPod no longer knows (results
  are deleted 30 minutes after the end, or when the job's ttl runs out).

``run`` is not idempotent at RunPod, so it is never retried after a read timeout (RunPod may
have accepted the job); it is retried only where RunPod answered an error or was never reached.
"""

import email.utils
import logging
import random
import time
from collections.abc import Callable
from typing import Any

import requests

from schemas.runpod import RunPodPolicy, RunPodRunRequest, RunPodStatus

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.runpod.ai/v2"
_MAX_MESSAGE_CHARS = 500


class RunPodError(Exception):
    """Base of every RunPod client failure."""


class RunPodUnavailable(RunPodError):
    """Transient: RunPod could not be reached or asked us to come back later."""


class RunPodRejected(RunPodError):
    """Permanent: RunPod refused the request (bad key, bad body, unknown endpoint...)."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(f"RunPod rejected the request ({status_code}): {message}")
        self.status_code = status_code
        self.message = message


class RunPodJobNotFound(RunPodError):
    """RunPod does not know this job (never existed, or its results were already deleted)."""

    def __init__(self, job_id: str) -> None:
        super().__init__(f"RunPod job {job_id} not found")
        self.job_id = job_id


class _RetryableStatus(Exception):
    def __init__(self, response: requests.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


class RunPodClient:
    """A small, injectable client for one RunPod Serverless endpoint."""

    def __init__(
        self,
        *,
        endpoint_id: str,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        timeout_s: float = 10.0,
        max_retries: int = 3,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 8.0,
        retry_after_max_s: float = 30.0,
        rand: Callable[[], float] = random.random,
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        self._endpoint_url = f"{base_url.rstrip('/')}/{endpoint_id}"
        self._headers = {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}
        self._timeout_s = timeout_s
        self._max_retries = max_retries
        self._session = session
        self._sleep = sleep
        self._backoff_base_s = backoff_base_s
        self._backoff_max_s = backoff_max_s
        self._retry_after_max_s = retry_after_max_s
        self._rand = rand

    def __repr__(self) -> str:  # never shows the key
        return f"RunPodClient({self._endpoint_url!r})"

    def run(self, input: dict[str, Any], webhook: str, execution_timeout_ms: int, ttl_ms: int) -> str:
        """Submits a job; returns RunPod's job id."""
        body = RunPodRunRequest(
            input=input,
            webhook=webhook,
            policy=RunPodPolicy(execution_timeout=execution_timeout_ms, ttl=ttl_ms),
        )
        payload = self._call("POST", "/run", json=body.to_wire(), idempotent=False)
        return self._parse_status(payload).id

    def status(self, job_id: str) -> RunPodStatus:
        return self._parse_status(self._call("GET", f"/status/{job_id}", job_id=job_id))

    def cancel(self, job_id: str) -> RunPodStatus:
        return self._parse_status(self._call("POST", f"/cancel/{job_id}", job_id=job_id))

    def health(self) -> dict[str, Any]:
        """``{"jobs": {...counts}, "workers": {...counts}}`` as RunPod reports them."""
        return self._call("GET", "/health")

    # -- transport -------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        job_id: str | None = None,
        idempotent: bool = True,
    ) -> Any:
        url = self._endpoint_url + path
        for attempt in range(self._max_retries + 1):
            retry_after: float | None = None
            try:
                response = self._send(method, url, json, idempotent)
                return self._read(response, job_id)
            except _RetryableStatus as transient:
                failure: str = f"HTTP {transient.response.status_code}"
                retry_after = _retry_after_s(transient.response)
            except requests.RequestException as transient:
                failure = type(transient).__name__
            if attempt == self._max_retries:
                break
            delay = self._backoff_s(attempt, retry_after)
            log.warning(
                "runpod %s %s failed (%s), retry %d/%d in %.2fs",
                method, path, failure, attempt + 1, self._max_retries, delay,
            )
            self._sleep(delay)
        raise RunPodUnavailable(
            f"RunPod {method} {path} failed after {self._max_retries + 1} attempts: {failure}"
        )

    def _send(
        self, method: str, url: str, json: dict[str, Any] | None, idempotent: bool
    ) -> requests.Response:
        session = self._session or self._default_session()
        try:
            return session.request(
                method, url, headers=self._headers, json=json, timeout=self._timeout_s
            )
        except requests.ReadTimeout as error:
            # A POST /run that timed out while reading may have created the job: retrying it
            # would start a second GPU run, so only idempotent calls retry a read timeout.
            if not idempotent:
                raise RunPodUnavailable(f"RunPod did not answer in {self._timeout_s}s") from error
            raise

    def _read(self, response: requests.Response, job_id: str | None) -> Any:
        code = response.status_code
        if code == 429 or code >= 500:
            raise _RetryableStatus(response)
        if code == 404 and job_id is not None:
            raise RunPodJobNotFound(job_id)
        if code >= 400:
            raise RunPodRejected(code, _message(response))
        try:
            return response.json()
        except ValueError as error:
            raise RunPodUnavailable(f"RunPod answered {code} with a body that is not JSON") from error

    def _backoff_s(self, attempt: int, retry_after: float | None) -> float:
        ceiling = min(self._backoff_max_s, self._backoff_base_s * 2**attempt)
        delay = self._rand() * ceiling  # full jitter: spreads retries of many instances
        if retry_after is not None:
            delay = max(delay, min(retry_after, self._retry_after_max_s))
        return delay

    def _default_session(self) -> requests.Session:
        self._session = requests.Session()
        return self._session

    @staticmethod
    def _parse_status(payload: Any) -> RunPodStatus:
        try:
            return RunPodStatus.model_validate(payload)
        except ValueError as error:
            raise RunPodUnavailable(f"RunPod answered an unexpected body: {error}") from error


def _retry_after_s(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:_MAX_MESSAGE_CHARS] or response.reason or ""
    if isinstance(body, dict):
        for key in ("error", "message", "detail"):
            if body.get(key):
                return str(body[key])[:_MAX_MESSAGE_CHARS]
    return str(body)[:_MAX_MESSAGE_CHARS]
