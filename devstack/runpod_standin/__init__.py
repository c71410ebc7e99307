"""A local stand-in for RunPod Serverless's control plane, for the local stack and the tests.

It speaks RunPod's wire formats on both sides, so production code and an unmodified
``runpod.serverless.start`` worker (SDK 1.12) run against it as they would against RunPod.
In-memory, one process, threaded.

Run::

    python -m devstack.runpod_standin --port 8787 [--host 127.0.0.1] [--endpoint-id cineweave-local]
        [--api-key local-runpod-key] [--worker-key KEY] [--webhook-retries 2]
        [--webhook-retry-delay-s 10] [--webhook-timeout-s 10] [--result-retention-s 1800]
        [--min-execution-timeout-ms 5000] [--min-ttl-ms 10000] [--poll-hold-s 20] [--tick-s 0.05]
        [--verbose]

Start a worker against it with the env from ``worker_env(base_url, pod_id)`` (plus its own).

Client API (``Authorization: Bearer <api key>``, else 401; unknown endpoint or job: 404)
    ``POST /v2/{endpoint}/run`` ``{"input", "webhook"?, "policy"?: {"executionTimeout", "ttl"}}``
    (ms; defaults 600 000 and 86 400 000; below the minimums: 400) -> ``{"id", "status": "IN_QUEUE"}``.
    ``GET /v2/{endpoint}/status/{id}`` -> ``{id, status, delayTime?, executionTime?, output?, error?,
    workerId?}``; while IN_PROGRESS ``output`` is the worker's latest progress.
    ``POST /v2/{endpoint}/cancel/{id}`` -> the status (CANCELLED unless it had already ended).
    ``GET /v2/{endpoint}/health`` -> ``{"jobs": {completed, failed, inProgress, inQueue, retried},
    "workers": {idle, initializing, ready, running, throttled, unhealthy}}``.

Worker protocol: see ``worker_api`` (job-take, job-take-batch, job-done, job-stream, job-stop, ping).

Behaviour
    A job ends COMPLETED / FAILED (worker error, or a fault) / CANCELLED / TIMED_OUT (IN_PROGRESS
    longer than executionTimeout; its worker is told to stop through job-stop). When it ends, its
    webhook gets the status JSON plus the echoed ``input``, on a background thread; a non-2xx or a
    connection error is retried ``--webhook-retries`` times, ``--webhook-retry-delay-s`` apart.
    ttl (from submission) runs out -> the job is deleted whatever its state (404, no webhook).
    Results are forgotten ``--result-retention-s`` after the end (404).

Controls (JSON bodies; every field optional unless marked; ``jobId`` targets one job, otherwise
a rule applies to the next ``count`` (default 1) webhooks or submitted jobs)
    ``POST /_control/reset``                 forget jobs (running ones are stopped), faults, logs, clock offset.
    ``POST /_control/run-errors``            ``{"count", "status": 503, "retryAfterS"}``: the next
                                             ``count`` ``/run`` calls answer ``status`` (e.g. 500, 429).
    ``POST /_control/webhooks/drop``         ``{"count" | "jobId"}``: those webhooks are never sent.
    ``POST /_control/webhooks/duplicate``    ``{"count" | "jobId", "concurrent": false}``: sent twice,
                                             one after the other or at the same time.
    ``POST /_control/webhooks/delay``        ``{"seconds" (required), "count" | "jobId"}``: sent late.
    ``POST /_control/jobs/fail``             ``{"jobId" | "count", "error"}``: that job now, or the next
                                             ``count`` submitted ones instead of reaching a worker, end
                                             FAILED with ``error`` (webhook sent).
    ``POST /_control/jobs/lose``             ``{"jobId" | "count"}``: the job vanishes (404, no webhook).
    ``POST /_control/clock/advance``         ``{"seconds" (required)}``: move the stand-in's clock
                                             (ttl, timeouts, retention) forward.
    ``GET  /_control/runs``                  every ``/run`` received: ``{at (epoch s), body, statusCode,
                                             jobId?}``, oldest first (benchmarks: create -> /run).
    ``GET  /_control/webhooks``              every delivery attempt: ``{at, jobId, url, outcome:
                                             delivered|failed|gave-up|dropped, copy, attempt,
                                             statusCode | error}``.
    ``GET  /_control/jobs``                  every job's status and ``input`` with ``createdAt``/``startedAt``/``endedAt``
                                             (epoch s) and ``fate`` (a fault awaiting it).
    ``GET  /_control/faults``                the armed faults.
"""

from devstack.runpod_standin.config import StandInConfig
from devstack.runpod_standin.env import worker_env

__all__ = ["StandInConfig", "worker_env"]
