"""The job protocol of the ``runpod`` SDK worker loop (1.12), under ``/v2/{endpoint_id}/``.

- ``GET job-take/{worker}?...&job_in_progress=0|1``: a long-poll; 200 ``{"id", "input"}`` or 204.
- ``GET job-take-batch/{worker}?...&batch_size=N``: the same with a list (concurrency > 1).
- ``POST job-done/{worker}/{job}?...&isStream=false``: a JSON body (labelled form-urlencoded):
  ``{"status": "IN_PROGRESS", "output"}`` is progress; ``{"output"}`` / ``{"error"}`` end the job.
- ``POST job-stream/{worker}/{job}``: a generator handler's partial output, kept as progress.
- ``GET job-stop/{worker}?...``: a long-poll; 200 ``{"jobsToStop": [ids]}`` or 204.
- ``GET ping/{worker}?job_id=...&runpod_version=...``: heartbeat.

Workers authenticate with their key as the raw ``Authorization`` header (no ``Bearer``).
"""

import json
import socket
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, jsonify, request

from devstack.runpod_standin.guard import guard
from devstack.runpod_standin.service import ApiError, StandIn


def worker_api(standin: StandIn) -> Blueprint:
    api = Blueprint("worker_api", __name__, url_prefix="/v2/<endpoint_id>")

    @api.before_request
    def _authorize() -> None:
        guard(standin.config.endpoint_id, standin.config.worker_auth)

    @api.get("/job-take/<worker_id>")
    def job_take(endpoint_id: str, worker_id: str) -> Response:
        jobs = standin.take(worker_id, 1, _hung_up())
        return jsonify(jobs[0]) if jobs else Response(status=204)

    @api.get("/job-take-batch/<worker_id>")
    def job_take_batch(endpoint_id: str, worker_id: str) -> Response:
        batch_size = max(1, request.args.get("batch_size", 1, type=int))
        jobs = standin.take(worker_id, batch_size, _hung_up())
        return jsonify(jobs) if jobs else Response(status=204)

    @api.post("/job-done/<worker_id>/<job_id>")
    def job_done(endpoint_id: str, worker_id: str, job_id: str) -> Response:
        return _reported(standin.report(worker_id, job_id, _json_body()))

    @api.post("/job-stream/<worker_id>/<job_id>")
    def job_stream(endpoint_id: str, worker_id: str, job_id: str) -> Response:
        partial = {"status": "IN_PROGRESS", "output": _json_body().get("output")}
        return _reported(standin.report(worker_id, job_id, partial))

    @api.get("/job-stop/<worker_id>")
    def job_stop(endpoint_id: str, worker_id: str) -> Response:
        job_ids = standin.stop_signals(worker_id, _hung_up())
        return jsonify({"jobsToStop": job_ids}) if job_ids else Response(status=204)

    @api.get("/ping/<worker_id>")
    def ping(endpoint_id: str, worker_id: str) -> Response:
        standin.ping(worker_id)
        return jsonify({})

    return api


def _hung_up() -> Callable[[], bool]:
    """Whether the worker closed this request's connection (werkzeug's server exposes it)."""
    connection: socket.socket | None = request.environ.get("werkzeug.socket")

    def hung_up() -> bool:
        if connection is None:
            return False
        try:
            return connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except BlockingIOError:
            return False
        except OSError:
            return True

    return hung_up


def _json_body() -> dict[str, Any]:
    # The SDK labels its JSON body application/x-www-form-urlencoded: read the raw bytes.
    try:
        body = json.loads(request.get_data(as_text=True) or "{}")
    except ValueError as error:
        raise ApiError(400, f"body is not JSON: {error}") from error
    if not isinstance(body, dict):
        raise ApiError(400, "body must be a JSON object")
    return body


def _reported(known: bool) -> Response:
    if not known:
        raise ApiError(404, "job not found")
    return jsonify({})
