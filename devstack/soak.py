"""A soak run: many jobs from many users through the whole local pipeline while faults are
injected at random (seeded: the same seed replays the same schedule), plus concurrent top-ups.

    python -m devstack.soak --jobs 200 --users 20 --seed 1      # make soak; starts its own stack

At the end it checks and prints: jobs submitted, terminal, lost (must be 0), double charges and
double grants (0), refunds matching failures, what is left in dead-letter topics and why, the
faults injected per kind, p50/p99 create -> terminal, and a scan for secrets in logs, events,
job documents and RunPod inputs. Exit status 1 if any check fails.
``run_soak(config, ...)`` runs it against a stack that is already up (the tests use it).
"""

import argparse
import base64
import concurrent.futures
import hashlib
import json
import random
import signal
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import requests

from cli.api import TERMINAL, CineWeaveClient
from devstack import processes
from devstack import stack as devstack
from devstack.clerk_dev import DevIssuer
from devstack.config import ROOT, StackConfig, environment, free_base_port

SOAK_FUNCTION_ENV = {
    "RECONCILE_AFTER_S": "3",
    "REPUBLISH_AFTER_S": "3",
    "SUBMIT_CLAIM_S": "5",
    "RUNPOD_EXECUTION_TIMEOUT_S": "5",  # [slow:8] jobs time out
    "RUNPOD_STATUS_CACHE_S": "0.5",
    "MAX_ACTIVE_JOBS": "5",
    "PAYMENT_RECONCILE_AFTER_S": "5",  # the payments reconciler repairs lost payment events within the run
    "RATE_LIMIT_CREATES_PER_MINUTE": "600",  # the soak measures the pipeline, not the rate limits
    "RATE_LIMIT_READS_PER_SECOND": "200",
}
PAYER = {"name": "Soak Tester", "email": "soak@example.com"}
IN_FLIGHT_PER_USER = 3
FAULT_KINDS = ("runpod-5xx", "runpod-429", "webhook-drop", "webhook-delay", "webhook-duplicate", "webhook-duplicate-concurrent",
               "job-fail", "job-lose", "kill-events", "kill-gateway", "kill-worker", "bucket-down", "poison")


@dataclass
class Report:
    seed: int
    submitted: int = 0
    terminal: int = 0
    lost: list[str] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    double_charges: list[str] = field(default_factory=list)
    double_grants: list[str] = field(default_factory=list)
    balance_mismatches: list[str] = field(default_factory=list)
    refunds: int = 0
    refundable_failures: int = 0
    faults: Counter = field(default_factory=Counter)
    topups: int = 0
    topup_copies: int = 0
    resent_payment_events: int = 0  # webhooks or payment events the soak itself sent again: must stay 0
    payment_events_dropped: tuple[int, int, int] = (0, 0, 0)  # never applied: messages, distinct events, payments
    reconciler_grants: list[str] = field(default_factory=list)  # payments granted by the payments reconciler
    events_seen: int = 0
    dead_letters: list[dict] = field(default_factory=list)
    secrets_found: list[str] = field(default_factory=list)
    latencies_s: list[float] = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def ok(self) -> bool:
        return (not self.lost and not self.double_charges and not self.double_grants and not self.balance_mismatches
                and self.refunds == self.refundable_failures and not self.secrets_found and self.terminal == self.submitted
                and self.resent_payment_events == 0)

    def percentile(self, q: float) -> float:
        data = sorted(self.latencies_s)
        return data[min(len(data) - 1, int(round(q * (len(data) - 1))))] if data else float("nan")

    def lines(self) -> list[str]:
        dl = Counter(f"{d['topic']} ({d['source']}): {d['why'][:90]}" for d in self.dead_letters)
        return [
            f"soak seed {self.seed}: {'PASS' if self.ok else 'FAIL'} in {self.wall_s:.0f} s",
            f"jobs submitted        {self.submitted}",
            f"jobs terminal         {self.terminal}  ({', '.join(f'{k} {v}' for k, v in sorted(self.statuses.items()))})",
            f"jobs lost             {len(self.lost)}  {self.lost[:5] or ''}",
            f"double charges        {len(self.double_charges)}  {self.double_charges[:5] or ''}",
            f"double grants         {len(self.double_grants)}  {self.double_grants[:5] or ''}",
            f"balance mismatches    {len(self.balance_mismatches)}  {self.balance_mismatches[:5] or ''}",
            f"refunds / refundable  {self.refunds} / {self.refundable_failures} (failed or canceled after a reservation)",
            f"top-ups               {self.topups} settled, webhooks sent {self.topup_copies} times",
            f"re-sent payment events {self.resent_payment_events} (the soak re-sends nothing: the payments reconciler repairs)",
            f"reconciler grants     {len(self.reconciler_grants)} (payments whose webhook or event was lost, granted by the tick)",
            f"faults injected       {sum(self.faults.values())}: {', '.join(f'{k} {v}' for k, v in sorted(self.faults.items()))}",
            f"create -> terminal    p50 {self.percentile(0.5):.2f} s, p99 {self.percentile(0.99):.2f} s (n={len(self.latencies_s)})",
            f"events published      {self.events_seen}; payment events published but never applied (dropped):"
            " {} messages, {} events, of {} payments".format(*self.payment_events_dropped),
            f"dead letters / poison {len(self.dead_letters)}" + "".join(f"\n    {n} x {why}" for why, n in dl.most_common()),
            f"secrets found         {len(self.secrets_found)}  {self.secrets_found[:5] or ''}",
        ]


