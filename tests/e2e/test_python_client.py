"""The typed client, the README's example and the CLI built on it, against the local stack."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from cineweave_client import ApiError, Client
from cli import main as cli
from schemas.api import JobView
from schemas.jobs import JobStatus

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_example() -> str:
    text = README.read_text()
    return re.search(r"<!-- client-example -->\n```python\n(.*?)```", text, re.S).group(1)


def test_the_readme_example_runs_against_the_local_stack(make_user, stack, tmp_path):
    user = make_user(credits=2)
    key = Client(stack.base_url, user.client.token).create_key("readme example").key  # what a backend would hold
    env = {"PATH": "/usr/bin:/bin", "CINEWEAVE_API": stack.base_url, "CINEWEAVE_TOKEN": key, "OUT_DIR": str(tmp_path)}
    run = subprocess.run([sys.executable, "-c", readme_example()], env=env, cwd=README.parent,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("done http"), lines  # status, r2Url, expiresAt
    assert lines[-2:] == ["canceled", "404 not_found"], lines
    assert [path.suffix for path in tmp_path.iterdir()] == [".mp4"]


def test_a_done_job_answers_the_specs_flat_fields_beside_the_nested_view(make_user):
    user = make_user(credits=1)
    client = Client(user.client.base_url, user.client.token)
    job = client.poll(client.create("a kite over dunes", 5).job_id, timeout_s=120, interval_s=0.1)
    raw = client.http.json("GET", f"/jobs/{job.job_id}")
    assert raw["status"] == "done" and raw["durationSec"] == 5
    assert raw["r2Url"].split("?")[0] == raw["video"]["url"].split("?")[0]
    assert raw["expiresAt"] and isinstance(JobView.model_validate(raw), JobView)


def test_typed_errors_carry_the_api_code_and_field(make_user):
    client = Client(make_user().client.base_url, make_user().client.token)
    with pytest.raises(ApiError) as caught:
        client.create("", 5)
    assert (caught.value.status, caught.value.code, caught.value.field) == (422, "invalid_request", "prompt")


def test_the_cli_creates_waits_and_downloads_through_the_client(make_user, stack, tmp_path, monkeypatch, capsys):
    user = make_user(credits=1)
    monkeypatch.setenv("CINEWEAVE_API", stack.base_url)
    monkeypatch.setenv("CINEWEAVE_TOKEN", user.client.token)
    out = tmp_path / "clip.mp4"
    assert cli.main(["create", "a lantern in fog", "--wait", "--out", str(out), "--timeout", "120"]) == 0
    assert Path(capsys.readouterr().out.strip()) == out.resolve() and out.stat().st_size > 0
    jobs = Client(stack.base_url, user.client.token).list().jobs
    assert [job.status for job in jobs] == [JobStatus.DONE]
