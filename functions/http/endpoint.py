"""The one wrapper every HTTP function goes through: CORS, body size, auth, rate limits, handler,
errors to JSON."""

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import flask
from google.api_core import exceptions as gexc
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import RequestEntityTooLarge

from functions import logs
from functions.adapters.clerk import InvalidToken, Principal
from functions.adapters.storage import StorageUnavailable
from functions.core.errors import DomainError
from functions.http import errors
from functions.http.rate_limits import RateLimited, RateLimiter
from functions.http.routes import Route, route_for
from functions.http.trace_context import TraceContext, from_headers, new_trace_id
from functions.store import StoreContention

log = logging.getLogger(__name__)

_TRANSIENT = (StoreContention, StorageUnavailable, gexc.ServiceUnavailable, gexc.DeadlineExceeded, gexc.InternalServerError)


@dataclass(frozen=True)
class Call:
    request: flask.Request
    principal: Principal | None
    params: dict[str, str]
    trace: TraceContext = field(default_factory=lambda: TraceContext(new_trace_id()))  # validated, or a new one

    @property
    def user_id(self) -> str:
        assert self.principal is not None
        return self.principal.user_id


@dataclass(frozen=True)
class EventStream:
    """A streamed answer (``text/event-stream``): each chunk is sent as soon as it is made."""

    chunks: Iterable[str]


Reply = tuple[int, BaseModel | dict | EventStream]
Handler = Callable[[Call], Reply]


def serve(
    request: flask.Request,
    function: str,
    handler: Handler,
    authenticate: Callable[[str], Principal],
    allowed_origins: tuple[str, ...],
    limiter: RateLimiter | None = None,
    upload_max_bytes: int = 10 * 1024 * 1024,
) -> flask.Response:
    route = route_for(function)
    origin = request.headers.get("Origin")
    if request.method == "OPTIONS":
        return _with_cors(flask.Response(status=204), origin, allowed_origins)
    trace = from_headers(request.headers) or TraceContext(new_trace_id())
    with logs.bound(trace.trace_id, trace.span_id):
        response = _answer(request, function, route, handler, authenticate, trace, limiter, upload_max_bytes)
        return _with_cors(response, origin, allowed_origins)


def _answer(request: flask.Request, function: str, route: Route, handler: Handler, authenticate: Callable[[str], Principal],
            trace: TraceContext, limiter: RateLimiter | None, upload_max_bytes: int) -> flask.Response:
    quota = None
    try:
        params = route.match(request.method, request.path) if request.method == route.method else None
        if params is None:
            raise errors.ApiError(404 if request.method == route.method else 405, "not_found", "no such endpoint")
        _bound_body(request, route, upload_max_bytes)
        principal = None if route.auth == "public" else _principal(request, authenticate)
        if limiter:
            quota = limiter.check(route, principal, request)
        if principal and principal.key_id and route.auth in ("session", "admin"):
            raise errors.session_required()
        if route.auth == "admin" and not principal.is_admin:  # type: ignore[union-attr]
            raise errors.forbidden()
        status, body = handler(Call(request, principal, params, trace))
        if isinstance(body, EventStream):
            response = _streamed(body, status)
        else:
            payload = body.to_wire() if hasattr(body, "to_wire") else body
            response = flask.Response(json.dumps(payload), status=status, mimetype="application/json")
            if route.cache_s is not None:
                response.headers["Cache-Control"] = f"public, max-age={route.cache_s}"
    except Exception as exc:  # noqa: BLE001 - the edge: every failure becomes a JSON answer
        api_error = _as_api_error(exc, function)
        if limiter and quota is None and not isinstance(api_error, RateLimited):
            try:  # refused before its caller was known (401, 404, 413 ...): counts against the address
                quota = limiter.check_address(request)
            except RateLimited as limited:
                api_error = limited
        body = json.dumps(api_error.body())
        # functions-framework reads the whole request before sending a plain answer (its
        # read_request hook) but not before a streamed one: a 413 goes out as a stream of one
        # chunk, so the body it refuses is never read.
        response = flask.Response(iter([body]) if api_error.status == 413 else body, status=api_error.status,
                                  mimetype="application/json")
        quota = api_error.quota if isinstance(api_error, RateLimited) else quota
    if quota:
        response.headers.update(quota.headers())
    return response


def _bound_body(request: flask.Request, route: Route, upload_max_bytes: int) -> None:
    """413 for a body larger than the route needs, before any of it is read: a declared length is
    checked at once; a chunked body is cut off as soon as the reader passes the limit."""
    limit = route.body_limit(upload_max_bytes)
    if request.content_length is not None:
        if request.content_length > limit:
            raise errors.too_large(limit)
        # The declared length bounds the read (the server ends the stream there). No
        # max_content_length on top: werkzeug reads a server-terminated stream (gunicorn's) under
        # a limit of 0 as already past it, and a body-less DELETE would fail.
    elif request.environ.get("wsgi.input_terminated"):
        # Chunked: read at most one byte past the limit (werkzeug would silently stop at it), and
        # keep what was read for the handler (get_data and form parsing reuse the cached bytes).
        request.max_content_length = limit + 1
        if len(request.get_data(cache=True)) > limit:
            raise errors.too_large(limit)


def _streamed(stream: EventStream, status: int) -> flask.Response:
    response = flask.Response((chunk.encode() for chunk in stream.chunks), status=status, mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"  # proxies that buffer by default pass it through as it comes
    return response


def _principal(request: flask.Request, authenticate: Callable[[str], Principal]) -> Principal:
    # Behind API Gateway, Authorization holds the gateway's own ID token and the caller's moves to
    # X-Forwarded-Authorization. Whichever header carries it, the token is fully verified. Never a
    # cookie: a cookie rides along on cross-site requests, a header cannot be set by another site.
    header = request.headers.get("X-Forwarded-Authorization") or request.headers.get("Authorization", "")
    token = header[7:].strip() if header[:7].lower() == "bearer " else ""
    if not token:
        raise errors.unauthorized()
    try:
        return authenticate(token)
    except InvalidToken as exc:
        log.info("rejected a credential: %s", exc)  # names a key by its prefix only, never its secret
        raise errors.unauthorized() from exc


def _as_api_error(exc: Exception, function: str) -> errors.ApiError:
    if isinstance(exc, errors.ApiError):
        return exc
    if isinstance(exc, RequestEntityTooLarge):  # a chunked body ran past the limit while read
        return errors.too_large(None)
    if isinstance(exc, DomainError):
        return errors.from_domain(exc)
    if isinstance(exc, ValidationError):
        return errors.from_validation(exc)
    if isinstance(exc, _TRANSIENT):
        log.warning("%s: transient failure: %s", function, exc)
        return errors.unavailable()
    log.exception("%s: unexpected failure", function)
    return errors.internal()


def _with_cors(response: flask.Response, origin: str | None, allowed: tuple[str, ...]) -> flask.Response:
    if origin and origin in allowed:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Vary"] = "Origin"
        response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type, Idempotency-Key, Last-Event-ID"
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, DELETE, OPTIONS"
        response.headers["Access-Control-Max-Age"] = "600"
        response.headers["Access-Control-Expose-Headers"] = "X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After"
    return response
