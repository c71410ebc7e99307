"""RunPod Serverless wire formats (client API and end-of-job webhook), as RunPod spells them.

These are RunPod's models, not ours: camelCase is RunPod's own (``delayTime``), unknown fields
that RunPod adds (``workerId``, ``retries`` ...) are kept rather than refused, and nothing here
is frozen into our ``WireModel`` conventions.
"""

import json
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class RunPodState(StrEnum):
    IN_QUEUE = "IN_QUEUE"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    TIMED_OUT = "TIMED_OUT"

    @property
    def is_final(self) -> bool:
        return self not in (RunPodState.IN_QUEUE, RunPodState.IN_PROGRESS)


class _RunPodModel(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="allow")

    def to_wire(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, mode="json", exclude_none=True)


class RunPodPolicy(_RunPodModel):
    """Per-request execution policy; both values in milliseconds."""

    execution_timeout: int | None = Field(default=None, alias="executionTimeout", ge=0)
    ttl: int | None = Field(default=None, ge=0)


class RunPodRunRequest(_RunPodModel):
    """Body of ``POST /v2/{endpoint}/run``."""

    input: dict[str, Any]
    webhook: str | None = None
    policy: RunPodPolicy | None = None


class RunPodStatus(_RunPodModel):
    """What ``/run``, ``/status/{id}`` and ``/cancel/{id}`` answer.

    While a job is IN_PROGRESS, ``output`` holds the latest progress the worker reported.
    """

    id: str
    status: RunPodState
    delay_time: int | None = Field(default=None, alias="delayTime")
    execution_time: int | None = Field(default=None, alias="executionTime")
    output: Any = None
    error: str | None = None

    @field_validator("error", mode="before")
    @classmethod
    def _error_as_text(cls, value: Any) -> str | None:
        # A handler may return {"error": {...}}; the SDK forwards it as is. Keep it readable.
        if value is None or isinstance(value, str):
            return value
        return json.dumps(value, sort_keys=True)


class RunPodWebhook(RunPodStatus):
    """Body RunPod POSTs to the job's webhook when it ends: the status plus the echoed ``input``."""

    input: dict[str, Any] | None = None
