"""Latency of the API and of the pipeline's own overhead, on a fresh local stack (test worker).

    python -m devstack.bench [--clients 20] [--requests 200] [--rounds 3] [--warm-rounds 2] [--jobs 30]
                             [--load-processes 2] [--api-key-cache-s 1]

Prints p50/p99 and requests per second of GET /jobs/{id} (with a session token, and with an API
key) and GET /credits at N concurrent clients (closed loop, keep-alive connections, spread over
load processes; warm-up rounds first, not counted; then measured rounds on new connections, pooled;
each client's first 4 requests of a round warm its connection and are not counted), the documents
each admin report read beside the number of jobs in the store, and from server-side timestamps
(job history, the RunPod stand-in's logs): create -> reserved, create -> RunPod /run received,
webhook received -> job done, and job done -> its job.succeeded webhook at a receiver on loopback
(the receiver's clock, the same machine's).
"""

import argparse
import json
import multiprocessing
import os
import platform
import socket
import statistics
import tempfile
import threading
import time
import uuid
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import requests

from cli.api import TERMINAL, CineWeaveClient
from devstack import processes as stack_processes
from devstack import stack
from devstack.clerk_dev import DevIssuer
from devstack.config import StackConfig, free_base_port
from devstack.function_host import GATEWAY_THREADS


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


def _client_loop(base_url: str, plan: list[tuple[str, str]], warmup: int) -> list[float]:
    """One client: its GETs (path, bearer credential) in order over one keep-alive connection, each
    sent when the last is answered; the latency of each after the first ``warmup``.

    The requests are encoded before the clock starts and each answer is read by its Content-Length
    off a plain socket: http.client parses every header through the email package, about 0.3
    CPU-ms an answer, a tenth of what the server spends, on the same two cores."""
    address = urlsplit(base_url)
    encoded = [(path, f"GET {path} HTTP/1.1\r\nHost: {address.netloc}\r\nAuthorization: Bearer {credential}\r\n\r\n".encode())
               for path, credential in plan]
    latencies = []
    with socket.create_connection((address.hostname, address.port), timeout=30) as connection:
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        pending = b""
        for n, (path, request) in enumerate(encoded):
            started = time.perf_counter()
            connection.sendall(request)
            status, body, pending = _read_answer(connection, pending)
            if status != 200:
                raise AssertionError(f"GET {path}: {status} {body[:300]!r}")
            if n >= warmup:
                latencies.append(time.perf_counter() - started)
    return latencies


def _read_answer(connection: socket.socket, pending: bytes) -> tuple[int, bytes, bytes]:
    """One HTTP/1.1 answer with a Content-Length (every JSON answer of the API has one): its status,
    its body, and whatever arrived after it."""
    while b"\r\n\r\n" not in pending:
        pending += _received(connection)
    head, _, pending = pending.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    length = next((int(line.split(b":", 1)[1]) for line in lines[1:] if line[:15].lower() == b"content-length:"), None)
    if length is None:
        raise AssertionError(f"an answer without a Content-Length: {head[:300]!r}")
    while len(pending) < length:
        pending += _received(connection)
    return int(lines[0].split()[1]), pending[:length], pending[length:]


def _received(connection: socket.socket) -> bytes:
    chunk = connection.recv(65536)
    if not chunk:
        raise AssertionError("the gateway closed a keep-alive connection mid-answer")
    return chunk


def _load_process(base_url: str, plans: list[list[tuple[str, str]]], warmup: int,
                  start_at: float) -> tuple[list[list[float]], float, float, float]:
    """Some of the clients, a thread each, started together at ``start_at``: their latencies, when
    they ran, and the CPU seconds this process spent running them (its imports not counted)."""
    time.sleep(max(0.0, start_at - time.time()))  # every load process begins at the same moment
    started, cpu_before = time.time(), time.process_time()
    with ThreadPoolExecutor(len(plans)) as pool:
        runs = list(pool.map(lambda plan: _client_loop(base_url, plan, warmup), plans))
    return runs, started, time.time(), time.process_time() - cpu_before


@dataclass(frozen=True)
class Phase:
    runs: list[list[float]]  # each client's latencies, in seconds
    wall_s: float
    load_cpu_s: float  # what the load processes spent sending and reading

    @property
    def requests(self) -> int:
        return sum(len(client) for client in self.runs)


