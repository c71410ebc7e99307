"""Latency of the API and of the pipeline's own overhead, on a fresh local stack (test worker).

    python -m devstack.bench [--clients 20] [--requests 50] [--jobs 30] [--api-key-cache-s 1]

Prints p50/p99 and requests per second of GET /jobs/{id} (with a session token, and with an API
key) and GET /credits at N concurrent clients, the documents each admin report read beside the
number of jobs in the store, and from server-side
timestamps (job history, the RunPod stand-in's logs): create -> reserved, create -> RunPod /run
received, webhook received -> job done, and job done -> its job.succeeded webhook at a receiver on
loopback (the receiver's clock, the same machine's).
"""

import argparse
import json
import os
import platform
import threading
import statistics
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

from cli.api import TERMINAL, CineWeaveClient
from devstack import stack
from devstack.clerk_dev import DevIssuer
from devstack.config import StackConfig, free_base_port


# The bench measures latency, not the rate limits: limits it never meets (30 creates a user).
BENCH_FUNCTION_ENV = {"RATE_LIMIT_READS_PER_SECOND": "10000", "RATE_LIMIT_CREATES_PER_MINUTE": "1000",
                      "RATE_LIMIT_WRITES_PER_MINUTE": "1000"}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def row(name: str, values_s: list[float], rps: float | None = None) -> str:
    ms = [v * 1000 for v in values_s]
    per_second = f"{rps:>7.0f}" if rps is not None else " " * 7
    return f"| {name:<40} | {len(ms):>5} | {percentile(ms, 50):>8.1f} | {percentile(ms, 99):>8.1f} | {max(ms):>8.1f} | {per_second} |"


def _timed(call) -> float:
    start = time.perf_counter()
    response = call()
    elapsed = time.perf_counter() - start
    assert response.status_code == 200, response.text
    return elapsed


def api_latency(clients: list[CineWeaveClient], key_clients: list[CineWeaveClient], job_ids: list[str],
                per_client: int) -> tuple[dict[str, list[float]], dict[str, float]]:
    """Latencies under ``len(clients)`` concurrent clients, and each endpoint's requests per second
    (its requests over the wall time of the phase it ran in)."""
    elapsed: list[float] = []

    def phase(timed_calls) -> list[list[float]]:
        started = time.perf_counter()
        with ThreadPoolExecutor(len(clients)) as pool:
            runs = list(pool.map(timed_calls, range(len(clients))))
        elapsed.append(time.perf_counter() - started)
        return runs

    # Each client alternates its session token and its API key request by request, so both see the
    # same machine at the same moment (other load on a shared machine moves by the second).
    def alternate(n: int) -> list[float]:
        path = f"/jobs/{job_ids[n]}"
        return [_timed(lambda c=(clients[n], key_clients[n])[i % 2]: c.request("GET", path)) for i in range(2 * per_client)]

    paired = phase(alternate)
    results = {
        "GET /jobs/{id}": [t for ts in paired for t in ts[0::2]],
        "GET /jobs/{id} with an API key": [t for ts in paired for t in ts[1::2]],
        "GET /credits": [t for ts in phase(lambda n: [_timed(lambda: clients[n].request("GET", "/credits"))
                                                       for _ in range(per_client)]) for t in ts],
    }
    seconds = {"GET /jobs/{id}": elapsed[0], "GET /jobs/{id} with an API key": elapsed[0], "GET /credits": elapsed[1]}
    return results, {name: len(results[name]) / seconds[name] for name in results}


def report_reads(admin: CineWeaveClient) -> dict[str, int]:
    """What each admin report read (its own ``documentsRead``), in Firestore's billing terms."""
    return {path: admin.json("GET", path)["documentsRead"] for path in ("/admin/metrics?days=30", "/admin/stats/daily?days=30")}


def pipeline_overheads(config: StackConfig, client: CineWeaveClient, jobs: int) -> dict[str, list[float]]:
    ids = []
    for n in range(jobs):
        ids.append(client.create_job(f"benchmark clip {n}", 5)["jobId"])
        client.wait(ids[-1], lambda j: j["status"] in TERMINAL, timeout_s=60, interval_s=0.05)
    control = f"{config.runpod_url}/_control"
    runs = {r["body"]["input"]["jobId"]: r["at"] for r in requests.get(f"{control}/runs", timeout=10).json() if r.get("statusCode") == 200}
    rp_to_job = {j["id"]: (j.get("input") or {}).get("jobId") for j in requests.get(f"{control}/jobs", timeout=10).json()}
    delivered = {rp_to_job[w["jobId"]]: w["at"] for w in requests.get(f"{control}/webhooks", timeout=10).json() if w["outcome"] == "delivered"}
    out: dict[str, list[float]] = {"create -> reserved": [], "create -> RunPod /run received": [], "webhook received -> done": []}
    for job_id in ids:
        history = {h["status"]: datetime.fromisoformat(h["at"]).timestamp() for h in client.job(job_id)["history"]}
        out["create -> reserved"].append(history["reserved"] - history["pending"])
        out["create -> RunPod /run received"].append(runs[job_id] - history["pending"])
        out["webhook received -> done"].append(history["done"] - delivered[job_id])
    return out


