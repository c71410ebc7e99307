"""Maps every failure an HTTP function can meet to a status and the JSON error body."""

import logging

from pydantic import ValidationError

from functions.core import errors as domain
from schemas.errors import ErrorBody, ErrorDetail

log = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field

    def body(self) -> dict:
        return ErrorBody(error=ErrorDetail(code=self.code, message=self.message, field=self.field)).to_wire()


_DOMAIN_STATUS: dict[type[domain.DomainError], int] = {
    domain.NotFound: 404,
    domain.TooManyActiveJobs: 429,
    domain.IdempotencyKeyReused: 409,
    domain.JobAlreadyFinished: 409,
}


def from_domain(exc: domain.DomainError) -> ApiError:
    status = exc.status if isinstance(exc, domain.InputRejected) else _DOMAIN_STATUS.get(type(exc), 400)
    return ApiError(status, exc.code, exc.message, exc.field)


def from_validation(exc: ValidationError) -> ApiError:
    first = exc.errors(include_url=False)[0]
    field = ".".join(str(part) for part in first["loc"]) or None
    message = first["msg"] if not field else f"{field}: {first['msg']}"
    return ApiError(422, "invalid_request", message, field)


def unauthorized() -> ApiError:
    return ApiError(401, "unauthorized", "a valid session token or API key is required")


def session_required() -> ApiError:
    return ApiError(403, "session_required", "this needs a session token: an API key cannot call it")


def too_large(limit: int | None) -> ApiError:
    size = f"{limit} bytes" if limit else "what this endpoint accepts"
    return ApiError(413, "body_too_large", f"the request body is larger than {size}")


def forbidden() -> ApiError:
    return ApiError(403, "forbidden", "this needs the admin role")


def internal() -> ApiError:
    return ApiError(500, "internal", "something went wrong on our side; try again")


def unavailable() -> ApiError:
    return ApiError(503, "unavailable", "a service we depend on is busy; try again shortly")
