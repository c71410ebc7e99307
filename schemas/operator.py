"""The operator queue as the admin console reads it: payments that settled but bought nothing, and
records a clock-tick step had to skip (``GET /admin/queue``)."""

from datetime import datetime

from pydantic import Field

from schemas.base import WireModel
from schemas.payments import PaymentIssueDoc


class TickFailureView(WireModel):
    step: str
    record_id: str
    error: str
    attempts: int
    first_at: datetime
    last_at: datetime


class OperatorQueue(WireModel):
    payment_issues: list[PaymentIssueDoc]  # unresolved first, newest first
    tick_failures: list[TickFailureView]  # most recent first


class ResolveIssueRequest(WireModel):
    """What the operator did about it (refunded at TrueLayer, granted by hand...)."""

    note: str = Field(min_length=1, max_length=500)
