"""Serves Cloud Functions from ``functions/main.py`` under functions-framework, several per process.

``--mode gateway`` routes the public API paths to the HTTP functions the way the production
gateway does (one base URL) and serves the built web app under ``/app/`` (``devstack.web_static``);
``--mode events`` serves each Pub/Sub push target at ``/{function}``.

    python -m devstack.function_host --mode gateway --port 8080
    python -m devstack.function_host --mode events --port 8081
"""

import argparse
import json
import logging
from pathlib import Path

import functions_framework
from werkzeug.serving import WSGIRequestHandler, make_server

from devstack.web_static import is_app_path, web_app
from functions.http.routes import ROUTES
from schemas.topics import TOPICS

SOURCE = str(Path(__file__).resolve().parent.parent / "functions" / "main.py")


def _not_found(start_response, message: str = "no such endpoint"):
    body = json.dumps({"error": {"code": "not_found", "message": message}}).encode()
    start_response("404 Not Found", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def gateway_app():
    apps = {route.function: functions_framework.create_app(route.function, SOURCE) for route in ROUTES}
    static = web_app()

    def app(environ, start_response):
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        for route in ROUTES:
            # A preflight (OPTIONS) goes to the function that owns the path, which answers CORS.
            if route.pattern.match(path) and method in (route.method, "OPTIONS"):
                return apps[route.function](environ, start_response)
        if is_app_path(path):  # the web app's static files (production: the bucket behind the CDN)
            return static(environ, start_response)
        return _not_found(start_response)

    return app


def events_app():
    apps = {topic.consumer: functions_framework.create_app(topic.consumer, SOURCE, "cloudevent") for topic in TOPICS}

    def app(environ, start_response):
        name = environ.get("PATH_INFO", "").strip("/")
        if name not in apps:
            return _not_found(start_response, f"no event function {name!r}")
        environ["PATH_INFO"] = "/"
        return apps[name](environ, start_response)

    return app


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:
        pass


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack.function_host")
    parser.add_argument("--mode", choices=["gateway", "events"], required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    app = gateway_app() if args.mode == "gateway" else events_app()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    make_server(args.host, args.port, app, threaded=True, request_handler=_QuietHandler).serve_forever()


if __name__ == "__main__":
    main()
