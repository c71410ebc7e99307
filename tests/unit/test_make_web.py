"""``make up`` and ``make demo`` build the web app when it is missing or stale, and only then
(checked with ``make -n``, which prints the recipes without running any); the demo names the job page."""

import os
import subprocess
from pathlib import Path

import pytest

from devstack.demo import job_page

ROOT = Path(__file__).resolve().parents[2]
BUILD = "cd web && npm run build"
INSTALL = "cd web && npm ci"


def dry_run(*args: str) -> str:
    return subprocess.run(["make", "-n", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout


@pytest.fixture
def fresh_build(tmp_path):
    """Stand-ins for web/dist/index.html and node_modules, newer than every source."""
    dist, modules = tmp_path / "index.html", tmp_path / "modules.json"
    for path in (dist, modules):
        path.write_text("built")
        os.utime(path, (4_000_000_000, 4_000_000_000))
    return [f"WEB_DIST={dist}", f"WEB_MODULES={modules}"]


@pytest.mark.parametrize("target", ["up", "demo"])
def test_a_fresh_build_is_reused(target, fresh_build):
    plan = dry_run(target, *fresh_build)
    assert BUILD not in plan and INSTALL not in plan
    assert "devstack" in plan


@pytest.mark.parametrize("target", ["up", "demo"])
def test_a_missing_build_is_made_before_the_stack_starts(target, fresh_build, tmp_path):
    plan = dry_run(target, f"WEB_DIST={tmp_path / 'missing' / 'index.html'}", fresh_build[1])
    assert BUILD in plan and INSTALL not in plan
    assert plan.index(BUILD) < plan.index("-m devstack up" if target == "up" else "-m devstack.demo")


def test_an_edited_source_makes_the_build_stale(fresh_build):
    plan = dry_run("up", *fresh_build[1:], f"WEB_DIST={ROOT / 'Makefile'}", "-W", "web/src/pages/Create.tsx")
    assert BUILD in plan


def test_a_changed_lock_file_reinstalls_the_packages_first(fresh_build):
    plan = dry_run("demo", fresh_build[0], f"WEB_MODULES={ROOT / 'Makefile'}", "-W", "web/package-lock.json")
    assert plan.index(INSTALL) < plan.index(BUILD)


def test_the_demo_prints_the_job_page_of_its_clip():
    assert job_page("http://127.0.0.1:8080/", "job_0123abc") == "http://127.0.0.1:8080/app/jobs/job_0123abc"