class WebhookReceiver:
    """A webhook receiver on loopback: when each job's ``done`` message arrived (``time.time()``)."""

    def __init__(self) -> None:
        self.done_at: dict[str, float] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if body.get("status") == "done":
                    receiver.done_at.setdefault(body["jobId"], time.time())
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hooks"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()


def webhook_latency(client: CineWeaveClient, receiver: WebhookReceiver, job_ids: list[str]) -> dict[str, list[float]]:
    deadline = time.monotonic() + 60
    while set(job_ids) - set(receiver.done_at) and time.monotonic() < deadline:
        time.sleep(0.1)
    lost = set(job_ids) - set(receiver.done_at)
    assert not lost, f"no job.succeeded webhook for {sorted(lost)}"
    done_at = {j: datetime.fromisoformat(client.job(j)["history"][-1]["at"]).timestamp() for j in job_ids}
    return {"job done -> webhook received": [receiver.done_at[j] - done_at[j] for j in job_ids]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack.bench")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=50, help="requests per client per endpoint")
    parser.add_argument("--jobs", type=int, default=30)
    parser.add_argument("--api-key-cache-s", help="API_KEY_CACHE_S for this run (the revocation bound; default 1)")
    args = parser.parse_args(argv)

    config = StackConfig(base_port=free_base_port(21080), state_dir=Path(tempfile.mkdtemp(prefix="cineweave-bench-")),
                         worker="test", workers=2, function_env={
                             **BENCH_FUNCTION_ENV, **({"API_KEY_CACHE_S": args.api_key_cache_s} if args.api_key_cache_s else {})})
    stack.up(config)
    try:
        issuer = DevIssuer(config.clerk_keys_dir, config.clerk_issuer)
        admin = CineWeaveClient(config.base_url, issuer.token_source("user_admin", azp=config.base_url, admin=True))
        users = [f"user_bench{uuid.uuid4().hex[:8]}" for _ in range(args.clients)]
        clients = [CineWeaveClient(config.base_url, issuer.token_source(u, azp=config.base_url)) for u in users]
        for user in users:
            admin.grant(user, args.jobs + 1)
        key_clients = [CineWeaveClient(config.base_url, c.json("POST", "/keys", json={"name": "bench"})["key"]) for c in clients]
        job_ids = [c.create_job("a job to read", 5)["jobId"] for c in clients]
        for c, job_id in zip(clients, job_ids):
            c.wait(job_id, lambda j: j["status"] in TERMINAL, timeout_s=60, interval_s=0.05)
        receiver = WebhookReceiver()
        clients[0].json("POST", "/webhooks/endpoints", json={"url": receiver.url, "events": ["job.succeeded"]})
        overheads = pipeline_overheads(config, clients[0], args.jobs)
        benchmarked = [j["jobId"] for j in clients[0].jobs(limit=args.jobs)["jobs"]]
        latencies, rates = api_latency(clients, key_clients, job_ids, args.requests)
        results = {**latencies, **overheads, **webhook_latency(clients[0], receiver, benchmarked)}
        receiver.close()
        jobs_stored, reads = len(clients) + args.jobs, report_reads(admin)
    finally:
        stack.down(config)

    print(f"\nCineWeave local-stack benchmark — {platform.node()}, {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}; {args.clients} concurrent clients x {args.requests} requests; {args.jobs} jobs")
    print(f"load average at the end (the machine may be shared): {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("| what                                     |     n |  p50 ms |  p99 ms |  max ms |   req/s |")
    print("|------------------------------------------|-------|---------|---------|---------|---------|")
    for name, values in results.items():
        print(row(name, values, rates.get(name)))
    session, key = (statistics.mean(results[name]) * 1000 for name in ("GET /jobs/{id}", "GET /jobs/{id} with an API key"))
    p50s = [percentile(results[name], 50) for name in ("GET /jobs/{id}", "GET /jobs/{id} with an API key")]
    print(f"\nmean GET /jobs/{{id}}: {session:.1f} ms with a session token, {key:.1f} ms with an API key "
          f"(p50 {100 * (p50s[1] / p50s[0] - 1):+.1f} %; the target is within +10 %)")
    for path, count in reads.items():
        print(f"GET {path}: {count} documents read, with {jobs_stored} jobs in the store")


if __name__ == "__main__":
    main()