def closed_loop(base_url: str, plans: list[list[tuple[str, str]]], warmup: int, processes: int) -> Phase:
    """Every client at once (closed loop: each sends its next request when the last is answered),
    spread over ``processes`` load processes with plain keep-alive connections, so that what is
    measured is the server, not the load generator's own interpreter lock."""
    groups = [list(range(len(plans)))[i::processes] for i in range(processes)]
    start_at = time.time() + 2  # time for the load processes to start
    with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(_load_process, base_url, [plans[n] for n in group], warmup, start_at) for group in groups]
        answers = [future.result() for future in futures]
    runs: list[list[float]] = [[] for _ in plans]
    for group, (group_runs, *_) in zip(groups, answers, strict=True):
        for n, latencies in zip(group, group_runs, strict=True):
            runs[n] = latencies
    return Phase(runs, max(end for _, _, end, _ in answers) - min(started for _, started, _, _ in answers),
                 sum(cpu for *_, cpu in answers))


def group_cpu_s(leaders: dict[str, int]) -> dict[str, float]:
    """CPU seconds (user + system) used so far by each process group of the stack, by its service
    name (a service's leader started a session: the emulator's JVM, the gateway's workers are in it)."""
    by_group = dict.fromkeys(leaders.values(), 0.0)
    tick_s = 1 / os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while the folder was read
            continue
        group = int(fields[2])  # fields after the name: state, ppid, pgrp, ...
        if group in by_group:
            by_group[group] += (int(fields[11]) + int(fields[12])) * tick_s  # utime, stime
    return {name: by_group[pid] for name, pid in leaders.items()}


