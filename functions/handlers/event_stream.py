"""GET /jobs/{jobId}/events: the job's view as server-sent events, one per change, until it ends.

Each event's ``data`` is the job view (status, progress, queue position). Statuses are never
skipped: a poll that finds the job two steps further first sends the step in between. Event ids
are ``{steps}.{digest}`` (history steps seen, and a digest of the view's live fields), so a client
that reconnects with ``Last-Event-ID`` gets only what it has not seen. A stream lasts at most
``JOB_EVENTS_MAX_S`` (below the gateway's and the function's deadlines), then ends; the client
reconnects. A comment every ``JOB_EVENTS_KEEPALIVE_S`` keeps idle connections open.
"""

import hashlib
import json
import logging
import re
import time
from collections.abc import Iterator

from functions.bootstrap import Deps
from functions.core.paths import job_path
from functions.handlers.jobs_api import observed, owned_job
from functions.handlers.views import job_at, job_view
from functions.http.endpoint import Call, EventStream, Reply
from schemas.api import JobView
from schemas.documents import JobDoc

log = logging.getLogger(__name__)
_EVENT_ID = re.compile(r"^(\d{1,4})(?:\.([0-9a-f]{1,16}))?$")
RECONNECT_MS = 1000


def stream_job(call: Call, deps: Deps) -> Reply:
    job = owned_job(deps, call.user_id, call.params["jobId"])  # a 404 is a JSON answer, before any event
    last = call.request.headers.get("Last-Event-ID") or call.request.args.get("lastEventId") or ""
    found = _EVENT_ID.match(last.strip())
    steps_seen = int(found.group(1)) if found else 0
    return 200, EventStream(_events(deps, job, steps_seen, last.strip() if found else ""))


def _events(deps: Deps, job: JobDoc, steps_seen: int, last_id: str) -> Iterator[str]:
    try:
        yield from _changes(deps, job, steps_seen, last_id)
    except Exception:  # noqa: BLE001 - mid-stream there is no status to answer: end it, the client reconnects
        log.exception("job event stream of %s ended by a failure", job.job_id)


def _changes(deps: Deps, job: JobDoc, steps_seen: int, last_id: str) -> Iterator[str]:
    settings = deps.settings
    started = last_write = time.monotonic()
    yield f"retry: {RECONNECT_MS}\n\n"
    while True:
        job, view = observed(deps, job)
        now = deps.now()
        for index in range(steps_seen, len(job.history) - 1):  # steps passed between two polls
            yield _event(f"{index + 1}", job_view(job_at(job, index), now, deps.storage))
        steps_seen = max(steps_seen, len(job.history) - 1)
        current_id = f"{len(job.history)}.{_digest(view)}"
        if current_id != last_id:
            yield _event(current_id, view)
            last_id, steps_seen, last_write = current_id, len(job.history), time.monotonic()
        if view.status.is_terminal or time.monotonic() - started >= settings.job_events_max_s:
            return
        time.sleep(settings.job_events_poll_s)
        if time.monotonic() - last_write >= settings.job_events_keepalive_s:
            yield ": keep-alive\n\n"
            last_write = time.monotonic()
        job = JobDoc.from_document(deps.store.get(job_path(job.job_id)) or job.to_document())


def _event(event_id: str, view: JobView) -> str:
    return f"id: {event_id}\nevent: job\ndata: {json.dumps(view.to_wire(), separators=(',', ':'))}\n\n"


def _digest(view: JobView) -> str:
    live = view.model_dump(include={"status", "progress", "queue_position", "eta_seconds"}, mode="json")
    return hashlib.sha256(json.dumps(live, sort_keys=True).encode()).hexdigest()[:12]
