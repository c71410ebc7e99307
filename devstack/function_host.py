"""Serves Cloud Functions from ``functions/main.py`` under functions-framework, several per process.

``--mode gateway`` routes the public API paths to the HTTP functions the way the production
gateway does (one base URL) and serves the built web app under ``/app/`` (``devstack.web_static``);
``--mode events`` serves each Pub/Sub push target at ``/{function}``.

The gateway is served the way Cloud Run serves a function: a production WSGI server (gunicorn)
with a worker process per core and threads in each, so requests are not queued behind one
interpreter's lock. Threads (not async workers) because the handlers block on Firestore, and a
streamed response (server-sent events) holds one thread for as long as it streams.
The events host stays on werkzeug's threaded server: its load is the pipeline's, not the users'.

    python -m devstack.function_host --mode gateway --port 8080 [--workers N --threads M]
    python -m devstack.function_host --mode events --port 8081
"""

import argparse
import json
import logging
import os
from pathlib import Path

import functions_framework
from werkzeug.serving import WSGIRequestHandler, make_server

from devstack.web_static import is_app_path, web_app
from functions.http.routes import ROUTES
from schemas.topics import TOPICS

GATEWAY_THREADS = 16  # per worker process; a streamed answer (server-sent events) holds one while it streams
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


def serve_gateway(host: str, port: int, workers: int, threads: int) -> None:
    from gunicorn.app.base import BaseApplication

    class Gateway(BaseApplication):
        def load_config(self) -> None:
            for key, value in {
                "bind": f"{host}:{port}", "workers": workers, "threads": threads, "worker_class": "gthread",
                # Loaded once, then forked: the workers share the imported code. No client exists yet
                # (Deps builds them on first use), so no gRPC channel crosses the fork.
                "preload_app": True,
                "timeout": 0,  # a streaming response may outlive any fixed worker timeout
                # No request-line cap of its own: an over-long query reaches the function, which answers
                # with the API's JSON error (as Cloud Run lets it), not the server's HTML page.
                "limit_request_line": 0,
                "graceful_timeout": 5, "keepalive": 5,
                # A listening socket per worker (SO_REUSEPORT): the kernel spreads connections across
                # the workers, where one shared socket lets the first worker to wake take most of them.
                "reuse_port": True, "accesslog": None, "loglevel": "warning",
            }.items():
                self.cfg.set(key, value)

        def load(self):
            return gateway_app()

    Gateway().run()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack.function_host")
    parser.add_argument("--mode", choices=["gateway", "events"], required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="gateway worker processes (default: one per core)")
    parser.add_argument("--threads", type=int, default=GATEWAY_THREADS, help="threads per gateway worker")
    args = parser.parse_args(argv)
    if args.mode == "gateway":
        serve_gateway(args.host, args.port, args.workers, args.threads)
        return
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    make_server(args.host, args.port, events_app(), threaded=True, request_handler=_QuietHandler).serve_forever()


if __name__ == "__main__":
    main()
