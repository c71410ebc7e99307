"""The JSON error body every 4xx carries."""

from schemas.base import WireModel


class ErrorDetail(WireModel):
    code: str
    message: str
    field: str | None = None


class ErrorBody(WireModel):
    error: ErrorDetail
