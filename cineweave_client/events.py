"""Reads ``GET /jobs/{id}/events`` (server-sent events) and follows a job to its end over it.

``follow`` reconnects with ``Last-Event-ID`` when a stream ends before the job does (the server
closes each stream within a minute, and networks break), and falls back to polling ``GET
/jobs/{id}`` when the stream cannot be had at all, so ``Client.wait`` answers either way.
"""

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import requests

from cineweave_client.transport import ApiError, Transport
from schemas.api import JobView

STREAM_FAILURES_BEFORE_POLLING = 3


@dataclass(frozen=True)
class JobEvent:
    id: str
    job: JobView


def read_events(transport: Transport, job_id: str, last_event_id: str | None = None,
                read_timeout_s: float = 60) -> Iterator[JobEvent]:
    """The events of one stream, as they come; returns when the server ends the stream."""
    headers = {"Accept": "text/event-stream", **({"Last-Event-ID": last_event_id} if last_event_id else {})}
    # The read timeout must outlast the keep-alive interval (15 s), not the whole stream.
    with transport.request("GET", f"/jobs/{job_id}/events", headers=headers, stream=True,
                           timeout=(10, read_timeout_s)) as response:
        if response.status_code >= 400:
            raise ApiError(response.status_code, response.json() if response.content else {}, dict(response.headers))
        fields: dict[str, str] = {}
        for line in response.iter_lines(decode_unicode=True):
            if line:
                if not line.startswith(":"):
                    name, _, value = line.partition(":")
                    fields[name] = fields.get(name, "") + value.removeprefix(" ")
                continue
            if "data" in fields:  # a blank line ends an event
                yield JobEvent(fields.get("id", ""), JobView.model_validate(json.loads(fields["data"]), extra="ignore"))
            fields = {}


def follow(transport: Transport, job_id: str, get: Callable[[], JobView], done: Callable[[JobView], bool], *,
           timeout_s: float, poll_interval_s: float = 1.0, on_update: Callable[[JobView], None] | None = None) -> JobView:
    """The job once ``done(job)`` holds, seen through its event stream (or by polling, if the
    stream keeps failing); ``TimeoutError`` past ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    last_id, failures, latest = None, 0, None
    while failures < STREAM_FAILURES_BEFORE_POLLING:
        try:
            failures += 1  # a stream that ends without a single event counts as a failure too
            for event in read_events(transport, job_id, last_id, read_timeout_s=min(60, max(1, deadline - time.monotonic()))):
                last_id, failures, latest = event.id, 0, event.job
                if on_update:
                    on_update(event.job)
                if done(event.job):
                    return event.job
                if time.monotonic() > deadline:
                    break
        except ApiError as exc:
            if exc.status < 500 and exc.status not in (404, 405, 429):
                raise  # 401, 403...: polling would be refused the same way
        except (requests.ConnectionError, requests.Timeout, ValueError):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} is still {latest.status.value if latest else 'unseen'} after {timeout_s:.0f} s")
    from cineweave_client.polling import poll_until  # the stream is not to be had: poll instead

    return poll_until(get, done, timeout_s=max(0.0, deadline - time.monotonic()), interval_s=poll_interval_s,
                      on_update=on_update, describe=lambda job: f"job {job_id} is still {job.status.value}")