def api_latency(base_url: str, sessions: list[str], keys: list[str], job_ids: list[str], per_client: int,
                processes: int, rounds: int, warm_rounds: int, leaders: dict[str, int]
                ) -> tuple[dict[str, list[float]], dict[str, float], dict[str, dict[str, float]]]:
    """Latencies under ``len(sessions)`` concurrent clients, each endpoint's requests per second, and
    the CPU milliseconds a request cost each of the stack's processes (and the load processes).

    ``warm_rounds`` of both phases come first, answered and not counted: the Firestore emulator is a
    JVM that compiles its hot paths over its first ~20,000 reads (cold, it spends three times the
    CPU on a read), and production Firestore is never cold. Then each phase runs ``rounds`` times,
    taking turns, each round on new connections, and its figures pool them all: the kernel spreads
    a round's connections over the gateway's workers at random (SO_REUSEPORT) and keep-alive holds
    each to its worker, so one round measures one split (14/6 answers about a fifth fewer requests
    a second than 10/10), where Cloud Run's front end spreads requests, not connections."""
    warmup = 4
    # Each client alternates its session token and its API key request by request, so both see the
    # same machine at the same moment (other load on a shared machine moves by the second).
    alternating = [[(f"/jobs/{job_id}", (session, key)[i % 2]) for i in range(warmup + 2 * per_client)]
                   for session, key, job_id in zip(sessions, keys, job_ids, strict=True)]
    credit_reads = [[("/credits", session)] * (warmup + per_client) for session in sessions]
    phases = {"jobs": alternating, "credits": credit_reads}
    for _ in range(warm_rounds):
        for plans in phases.values():
            closed_loop(base_url, plans, warmup, processes)
    measured: dict[str, list[Phase]] = {name: [] for name in phases}
    cpu_s: dict[str, dict[str, float]] = {name: dict.fromkeys(leaders, 0.0) for name in phases}
    for _ in range(rounds):
        for name, plans in phases.items():
            before = group_cpu_s(leaders)
            measured[name].append(closed_loop(base_url, plans, warmup, processes))
            after = group_cpu_s(leaders)
            for service in leaders:
                cpu_s[name][service] += after[service] - before[service]

    def pooled(name: str, every: slice = slice(None)) -> list[float]:
        return [t for phase in measured[name] for client in phase.runs for t in client[every]]

    def answered(name: str) -> int:
        return sum(phase.requests for phase in measured[name])

    def per_second(name: str) -> float:  # every measured request over the wall time of the rounds
        return answered(name) / sum(phase.wall_s for phase in measured[name])

    def cpu_ms(name: str) -> dict[str, float]:  # a request's share of each process's CPU, 0.05 ms and up
        spent = {**cpu_s[name], "load generator": sum(phase.load_cpu_s for phase in measured[name])}
        return {service: ms for service, seconds in spent.items() if (ms := 1000 * seconds / answered(name)) >= 0.05}

    results = {"GET /jobs/{id}": pooled("jobs", slice(0, None, 2)), "GET /jobs/{id} with an API key": pooled("jobs", slice(1, None, 2)),
               "GET /credits": pooled("credits")}
    jobs_rps = per_second("jobs")
    rates = {"GET /jobs/{id}": jobs_rps / 2, "GET /jobs/{id} with an API key": jobs_rps / 2, "GET /credits": per_second("credits")}
    return results, rates, {"GET /jobs/{id} (session and key)": cpu_ms("jobs"), "GET /credits": cpu_ms("credits")}


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
    parser.add_argument("--requests", type=int, default=200, help="requests per client per endpoint in a round")
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds of each read phase, each on new connections")
    parser.add_argument("--warm-rounds", type=int, default=2, help="rounds of both read phases first, not counted")
    parser.add_argument("--jobs", type=int, default=30)
    parser.add_argument("--load-processes", type=int, default=2, help="processes the concurrent clients are spread over")
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
        keys = [c.json("POST", "/keys", json={"name": "bench"})["key"] for c in clients]
        job_ids = [c.create_job("a job to read", 5)["jobId"] for c in clients]
        for c, job_id in zip(clients, job_ids):
            c.wait(job_id, lambda j: j["status"] in TERMINAL, timeout_s=60, interval_s=0.05)
        receiver = WebhookReceiver()
        clients[0].json("POST", "/webhooks/endpoints", json={"url": receiver.url, "events": ["job.succeeded"]})
        overheads = pipeline_overheads(config, clients[0], args.jobs)
        benchmarked = [j["jobId"] for j in clients[0].jobs(limit=args.jobs)["jobs"]]
        # Session tokens for the whole run: ten minutes, not Clerk's one, so that a slow machine's
        # phases (tens of seconds each) never outlive them.
        sessions = [issuer.mint(user, azp=config.base_url, lifetime_s=600) for user in users]
        latencies, rates, cpu_ms = api_latency(config.base_url, sessions, keys, job_ids, args.requests, args.load_processes,
                                               args.rounds, args.warm_rounds, stack_processes.running(config.state_dir))
        results = {**latencies, **overheads, **webhook_latency(clients[0], receiver, benchmarked)}
        receiver.close()
        jobs_stored, reads = len(clients) + args.jobs, report_reads(admin)
    finally:
        stack.down(config)

    print(f"\nCineWeave local-stack benchmark — {platform.node()}, {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}; {args.clients} concurrent clients x {args.requests} requests x {args.rounds} rounds "
          f"(after {args.warm_rounds} warm-up rounds); {args.jobs} jobs")
    print(f"gateway: gunicorn, {os.cpu_count()} workers x {GATEWAY_THREADS} threads; load: {args.load_processes} processes; "
          f"load average at the end (the machine may be shared): {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("| what                                     |     n |  p50 ms |  p99 ms |  max ms |   req/s |")
    print("|------------------------------------------|-------|---------|---------|---------|---------|")
    for name, values in results.items():
        print(row(name, values, rates.get(name)))
    session, key = (statistics.mean(results[name]) * 1000 for name in ("GET /jobs/{id}", "GET /jobs/{id} with an API key"))
    p50s = [percentile(results[name], 50) for name in ("GET /jobs/{id}", "GET /jobs/{id} with an API key")]
    print(f"\nmean GET /jobs/{{id}}: {session:.1f} ms with a session token, {key:.1f} ms with an API key "
          f"(p50 {100 * (p50s[1] / p50s[0] - 1):+.1f} %; the target is within +10 %)")
    for endpoint, costs in cpu_ms.items():
        print(f"CPU-ms a request, {endpoint}: " + ", ".join(f"{service} {ms:.2f}" for service, ms in sorted(costs.items(), key=lambda kv: -kv[1]))
              + f"; all told {sum(costs.values()):.2f}")
    for path, count in reads.items():
        print(f"GET {path}: {count} documents read, with {jobs_stored} jobs in the store")


if __name__ == "__main__":
    main()
