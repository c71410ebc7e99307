"""Structured logs as Cloud Logging reads them, written by Google's own ``StructuredLogHandler``.

Every line is one JSON object on stdout with ``severity``, ``message``, ``sourceLocation`` and,
while a trace is known, ``logging.googleapis.com/trace`` (``projects/P/traces/T``) and
``logging.googleapis.com/spanId``: Cloud Logging and Trace then open one job's lines together,
from the request that created it through every function its events reached. The trace comes
from a record's ``trace_id`` (``extra=``) or, failing that, from the invocation's context
(``bound``): the validated request trace for HTTP, the event's ``traceId`` for Pub/Sub.
Our own context fields (``job_id``, ``user_id``, ``event``) go in the JSON payload.
"""

import contextlib
import contextvars
import logging
import sys
from collections.abc import Iterator

from google.cloud.logging_v2.handlers import StructuredLogHandler

from functions.http.trace_context import new_span_id

# job_status .. gpu_type: the "job ended" line that Cloud Monitoring's log-based metrics read
# (infra_terraform/monitoring.tf).
_CONTEXT_FIELDS = ("job_id", "trace_id", "user_id", "key_id", "event", "job_status", "generation_s", "cost_usd", "gpu_type")
_bound: contextvars.ContextVar[tuple[str | None, str | None]] = contextvars.ContextVar("cineweave_trace", default=(None, None))


@contextlib.contextmanager
def bound(trace_id: str | None, span_id: str | None = None) -> Iterator[None]:
    """Lines logged inside belong to ``trace_id``, in one span (a new one unless given)."""
    token = _bound.set((trace_id, span_id or new_span_id()))
    try:
        yield
    finally:
        _bound.reset(token)


class _TraceFields(logging.Filter):
    """Turns our context into the fields StructuredLogHandler writes, before Google's filter runs."""

    def __init__(self, project: str | None) -> None:
        super().__init__()
        self.project = project

    def filter(self, record: logging.LogRecord) -> bool:
        context_trace, span_id = _bound.get()
        trace_id = getattr(record, "trace_id", None) or context_trace
        record.trace = "/".join(("projects", self.project, "traces", trace_id)) if trace_id and self.project else trace_id
        record.span_id = span_id if trace_id and trace_id == context_trace else None
        # Never the request URL: the RunPod webhook's carries its per-job token.
        record.http_request = None
        fields = {"logger": record.name}
        for name in _CONTEXT_FIELDS:
            if (value := getattr(record, name, None)) is not None:
                fields[name] = value
        record.json_fields = {**fields, **(getattr(record, "json_fields", None) or {})}
        return True


def handler(project: str | None, stream=None) -> logging.Handler:
    made = StructuredLogHandler(stream=stream or sys.stdout, project_id=project)
    made.filters.insert(0, _TraceFields(project))  # ours first: Google's filter reads what it sets
    return made


def configure(project: str | None, level: int = logging.INFO) -> None:
    root = logging.getLogger()
    root.handlers[:] = [handler(project)]
    root.setLevel(level)
