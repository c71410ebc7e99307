"""The tools around the Terraform: formatting, the package `terraform apply` uploads, the gateway
document, and the offline security scan (checkov) with its reviewed suppressions."""

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from hcl_eval import Config

import package

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra_terraform"
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
SUPPRESSIONS = Path(__file__).with_name("checkov_suppressions.txt")
_SKIP_COMMENT = re.compile(r"#\s*checkov:skip=(CKV2?_[A-Z]+_\d+):(.*)")
_QUIET_TERRAFORM = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "TF_IN_AUTOMATION": "1"}


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed on this machine")
def test_terraform_files_are_formatted():
    result = subprocess.run(["terraform", "fmt", "-check", "-recursive", "-diff", str(INFRA)],
                            capture_output=True, text=True, env=_QUIET_TERRAFORM, timeout=60)
    assert result.returncode == 0, f"run `terraform fmt -recursive infra_terraform`:\n{result.stdout}"


# --- the source zip --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def built(tmp_path_factory, code) -> Path:
    out = tmp_path_factory.mktemp("build")
    assert package.main(["--out", str(out)]) == 0
    return out


def test_the_zip_is_self_contained_and_exports_every_entry_point(built, code, tmp_path):
    with zipfile.ZipFile(built / "functions.zip") as archive:
        archive.extractall(tmp_path)
    probe = "import json, main; print(json.dumps(sorted(n for n in dir(main) if callable(getattr(main, n)))))"
    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(tmp_path), "PYTHONSAFEPATH": "1"})
    assert result.returncode == 0, result.stderr
    assert set(code.entry_points) <= set(json.loads(result.stdout.splitlines()[-1]))
    requirements = (tmp_path / "requirements.txt").read_text().split()
    assert {"functions-framework==3.10.2", "truelayer-signing==0.4.0"} <= set(requirements)
    assert not any(name.endswith(".pyc") or "__pycache__" in name for name in zipfile.ZipFile(built / "functions.zip").namelist())


def test_the_zip_is_reproducible(built, code):
    assert package.build_zip(ROOT, code) == (built / "functions.zip").read_bytes()


# --- the gateway document --------------------------------------------------------------------
def test_the_gateway_document_routes_every_path_to_its_function(built, code):
    template = (built / "gateway-openapi.json.tftpl").read_text()
    backends = Config(INFRA).local("gateway_backends")
    placeholders = set(re.findall(r"\$\{backends\.(\w+)\}", template))
    assert placeholders <= set(backends), "templatefile() would fail: a route's function is no backend"
    document = json.loads(re.sub(r"\$\{backends\.(\w+)\}", r"https://\1.example", template))
    assert document["swagger"] == "2.0"
    for route in code.routes:
        operation = document["paths"][route.path][route.method.lower()]
        backend = operation["x-google-backend"]
        assert backend["address"] == f"https://{route.function}.example"
        assert backend["path_translation"] == "APPEND_PATH_TO_ADDRESS", "the function matches on the original path"
        assert {p["name"] for p in operation.get("parameters", [])} == set(re.findall(r"\{(\w+)\}", route.path))
        assert "options" in document["paths"][route.path], "browsers preflight cross-origin calls"
    operations = [(path, method) for path, ops in document["paths"].items() for method in ops if method != "options"]
    assert len(operations) == len(code.routes)


# --- security scan ---------------------------------------------------------------------------
def inline_suppressions() -> dict[tuple[str, str], str]:
    found = {}
    for tf in sorted(INFRA.glob("*.tf")):
        for line in tf.read_text().splitlines():
            match = _SKIP_COMMENT.search(line)
            if match:
                found[(tf.name, match.group(1))] = match.group(2).strip()
    return found


def test_every_checkov_suppression_is_justified_and_reviewed():
    found = inline_suppressions()
    for (tf, check_id), reason in found.items():
        assert len(reason) >= 40, f"{tf}: {check_id} needs a reason that says why it does not apply"
    baseline = {tuple(line.split()[:2]) for line in SUPPRESSIONS.read_text().splitlines() if line.strip() and not line.startswith("#")}
    assert set(found) == baseline, f"update {SUPPRESSIONS.name} after review: inline {sorted(found)}"


@pytest.mark.skipif(not CHECKOV.exists(), reason=(
    "checkov lives in its own venv (its pins clash with ours): "
    "python3 -m venv .venv-checkov && .venv-checkov/bin/pip install checkov==3.3.30"))
def test_checkov_finds_nothing_unjustified():
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false", "LOG_LEVEL": "ERROR"}
    result = subprocess.run(
        [str(CHECKOV), "-d", str(INFRA), "--framework", "terraform", "--quiet", "--compact", "--skip-download", "-o", "json"],
        capture_output=True, text=True, env=env, timeout=300,
    )
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    failed = [f"{c['check_id']} {c['resource']} ({c['file_path']})" for r in reports for c in r.get("results", {}).get("failed_checks", [])]
    assert failed == [], "\n".join(failed)
    skipped = {(Path(c["file_path"]).name, c["check_id"]) for r in reports for c in r.get("results", {}).get("skipped_checks", [])}
    assert skipped <= set(inline_suppressions()), "checkov skipped checks without an inline justification"
    assert result.returncode == 0, result.stderr[-2000:]
