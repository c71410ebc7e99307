"""Builds what `terraform apply` uploads: the functions' source zip and the gateway's document.

    python infra_terraform/package.py            # writes infra_terraform/build/

- ``build/functions.zip``: ``functions/`` and ``schemas/`` as packages, ``requirements.txt`` from
  pyproject's dependencies plus the ``functions`` and ``payments`` extras, and a ``main.py`` at
  the root that re-exports every entry point of ``functions/main.py`` by name (Cloud Functions
  loads ``main.py`` and looks the entry point up there). The zip is byte-for-byte reproducible,
  so Terraform redeploys only when the code or a pin changes.
- ``build/gateway-openapi.json.tftpl``: the Swagger 2.0 document API Gateway needs, one path per
  route of ``functions/http/routes.py`` ROUTES, each sent to ``${backends.<function>}``, which
  Terraform fills with the function's URL (a route to an undeployed function fails the plan).
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
import tomllib
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from code_model import CodeModel  # noqa: E402

PACKAGES = ("functions", "schemas")
EXTRAS = ("functions", "payments")
SKIP_DIRS = {"__pycache__", ".pytest_cache"}
SKIP_SUFFIXES = {".pyc", ".pyo"}
_FIXED_TIME = (2020, 1, 1, 0, 0, 0)
_PATH_PARAM = re.compile(r"\{(\w+)\}")
BACKEND_DEADLINE_S = 60.0


def requirements(pyproject: Path) -> list[str]:
    project = tomllib.loads(pyproject.read_text())["project"]
    pins = list(project.get("dependencies", []))
    for extra in EXTRAS:
        pins += project.get("optional-dependencies", {}).get(extra, [])
    return list(dict.fromkeys(pins))


def main_module(entry_points: list[str]) -> str:
    names = "".join(f"    {name},\n" for name in entry_points)
    return (
        '"""Cloud Functions loads this module; every entry point lives in functions.main."""\n\n'
        f"from functions.main import (  # noqa: F401\n{names})\n"
    )


def source_files(root: Path) -> list[tuple[str, Path]]:
    files = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*")):
            relative = path.relative_to(root)
            if path.is_file() and not SKIP_DIRS & set(relative.parts) and path.suffix not in SKIP_SUFFIXES:
                files.append((relative.as_posix(), path))
    return files


def build_zip(root: Path, model: CodeModel) -> bytes:
    entries = [(name, path.read_bytes()) for name, path in source_files(root)]
    entries.append(("main.py", main_module(list(model.entry_points)).encode()))
    entries.append(("requirements.txt", ("\n".join(requirements(root / "pyproject.toml")) + "\n").encode()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def gateway_document(routes, title: str = "CineWeave API") -> dict:
    """Swagger 2.0 for API Gateway; ``x-google-backend.address`` is a Terraform template reference."""
    paths: dict[str, dict] = {}
    for route in routes:
        operations = paths.setdefault(route.path, {})
        params = [{"name": p, "in": "path", "required": True, "type": "string"} for p in _PATH_PARAM.findall(route.path)]
        backend = {
            "address": f"${{backends.{route.function}}}",
            "path_translation": "APPEND_PATH_TO_ADDRESS",
            "deadline": BACKEND_DEADLINE_S,
        }
        operation = {
            "operationId": route.function,
            "summary": route.summary,
            "x-google-backend": backend,
            "responses": {"default": {"description": "The function's JSON answer"}},
        }
        if params:
            operation["parameters"] = params
        operations[route.method.lower()] = operation
        # Browsers preflight cross-origin calls; the function answers OPTIONS with its CORS headers.
        operations.setdefault("options", {
            "operationId": f"{route.function}_preflight",
            "summary": f"CORS preflight of {route.path}",
            "x-google-backend": backend,
            "responses": {"204": {"description": "CORS headers"}},
            **({"parameters": params} if params else {}),
        })
    return {
        "swagger": "2.0",
        "info": {"title": title, "version": "1.0.0"},
        "schemes": ["https"],
        "consumes": ["application/json", "multipart/form-data"],
        "produces": ["application/json"],
        "paths": dict(sorted(paths.items())),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "build", help="output folder (default: infra_terraform/build)")
    args = parser.parse_args(argv)
    model = CodeModel(ROOT)
    args.out.mkdir(parents=True, exist_ok=True)
    archive = args.out / "functions.zip"
    archive.write_bytes(build_zip(ROOT, model))
    document = args.out / "gateway-openapi.json.tftpl"
    document.write_text(json.dumps(gateway_document(model.routes), indent=2) + "\n")
    print(f"wrote {archive.relative_to(ROOT) if archive.is_relative_to(ROOT) else archive} "
          f"({len(model.entry_points)} entry points) and {document.name} ({len(model.routes)} routes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
