"""Fault controls and inspection for tests and benchmarks, under ``/_control`` (JSON, no auth).

The package docstring lists every endpoint with its body.
"""

from typing import TypeVar

from flask import Blueprint, Response, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from devstack.runpod_standin.faults import RunError, WebhookAction, WebhookRule
from devstack.runpod_standin.service import ApiError, StandIn
from devstack.runpod_standin.state import Fate


class _Body(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class Targeted(_Body):
    """``jobId``: only that job; otherwise the next ``count`` ones."""

    count: int = Field(default=1, ge=1)
    job_id: str | None = None


class DuplicateWebhook(Targeted):
    concurrent: bool = False


class DelayWebhook(Targeted):
    seconds: float = Field(ge=0)


class JobFault(Targeted):
    error: str = "failed by the stand-in"


class RunErrors(_Body):
    count: int = Field(default=1, ge=1)
    status: int = Field(default=503, ge=400, le=599)
    retry_after_s: float | None = Field(default=None, ge=0)


class ClockAdvance(_Body):
    seconds: float = Field(ge=0)


Body = TypeVar("Body", bound=_Body)


def control_api(standin: StandIn) -> Blueprint:
    api = Blueprint("control_api", __name__, url_prefix="/_control")

    @api.post("/reset")
    def reset() -> Response:
        standin.reset()
        return jsonify({})

    @api.get("/runs")
    def runs() -> Response:
        return jsonify(standin.runs())

    @api.get("/webhooks")
    def webhooks() -> Response:
        return jsonify(standin.deliveries.entries())

    @api.get("/jobs")
    def jobs() -> Response:
        return jsonify(standin.jobs())

    @api.get("/faults")
    def faults() -> Response:
        return jsonify(standin.describe_faults())

    @api.post("/run-errors")
    def run_errors() -> Response:
        body = _parse(RunErrors)
        with standin.faults() as plan:
            plan.arm_run_errors(RunError(body.status, body.retry_after_s), body.count)
        return jsonify(standin.describe_faults())

    @api.post("/webhooks/drop")
    def drop_webhook() -> Response:
        return _arm_webhook(standin, WebhookAction.DROP, _parse(Targeted))

    @api.post("/webhooks/duplicate")
    def duplicate_webhook() -> Response:
        body = _parse(DuplicateWebhook)
        return _arm_webhook(standin, WebhookAction.DUPLICATE, body, concurrent=body.concurrent)

    @api.post("/webhooks/delay")
    def delay_webhook() -> Response:
        body = _parse(DelayWebhook)
        return _arm_webhook(standin, WebhookAction.DELAY, body, delay_s=body.seconds)

    @api.post("/jobs/fail")
    def fail_job() -> Response:
        body = _parse(JobFault)
        if body.job_id:
            return jsonify(standin.fail_job(body.job_id, body.error))
        standin.arm_fates(Fate.FAIL, body.count, body.error)
        return jsonify(standin.describe_faults())

    @api.post("/jobs/lose")
    def lose_job() -> Response:
        body = _parse(Targeted)
        if body.job_id:
            standin.lose_job(body.job_id)
        else:
            standin.arm_fates(Fate.LOSE, body.count, None)
        return jsonify(standin.describe_faults())

    @api.post("/clock/advance")
    def advance_clock() -> Response:
        standin.advance_clock(_parse(ClockAdvance).seconds)
        return jsonify({"now": standin.clock.now()})

    return api


def _arm_webhook(standin: StandIn, action: WebhookAction, body: Targeted, **options: object) -> Response:
    with standin.faults() as plan:
        plan.arm_webhook(WebhookRule(action, body.count, body.job_id, **options))  # type: ignore[arg-type]
    return jsonify(standin.describe_faults())


def _parse(model: type[Body]) -> Body:
    try:
        return model.model_validate(request.get_json(silent=True) or {})
    except ValidationError as error:
        raise ApiError(400, str(error)) from error
