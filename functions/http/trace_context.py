"""The request's trace context, read from its headers and bounded before anything uses it.

Google's front end sends ``X-Cloud-Trace-Context: TRACE_ID/SPAN_ID;o=OPTIONS`` (a decimal span
id); W3C clients send ``traceparent: 00-TRACE_ID-SPAN_ID-FLAGS``. A header that does not parse is
ignored and a new trace starts, as the W3C Trace Context spec asks of a malformed ``traceparent``:
a request is never refused over a tracing header, and a value that reached a document or an event
is always a well-formed 32-hex trace id.
"""

import re
import secrets
from dataclasses import dataclass

MAX_HEADER_CHARS = 256
_CLOUD = re.compile(r"([0-9a-f]{32})(?:/([0-9]{1,20}))?(?:;o=([0-9]+))?")
_W3C = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")
_ZERO_TRACE, _ZERO_SPAN = "0" * 32, "0" * 16


@dataclass(frozen=True)
class TraceContext:
    trace_id: str  # 32 lowercase hex
    span_id: str | None = None  # 16 lowercase hex, as Cloud Logging's spanId wants it
    sampled: bool = False


def new_trace_id() -> str:
    return secrets.token_hex(16)


def new_span_id() -> str:
    return secrets.token_hex(8)


def from_headers(headers) -> TraceContext | None:
    """The caller's trace, or None when neither header is present and well formed."""
    return _w3c(headers.get("traceparent")) or _cloud(headers.get("X-Cloud-Trace-Context"))


def _cloud(value: str | None) -> TraceContext | None:
    if not value or len(value) > MAX_HEADER_CHARS or not (match := _CLOUD.fullmatch(value.strip().lower())):
        return None
    trace_id, span, options = match.groups()
    if trace_id == _ZERO_TRACE:
        return None
    span_id = f"{int(span):016x}" if span and 0 < int(span) < 2**64 else None
    return TraceContext(trace_id, span_id, options == "1")


def _w3c(value: str | None) -> TraceContext | None:
    if not value or len(value) > MAX_HEADER_CHARS or not (match := _W3C.fullmatch(value.strip().lower())):
        return None
    version, trace_id, span_id, flags = match.groups()
    if version == "ff" or trace_id == _ZERO_TRACE or span_id == _ZERO_SPAN:
        return None
    return TraceContext(trace_id, span_id, bool(int(flags, 16) & 1))
