"""Serves the built web app (``web/dist``) from the local gateway, as the bucket and CDN do in production.

The app lives under ``/app/`` so its routes never collide with API paths (``/jobs``, ``/account``):
a file that exists is served as it is, any other ``/app/...`` path gets ``index.html`` (the app
routes in the browser), and ``/`` redirects to ``/app/``. ``/app/config.json`` is written here,
not read from disk: it points the app's dev sign-in at this stack's Clerk stand-in, whose port
differs between ``make up`` and the tests.
"""

import json
import mimetypes
import os
from pathlib import Path

WEB_DIST = Path(__file__).resolve().parent.parent / "web" / "dist"
PREFIX = "/app/"


def is_app_path(path: str) -> bool:
    return path in ("/", "/app", "/favicon.ico") or path.startswith(PREFIX)


def web_app(dist: Path = WEB_DIST):
    def app(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if environ["REQUEST_METHOD"] not in ("GET", "HEAD"):
            return _reply(start_response, "405 Method Not Allowed", b'{"error": {"code": "method_not_allowed", "message": "GET only"}}',
                          "application/json")
        if path in ("/", "/app"):
            start_response("302 Found", [("Location", PREFIX), ("Content-Length", "0")])
            return [b""]
        if path == "/favicon.ico":
            path = PREFIX + "favicon.svg"
        if path == PREFIX + "config.json":
            return _reply(start_response, "200 OK", json.dumps(dev_config()).encode(), "application/json", cache=False)
        index = dist / "index.html"
        if not index.is_file():
            body = b'{"error": {"code": "not_found", "message": "the web app is not built: run make web"}}'
            return _reply(start_response, "404 Not Found", body, "application/json")
        file = _file_under(dist, path[len(PREFIX):])
        if file is None:
            if Path(path).suffix:  # a missing asset is a 404, not the app
                return _reply(start_response, "404 Not Found", b"not found", "text/plain")
            file = index
        kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        immutable = file.parent.name == "assets"  # hashed names: cache for good
        return _reply(start_response, "200 OK", file.read_bytes(), kind, cache=immutable)

    return app


def dev_config() -> dict:
    """What ``config.json`` says in production (Clerk) is said here for the stand-in issuer."""
    return {"apiBase": "", "auth": {"mode": "dev", "issuer": os.environ.get("CLERK_ISSUER", "http://127.0.0.1:8092")}}


def _file_under(root: Path, relative: str) -> Path | None:
    if not relative:
        return None
    candidate = (root / relative).resolve()
    if not candidate.is_relative_to(root.resolve()) or not candidate.is_file():
        return None
    return candidate


def _reply(start_response, status: str, body: bytes, kind: str, cache: bool = False):
    headers = [
        ("Content-Type", f"{kind}; charset=utf-8" if kind.startswith("text/") or kind.endswith(("javascript", "json")) else kind),
        ("Content-Length", str(len(body))),
        ("Cache-Control", "public, max-age=31536000, immutable" if cache else "no-cache"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ]
    start_response(status, headers)
    return [body]
