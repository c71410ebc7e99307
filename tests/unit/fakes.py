"""Small fakes of our own ports (publisher, storage, RunPod client) for unit tests."""

from datetime import UTC, datetime, timedelta

from functions.adapters.runpod import RunPodJobNotFound
from functions.adapters.storage import SignedLink
from functions.bootstrap import Deps
from functions.settings import Settings
from functions.store.memory import MemoryStore
from schemas.runpod import RunPodState, RunPodStatus


class FakePublisher:
    def __init__(self) -> None:
        self.events = []

    def publish(self, event) -> str:
        self.events.append(event)
        return str(len(self.events))


class FakeStorage:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.looked_up: list[str] = []  # the keys looked for in the bucket (R2: a HEAD each)

    def put(self, key: str, body: bytes, content_type: str) -> None:
        self.objects[key] = body

    def presigned_get(self, key: str, until: datetime, now: datetime) -> SignedLink | None:
        return self.sign_get(key, until, now) if self.exists(key) else None  # as R2Storage: check, then sign

    def sign_get(self, key: str, until: datetime, now: datetime) -> SignedLink:
        return SignedLink(f"https://r2.example/{key}?expires={int((until - now).total_seconds())}", until)

    def delete(self, key: str) -> None:
        self.objects.pop(key, None)

    def exists(self, key: str) -> bool:
        self.looked_up.append(key)
        return key in self.objects


class FakeRunPod:
    """Answers /run from a script of results (an id, or an exception to raise)."""

    def __init__(self, run_results=None) -> None:
        self.run_results = list(run_results or [])
        self.runs: list[dict] = []
        self.canceled: list[str] = []
        self.statuses: dict[str, RunPodStatus] = {}
        self.before_run = None  # a hook: what happens elsewhere while /run is in flight

    def run(self, input, webhook, execution_timeout_ms, ttl_ms) -> str:
        self.runs.append({"input": input, "webhook": webhook})
        if self.before_run:
            self.before_run()
        result = self.run_results.pop(0) if self.run_results else f"rp-{len(self.runs)}"
        if isinstance(result, Exception):
            raise result
        self.statuses[result] = RunPodStatus(id=result, status=RunPodState.IN_QUEUE)
        return result

    def status(self, job_id: str) -> RunPodStatus:
        if job_id not in self.statuses:
            raise RunPodJobNotFound(job_id)
        return self.statuses[job_id]

    def health(self) -> dict:
        queued = sum(1 for s in self.statuses.values() if s.status is RunPodState.IN_QUEUE)
        return {"jobs": {"inQueue": queued or 100}, "workers": {"idle": 1, "running": 0}}

    def cancel(self, job_id: str) -> RunPodStatus:
        self.canceled.append(job_id)
        return self.status(job_id)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs) -> None:
        self.now += timedelta(**kwargs)


def make_deps(adapters: dict | None = None, **settings) -> Deps:
    """Deps of fakes; ``adapters`` adds or replaces adapters by name (e.g. ``public_http``)."""
    defaults = {"runpod_webhook_secret": "test-secret", "runpod_api_key": "rp-key", "submit_max_attempts": 3}
    fakes = {"store": MemoryStore(), "publisher": FakePublisher(), "storage": FakeStorage(), "runpod": FakeRunPod()}
    return Deps(Settings(**{**defaults, **settings}), clock=Clock(), **{**fakes, **(adapters or {})})


def created_job(deps: Deps, user_id: str, job_id: str = "job_1", **extra) -> "JobDoc":
    """A pending job of ``user_id``'s, stored as create_job stores it."""
    from functions.core import jobs
    from schemas.documents import JobDoc, StatusChange
    from schemas.jobs import JobStatus

    now = deps.now()
    job = JobDoc(job_id=job_id, user_id=user_id, status=JobStatus.PENDING, prompt="a kite", duration_sec=5, credits=1,
                 created_at=now, updated_at=now, history=(StatusChange(status=JobStatus.PENDING, at=now),), **extra)
    deps.store.decide(jobs.create_paths(job, None), lambda docs: jobs.decide_create(docs, job, None, "h", 5))
    return job


def walk(deps: Deps, job_id: str, *statuses, after=None) -> None:
    """Move the job through ``statuses`` as the pipeline would (reserving its credits on the way);
    ``after(status)`` runs after each step (an announcement, say)."""
    from functions.core import jobs
    from functions.core.paths import job_path
    from schemas.documents import JobDoc
    from schemas.jobs import JobStatus

    for status in statuses:
        if status is JobStatus.RESERVED:
            job = JobDoc.from_document(deps.store.get(job_path(job_id)))
            deps.store.decide(jobs.reserve_paths(job, deps.now()), lambda docs: jobs.decide_reserve(docs, job_id, deps.now()))
        else:
            deps.store.decide([job_path(job_id)],
                              lambda docs, s=status: jobs.decide_move(docs, job_id, s, deps.now(), submitted_at=deps.now()))
        if after:
            after(status)
