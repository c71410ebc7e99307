"""Generates ``schemas/generated``: a JSON Schema per event topic and the OpenAPI 3.1 document.

    python -m schemas.export          # rewrite the files
    python -m schemas.export --check  # exit 1 if they are out of date (a test runs this)
"""

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pydantic.json_schema import models_json_schema

from functions.http.routes import ROUTES
from schemas.errors import ErrorBody
from schemas.topics import TOPICS

GENERATED = Path(__file__).resolve().parent / "generated"
REF = "#/components/schemas/{model}"


def event_schemas() -> dict[str, dict[str, Any]]:
    return {
        f"events/{topic.name}.json": {
            "$id": f"https://cineweave.app/schemas/events/{topic.name}.json",
            "title": topic.event.__name__,
            "description": f"Pub/Sub topic `{topic.name}`, consumed by `{topic.consumer}`.",
            **topic.event.model_json_schema(by_alias=True),
        }
        for topic in TOPICS
    }


def openapi() -> dict[str, Any]:
    models = {ErrorBody}
    for route in ROUTES:
        models |= {m for m in (route.request, route.response) if m is not None}
    _, defs = models_json_schema([(m, "serialization") for m in sorted(models, key=lambda m: m.__name__)], ref_template=REF)
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.1.0",
        "info": {"title": "CineWeave API", "version": "1.0.0", "description": "Prompt or image in, 720p 24 fps video out."},
        "servers": [{"url": "http://127.0.0.1:8080", "description": "local stack"}],
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {"clerkSession": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }


def _operation(route) -> dict[str, Any]:
    error = {"description": "error", "content": {"application/json": {"schema": {"$ref": REF.format(model="ErrorBody")}}}}
    ok: dict[str, Any] = {"description": "success"}
    if route.response and route.stream:
        ok["description"] = f"server-sent events (`event: job`), each `data` line a {route.response.__name__}"
        ok["content"] = {"text/event-stream": {"schema": {"type": "string"},
                                                "x-event-data": {"$ref": REF.format(model=route.response.__name__)}}}
    elif route.response:
        ok["content"] = {"application/json": {"schema": {"$ref": REF.format(model=route.response.__name__)}}}
    operation: dict[str, Any] = {
        "operationId": route.function,
        "summary": route.summary,
        "responses": {str(route.status): ok, "4XX": error},
        "security": [] if route.auth == "public" else [{"clerkSession": []}],
    }
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"}}
        for name in route.pattern.groupindex
    ] + [{"name": q.name, "in": "query", "required": q.required, "schema": q.schema} for q in route.query]
    if parameters:
        operation["parameters"] = parameters
    if route.request:
        content: dict[str, Any] = {"application/json": {"schema": {"$ref": REF.format(model=route.request.__name__)}}}
        if route.upload_field:
            content["multipart/form-data"] = {
                "schema": {"allOf": [{"$ref": REF.format(model=route.request.__name__)}, {
                    "type": "object", "properties": {route.upload_field: {"type": "string", "contentMediaType": "application/octet-stream"}}}]}
            }
        operation["requestBody"] = {"required": True, "content": content}
    return operation


def documents() -> dict[str, str]:
    files = {**event_schemas(), "openapi.json": openapi()}
    return {name: json.dumps(doc, indent=2, sort_keys=True) + "\n" for name, doc in files.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m schemas.export")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    stale = []
    for name, text in documents().items():
        path = GENERATED / name
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    if stale:
        print("out of date (run `make schemas`): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
