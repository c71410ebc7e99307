"""Operating a job from its logs: one trace id from create to settle, as Cloud Logging JSON, and
never the prompt at INFO. Runs the handlers on fakes of our own ports."""

import io
import json
import logging

import flask

from functions import logs
from functions.adapters.clerk import Principal
from functions.handlers import create_job, reserve, settlement, submission
from functions.core.paths import user_path
from functions.core import jobs
from functions.http.endpoint import serve
from functions.store import Decision
from schemas.documents import UserDoc
from schemas.events import GenerationFinished, JobRequested, JobReserved
from schemas.runpod import RunPodState, RunPodStatus
from tests.unit.fakes import make_deps

PROMPT = "a secret garden where the roses whisper the launch codes"


def test_one_trace_id_follows_the_job_from_create_to_settle_and_the_prompt_is_never_logged(caplog):
    deps = make_deps()
    deps.store.decide([user_path("user_a")], lambda docs: Decision([jobs.put(user_path("user_a"), UserDoc(
        user_id="user_a", balance=2, created_at=deps.now()))]))
    request = flask.Request.from_values(path="/jobs/create", method="POST", json={"prompt": PROMPT, "durationSec": 5},
                                        headers={"Authorization": "Bearer t", "X-Cloud-Trace-Context": "4bf92f3577b34da6a3ce929d0e0e4736/1;o=1"})
    with caplog.at_level(logging.INFO):
        response = serve(request, "create_job", lambda call: create_job.create_job(call, deps),
                         authenticate=lambda token: Principal("user_a", False), allowed_origins=())
        job_id = json.loads(response.get_data())["jobId"]
        reserve.reserve_credits(JobRequested(job_id=job_id, occurred_at=deps.now(), trace_id="x"), deps)
        submission.submit_job(JobReserved(job_id=job_id, occurred_at=deps.now()), deps)
        deps.storage.put(f"videos/{job_id}.mp4", b"mp4", "video/mp4")
        deps.runpod.statuses["rp-1"] = RunPodStatus(id="rp-1", status=RunPodState.COMPLETED, execution_time=42_000, output={
            "r2Key": f"videos/{job_id}.mp4", "durationSec": 5, "frames": 121, "width": 1280, "height": 704, "fps": 24,
            "seed": 3, "model": "test"})
        settlement.settle_job(GenerationFinished(job_id=job_id, runpod_job_id="rp-1", reported_status="COMPLETED",
                                                 occurred_at=deps.now()), deps)

    ours = [r for r in caplog.records if getattr(r, "job_id", None) == job_id]
    messages = [r.getMessage() for r in ours]
    assert any(m.startswith("job created") for m in messages) and any(m.startswith("submitted to RunPod") for m in messages)
    assert any(m.startswith("job settled as done") and "42.0 GPU s" in m for m in messages), messages
    assert {r.trace_id for r in ours} == {"4bf92f3577b34da6a3ce929d0e0e4736"}  # the request's trace, not the event's
    cloud = logs.handler("cineweave-local", io.StringIO())  # what production writes: Google's StructuredLogHandler
    lines = [json.loads(cloud.format(r)) for r in caplog.records if cloud.filter(r)]
    assert all(line["severity"] and line["message"] for line in lines)
    job_lines = [line for line in lines if line.get("job_id") == job_id]
    # Cloud Logging's own fields, so the job's lines open together in Logging and Trace.
    assert {line["logging.googleapis.com/trace"] for line in job_lines} == {
        "projects/cineweave-local/traces/4bf92f3577b34da6a3ce929d0e0e4736"}
    assert all(line["httpRequest"] == {} for line in lines)  # never a URL: the RunPod webhook's carries a token
    assert not [line for line in lines if "roses whisper" in json.dumps(line)]
