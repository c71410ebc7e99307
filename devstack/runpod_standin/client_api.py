"""RunPod's client API under ``/v2/{endpoint_id}/``: run, status, cancel, health."""

from flask import Blueprint, Response, jsonify, request

from devstack.runpod_standin.guard import guard
from devstack.runpod_standin.service import StandIn


def client_api(standin: StandIn) -> Blueprint:
    api = Blueprint("client_api", __name__, url_prefix="/v2/<endpoint_id>")

    @api.before_request
    def _authorize() -> None:
        guard(standin.config.endpoint_id, f"Bearer {standin.config.api_key}")

    @api.post("/run")
    def run(endpoint_id: str) -> Response:
        return jsonify(standin.submit(request.get_json(silent=True)))

    @api.get("/status/<job_id>")
    def status(endpoint_id: str, job_id: str) -> Response:
        return jsonify(standin.status(job_id))

    @api.post("/cancel/<job_id>")
    def cancel(endpoint_id: str, job_id: str) -> Response:
        return jsonify(standin.cancel(job_id))

    @api.get("/health")
    def health(endpoint_id: str) -> Response:
        return jsonify(standin.health())

    return api