class Soak:
    def __init__(self, config: StackConfig, jobs: int, users: int, seed: int, faults: bool = True, deadline_s: float = 600) -> None:
        self.config, self.jobs, self.users, self.seed, self.with_faults = config, jobs, users, seed, faults
        self.rng = random.Random(seed)
        self.deadline_s = deadline_s
        self.report = Report(seed=seed)
        self.issuer = DevIssuer(config.clerk_keys_dir, config.clerk_issuer)
        self.admin = CineWeaveClient(config.base_url, self.issuer.token_source("user_soak_admin", azp=config.base_url, admin=True))
        self.run_id = uuid.UUID(int=random.Random(seed).getrandbits(128)).hex[:8] + uuid.uuid4().hex[:4]
        self.created: dict[str, tuple[str, float]] = {}  # job id -> (user id, client-side create time)
        self.granted: Counter = Counter()  # credits each user was given (grants and settled top-ups)
        self.creating = threading.Event()
        self.lock = threading.Lock()
        self.worker_serial = 100

    # --- the run ---------------------------------------------------------------------------------
    def run(self) -> Report:
        started = time.monotonic()
        control = f"{self.config.runpod_url}/_control"
        requests.post(f"{control}/reset", timeout=5)
        self.tap = EventTap(self.config, self.run_id)
        plans = self._plans()
        users = [f"user_soak_{self.run_id}_{n:02d}" for n in range(self.users)]
        for user_id in users:
            credits = 3 * sum(p[1] // 5 for p in plans[user_id])
            self.admin.grant(user_id, credits, grant_id=f"soak-{self.run_id}-{user_id}")
            self.granted[user_id] += credits
        self.creating.set()
        ticking = threading.Event()
        with concurrent.futures.ThreadPoolExecutor(len(users) + 3) as pool:
            if not self.config.tick_interval_s:  # no local scheduler on this stack: be one
                pool.submit(self._tick, ticking)
            chaos = pool.submit(self._chaos) if self.with_faults else None
            topups = pool.submit(self._topups, users)
            list(pool.map(lambda u: self._user(u, plans[u]), users))
            self.creating.clear()
            for side in (chaos, topups):
                if side:
                    side.result()
            self._heal()
            self._settle_everything()
            ticking.set()
        self.report.wall_s = time.monotonic() - started
        return self.report

    def _tick(self, stop: threading.Event) -> None:
        from functions.adapters.pubsub import PubSubPublisher
        from schemas.events import ClockTicked

        with environment(self.config.emulator_env()):
            publisher = PubSubPublisher(self.config.project)
        while not stop.wait(1.0):
            _call(lambda: publisher.publish(ClockTicked()))

    def _plans(self) -> dict[str, list[tuple[str, int]]]:
        """Every user's prompts and durations, drawn from the seed (some fail, crash, dawdle or time out)."""
        kinds = [("", 80), (" [fail]", 6), (" [crash]", 4), (" [slow:1.5]", 7), (" [slow:8]", 3)]
        plans: dict[str, list[tuple[str, int]]] = {f"user_soak_{self.run_id}_{n:02d}": [] for n in range(self.users)}
        names = list(plans)
        for n in range(self.jobs):
            switch = self.rng.choices([k for k, _ in kinds], weights=[w for _, w in kinds])[0]
            plans[names[n % len(names)]].append((f"soak {self.seed}/{n}: a lighthouse in a storm{switch}", self.rng.choice([5, 10, 15])))
        return plans

    def _user(self, user_id: str, plan: list[tuple[str, int]]) -> None:
        client = CineWeaveClient(self.config.base_url, self.issuer.token_source(user_id, azp=self.config.base_url), timeout_s=15)
        waiting = list(plan)
        live: set[str] = set()
        deadline = time.monotonic() + self.deadline_s
        while (waiting or live) and time.monotonic() < deadline:
            while waiting and len(live) < IN_FLIGHT_PER_USER:
                job_id = self._create(client, user_id, *waiting[0])
                if job_id is None:
                    break  # the API is down or the user is at the active-job limit: look again shortly
                waiting.pop(0)
                live.add(job_id)
            for job_id in list(live):
                job = _call(lambda j=job_id: client.job(j))
                if job and job["status"] in TERMINAL:
                    live.discard(job_id)
            time.sleep(0.3)  # a client's polling interval

    def _create(self, client: CineWeaveClient, user_id: str, prompt: str, duration: int) -> str | None:
        key = f"soak-{self.run_id}-{hashlib.sha256(prompt.encode()).hexdigest()[:16]}"  # a retried create is the same job
        response = _call(lambda: client.request("POST", "/jobs/create", json={"prompt": prompt, "durationSec": duration},
                                                headers={"Idempotency-Key": key}))
        if response is None or response.status_code != 202:
            return None
        job_id = response.json()["jobId"]
        with self.lock:
            if job_id not in self.created:
                self.created[job_id] = (user_id, time.time())
        return job_id

    def _topups(self, users: list[str]) -> None:
        """Concurrent top-ups while jobs run: TrueLayer settles each, sending its webhooks 1-4 times at once."""
        rng = random.Random(self.seed * 7919)
        control = f"{self.config.truelayer_url}/_control"
        while self.creating.is_set():
            user_id = rng.choice(users)
            credits, copies = rng.randint(10, 40), rng.randint(1, 4)
            client = CineWeaveClient(self.config.base_url, self.issuer.token_source(user_id, azp=self.config.base_url))
            checkout = _call(lambda: client.topup(credits, PAYER))
            if checkout:
                answer = _call(lambda: requests.post(f"{control}/payments/{checkout['paymentId']}/settle",
                                                     json={"copies": copies, "concurrent": True}, timeout=10))
                if answer is not None and answer.ok:
                    with self.lock:
                        self.granted[user_id] += credits
                        self.report.topups += 1
                        self.report.topup_copies += copies
            time.sleep(rng.uniform(0.5, 2.0))

    # --- faults ----------------------------------------------------------------------------------
    def _chaos(self) -> None:
        rng = random.Random(self.seed * 104729)
        while self.creating.is_set():
            time.sleep(rng.uniform(0.5, 2.5))
            if not self.creating.is_set():
                break
            kind = rng.choice(FAULT_KINDS)
            try:
                self._inject(kind, rng)
                self.report.faults[kind] += 1
            except Exception as exc:  # noqa: BLE001 - a fault that could not be injected is reported, not fatal
                print(f"soak: could not inject {kind}: {exc}", file=sys.stderr)

    def _inject(self, kind: str, rng: random.Random) -> None:
        c, control = self.config, f"{self.config.runpod_url}/_control"
        post = lambda path, **body: requests.post(f"{control}/{path}", json=body, timeout=5).raise_for_status()  # noqa: E731
        if kind == "runpod-5xx":
            post("run-errors", count=rng.randint(1, 3), status=rng.choice([500, 502, 503]))
        elif kind == "runpod-429":
            post("run-errors", count=rng.randint(1, 3), status=429, retryAfterS=1)
        elif kind == "webhook-drop":
            post("webhooks/drop", count=rng.randint(1, 2))
        elif kind == "webhook-delay":
            post("webhooks/delay", seconds=rng.uniform(1, 4), count=rng.randint(1, 2))
        elif kind in ("webhook-duplicate", "webhook-duplicate-concurrent"):
            post("webhooks/duplicate", count=rng.randint(1, 2), concurrent=kind.endswith("concurrent"))
        elif kind == "job-fail":
            post("jobs/fail", count=1, error="failed by the soak's fault injection")
        elif kind == "job-lose":
            live = [j for j in requests.get(f"{control}/jobs", timeout=5).json() if j["status"] in ("IN_QUEUE", "IN_PROGRESS")]
            if live:
                post("jobs/lose", jobId=rng.choice(sorted(live, key=lambda j: j["id"]))["id"])
        elif kind in ("kill-events", "kill-gateway"):
            name = kind.split("-")[1]
            processes.stop(name, c.state_dir, signal.SIGKILL)
            time.sleep(rng.uniform(0.5, 2))  # the outage
            devstack.start_service(c, name)
        elif kind == "kill-worker":
            workers = sorted(n for n in processes.running(c.state_dir) if n.startswith("worker-"))
            if workers:
                processes.stop(rng.choice(workers), c.state_dir, signal.SIGKILL)
            self.worker_serial += 1
            devstack.start_worker(c, self.worker_serial)
        elif kind == "bucket-down":
            processes.stop("s3", c.state_dir, signal.SIGKILL)
            time.sleep(rng.uniform(0.5, 2))
            devstack.start_service(c, "s3")
        elif kind == "poison":
            from google.cloud import pubsub_v1

            from schemas.topics import TOPICS

            with environment(c.emulator_env()):
                publisher = pubsub_v1.PublisherClient()
            topic = rng.choice([t.name for t in TOPICS])
            publisher.publish(publisher.topic_path(c.project, topic), b"soak poison " + str(rng.random()).encode()).result(timeout=10)

    def _heal(self) -> None:
        """Faults end with the load: every service back, no armed RunPod fault left."""
        requests.post(f"{self.config.runpod_url}/_control/reset", timeout=5)
        running = processes.running(self.config.state_dir)
        for name in ("events", "gateway", "s3"):
            if name not in running:
                devstack.start_service(self.config, name)
        if not any(n.startswith("worker-") for n in running):
            devstack.start_worker(self.config, self.worker_serial + 1)

    # --- the checks ------------------------------------------------------------------------------
    def _settle_everything(self) -> None:
        from google.cloud import firestore

        from functions.core.paths import JOBS, ledger_collection, user_path
        from functions.store import Query
        from functions.store.firestore import FirestoreStore

        with environment(self.config.emulator_env()):
            store = FirestoreStore(firestore.Client(project=self.config.project))
        report = self.report
        report.submitted = len(self.created)
        users = sorted({u for u, _ in self.created.values()} | set(self.granted))
        deadline = time.monotonic() + 180

        def jobs_of(user_id: str) -> list[dict]:
            return [d for _, d in store.query(Query(JOBS, where=[("userId", "==", user_id)]))]

        events: list[dict] = []
        while True:  # the pipeline drains: the ticker reconciles what the faults left behind
            events += self.tap.drain()
            jobs = {d["jobId"]: d for u in users for d in jobs_of(u)}
            balances = {u: (store.get(user_path(u)) or {}).get("balance", 0) for u in users}
            spent = Counter()
            for job in jobs.values():
                if job["status"] in ("done", "expired"):
                    spent[job["userId"]] += job["credits"]
            settled = all(jobs.get(j, {}).get("status") in TERMINAL for j in self.created)
            if (settled and all(balances[u] == self.granted[u] - spent[u] for u in users)) or time.monotonic() > deadline:
                break
            time.sleep(1)
        report.lost = sorted(j for j in self.created if jobs.get(j, {}).get("status") not in TERMINAL)
        report.terminal = report.submitted - len(report.lost)
        report.statuses = Counter(jobs[j]["status"] for j in self.created if j in jobs)
        report.balance_mismatches = [f"{u}: {balances[u]} != {self.granted[u] - spent[u]}" for u in users
                                     if balances[u] != self.granted[u] - spent[u]]
        for user_id in users:
            entries = [d for _, d in store.query(Query(ledger_collection(user_id)))]
            if sum(e["amount"] for e in entries) != balances[user_id]:
                report.balance_mismatches.append(f"{user_id}: ledger sum != balance")
            ids = Counter(e["entryId"] for e in entries)
            per_job = Counter(e["jobId"] for e in entries if e["kind"] in ("settle", "refund"))
            report.double_charges += [f"{user_id}: {j}" for j, n in per_job.items() if n > 1]
            report.double_charges += [e for e, n in ids.items() if n > 1]
            per_payment = Counter(e.get("paymentId") for e in entries if e["kind"] in ("grant", "monthly"))
            report.double_grants += [f"{user_id}: {p}" for p, n in per_payment.items() if n > 1]
            report.refunds += sum(1 for e in entries if e["kind"] == "refund")
            reserved = {e["jobId"] for e in entries if e["kind"] == "reserve"}
            report.refundable_failures += sum(1 for j in jobs_of(user_id) if j["jobId"] in reserved and j["status"] in ("failed", "canceled"))
        for job_id in self.created:
            job = jobs.get(job_id)
            if job and job.get("finishedAt"):
                report.latencies_s.append((job["finishedAt"] - job["createdAt"]).total_seconds())
        with environment(self.config.emulator_env()):
            from devstack.deadletters import DeadLetters

            report.dead_letters = [m.summary() for m in DeadLetters(self.config.project, store=store).unprocessed()]
        report.events_seen = len(events)
        report.payment_events_dropped, report.reconciler_grants = payment_repairs(store, events, users)
        report.secrets_found = scan_for_secrets(self.config, [d for d in jobs.values()] + report.dead_letters + events)
        self.tap.close()


def payment_repairs(store, events: list[dict], users: list[str]) -> tuple[tuple[int, int, int], list[str]]:
    """How many tapped payment events were never applied, and which payments the payments
    reconciler granted: those whose grant was written in the commit that applied the reconciler's
    event (one commit, one timestamp)."""
    from functions.core import payments
    from functions.core.paths import ledger_collection, truelayer_event_path
    from functions.store import Query
    from schemas.payments import PaymentNotified

    dropped: list[PaymentNotified] = []
    for event in events:
        if event["topic"] != "payment-notified":
            continue
        try:
            notified = PaymentNotified.model_validate_json(event["data"])
        except ValueError:
            continue  # the soak's own poison
        if store.get(truelayer_event_path(notified.event_id)) is None:
            dropped.append(notified)
    granted = []
    for user_id in users:
        for _, entry in store.query(Query(ledger_collection(user_id), where=[("kind", "==", "grant")])):
            record = store.get(truelayer_event_path(payments.reconciled_event_id(entry["paymentId"], "settled")))
            if record and record["processedAt"] == entry["createdAt"]:
                granted.append(entry["paymentId"])
    counts = (len(dropped), len({e.event_id for e in dropped}), len({e.payment_id or e.mandate_id for e in dropped}))
    return counts, granted


class EventTap:
    """A pull subscription on every topic, made before the load: a copy of every event published,
    to scan for secrets and to count payment events the emulator dropped.

    The Pub/Sub emulator drops a message whose push was in flight when its endpoint died (the
    events-host kill): it is never redelivered nor dead-lettered (seen: over 6 minutes). Production
    Pub/Sub redelivers it after the ack deadline. Job events so dropped are repaired by the clock
    tick's job reconciler, payment events by its payments reconciler; the soak re-sends nothing.
    """

    def __init__(self, config: StackConfig, run_id: str) -> None:
        from google.cloud import pubsub_v1

        from schemas.topics import TOPICS

        self.config = config
        with environment(config.emulator_env()):
            self.subscriber = pubsub_v1.SubscriberClient()
        self.subscriptions = {}
        for topic in TOPICS:
            name = self.subscriber.subscription_path(config.project, f"soak-tap-{run_id}-{topic.name}")
            self.subscriber.create_subscription(request={"name": name, "topic": f"projects/{config.project}/topics/{topic.name}"})
            self.subscriptions[topic.name] = name

    def drain(self) -> list[dict]:
        import warnings

        found = []
        for topic, subscription in self.subscriptions.items():
            while True:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", DeprecationWarning)
                    response = self.subscriber.pull(request={"subscription": subscription, "max_messages": 500,
                                                             "return_immediately": True}, timeout=10)
                if not response.received_messages:
                    break
                for received in response.received_messages:
                    found.append({"topic": topic, "messageId": received.message.message_id,
                                  "data": received.message.data.decode(errors="replace"),
                                  "attributes": dict(received.message.attributes)})
                self.subscriber.acknowledge(request={"subscription": subscription,
                                                     "ack_ids": [r.ack_id for r in response.received_messages]})
        return found

    def close(self) -> None:
        for subscription in self.subscriptions.values():
            self.subscriber.delete_subscription(request={"subscription": subscription})


def secret_values(config: StackConfig) -> dict[str, str]:
    """The local stack's secrets (the values its functions get for the ★ settings)."""
    env = config.functions_env()
    # R2_ACCESS_KEY_ID is not among them: SigV4 puts the key *id* in every presigned URL users get
    # (X-Amz-Credential), by design; the secret key never leaves the functions.
    names = ("RUNPOD_API_KEY", "RUNPOD_WEBHOOK_SECRET", "R2_SECRET_ACCESS_KEY", "TRUELAYER_CLIENT_SECRET")
    found = {name: env[name] for name in names if env.get(name)}
    pem = env.get("TRUELAYER_SIGNING_PRIVATE_KEY", "")
    body = "".join(line for line in pem.splitlines() if line and not line.startswith("-----"))
    if body:
        found["TRUELAYER_SIGNING_PRIVATE_KEY"] = body[:40]  # any piece of the key's body
    return found


def scan_for_secrets(config: StackConfig, documents: list) -> list[str]:
    """Where any secret value shows up: the stack's logs, the given documents (jobs, events,
    dead letters) and everything the RunPod stand-in received (/run bodies, job inputs)."""
    places: dict[str, str] = {}
    for log in sorted((config.state_dir / "logs").glob("*.log")):
        places[f"log {log.name}"] = log.read_text(errors="replace")
    places["documents"] = json.dumps(documents, default=str)
    for what in ("runs", "jobs", "webhooks"):
        places[f"runpod {what}"] = requests.get(f"{config.runpod_url}/_control/{what}", timeout=10).text
    found = []
    for name, value in secret_values(config).items():
        for place, text in places.items():
            if value in text or base64.b64encode(value.encode()).decode() in text:
                found.append(f"{name} in {place}")
    return found


def _call(fn):
    """One client call through faults: None when the API is down or answers 5xx (the caller retries)."""
    try:
        result = fn()
    except (requests.RequestException, Exception) as exc:  # noqa: BLE001
        if isinstance(exc, requests.RequestException) or getattr(exc, "status", 0) >= 500:
            return None
        raise
    if isinstance(result, requests.Response) and result.status_code >= 500:
        return None
    return result


def run_soak(config: StackConfig, jobs: int, users: int, seed: int, faults: bool = True) -> Report:
    return Soak(config, jobs, users, seed, faults).run()


def soak_config(state_dir: Path | None = None) -> StackConfig:
    return StackConfig(base_port=free_base_port(20080), state_dir=state_dir or ROOT / ".devstack-soak", worker="test",
                       workers=2, tick_interval_s=1.0, webhook_retry_delay_s=0.5, function_env=SOAK_FUNCTION_ENV)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-faults", action="store_true")
    parser.add_argument("--keep", action="store_true", help="leave the stack up afterwards (logs in .devstack-soak)")
    args = parser.parse_args(argv)
    config = soak_config()
    devstack.up(config)
    try:
        with environment(config.emulator_env()):
            report = run_soak(config, args.jobs, args.users, args.seed, not args.no_faults)
    finally:
        if not args.keep:
            devstack.down(config)
    print("\n".join(report.lines()))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
