"""Wires the stand-in: one ``StandIn``, its three HTTP faces, a reaper thread, a threaded server."""

import logging
import threading

from flask import Flask, Response, jsonify
from werkzeug.serving import make_server

from devstack.runpod_standin.client_api import client_api
from devstack.runpod_standin.config import StandInConfig
from devstack.runpod_standin.control_api import control_api
from devstack.runpod_standin.service import ApiError, StandIn
from devstack.runpod_standin.worker_api import worker_api

log = logging.getLogger(__name__)


def create_app(standin: StandIn) -> Flask:
    app = Flask(__name__)
    app.register_blueprint(client_api(standin))
    app.register_blueprint(worker_api(standin))
    app.register_blueprint(control_api(standin))

    @app.errorhandler(ApiError)
    def _api_error(error: ApiError) -> tuple[Response, int]:
        response = jsonify({"error": error.message})
        if error.retry_after_s is not None:
            response.headers["Retry-After"] = f"{error.retry_after_s:g}"
        return response, error.status

    return app


def serve(config: StandInConfig, host: str, port: int) -> None:
    """Serves until interrupted; prints the base URL once it accepts connections."""
    standin = StandIn(config)
    stop = threading.Event()
    threading.Thread(target=standin.run_reaper, args=(stop,), daemon=True, name="reaper").start()
    server = make_server(host, port, create_app(standin), threaded=True)
    print(f"runpod stand-in listening on http://{host}:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    finally:
        stop.set()
        server.server_close()
