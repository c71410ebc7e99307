"""Per-second rules count in memory and share across instances in one commit per interval.

Most tests run each commit inline (``inline``), so that every answer follows its commit; the last
ones check that by default no request waits for one."""

import logging
import threading
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from functions.adapters.clerk import Principal
from functions.adapters.rate_counter import BatchedCounter, MemoryRateCounter, inline
from functions.core.rate_limits import Rule
from functions.http.rate_limits import RateLimited, RateLimiter
from functions.http.routes import route_for
from functions.settings import Settings
from tests.helpers import wait_until

START = 1_764_612_000.0  # the start of a second's window
INTERVAL = 0.125  # a binary fraction, so START + INTERVAL - START is INTERVAL exactly
LATER = datetime.fromtimestamp(START + 300, UTC)  # an expiresAt well past the test


class Clock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Recording(MemoryRateCounter):
    """Counts in memory and keeps every ``add`` it was asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[dict] = []

    def add(self, increments):
        self.calls.append(dict(increments))
        return super().add(increments)


class Held(MemoryRateCounter):
    """Its first add waits until the test lets it finish."""

    def __init__(self) -> None:
        super().__init__()
        self.entered, self.release = threading.Event(), threading.Event()

    def add(self, increments):
        if not self.entered.is_set():
            self.entered.set()
            assert self.release.wait(timeout=10)
        return super().add(increments)


def one(counter: BatchedCounter, key: str = "c", expires_at: datetime = LATER) -> int:
    return counter.add({key: (1, expires_at)})[key]


def test_within_an_interval_many_hits_make_one_commit_and_the_next_takes_them_all():
    clock, counter = Clock(), Recording()
    batched = BatchedCounter(counter, INTERVAL, clock, inline)
    assert [one(batched) for _ in range(10)] == list(range(1, 11))  # exact within the instance
    assert counter.calls == [{"c": (1, LATER)}]  # the first found no commit yet; the rest waited
    clock.now += INTERVAL
    assert one(batched) == 11
    assert counter.calls[1:] == [{"c": (10, LATER)}] and counter.counts == {"c": 11}


def test_one_commit_carries_every_counter_and_drops_those_expired():
    clock, counter = Clock(), Recording()
    batched = BatchedCounter(counter, INTERVAL, clock, inline)
    soon = datetime.fromtimestamp(START + 0.5, UTC)  # an earlier window's counter, counted first
    one(batched, "gone", soon)
    one(batched, "gone", soon)
    one(batched, "a")
    one(batched, "b")
    clock.now += INTERVAL
    one(batched, "b")
    assert counter.calls[-1] == {"gone": (1, soon), "a": (1, LATER), "b": (2, LATER)}
    one(batched, "gone", soon)
    clock.now = START + 1  # past gone's expiresAt
    one(batched, "b")
    assert counter.calls[-1] == {"b": (1, LATER)}  # gone's pending count went with its window


def read(limiter: RateLimiter, user: str = "u1") -> int:
    """One GET; the count it was answered with, negative when refused."""
    try:
        return limiter.check(route_for("get_credits"), Principal(user, is_admin=False), None).used
    except RateLimited as limited:
        return -limited.quota.used


def instances(shared: MemoryRateCounter, clock: Clock, limit: int) -> tuple[RateLimiter, RateLimiter]:
    rules = {"read": Rule("read", limit, 1)}
    a, b = (RateLimiter(shared, rules, share_interval_s=INTERVAL, clock=clock, share=inline) for _ in range(2))
    return a, b


def test_two_instances_see_each_others_counts_after_a_commit():
    clock, shared = Clock(), MemoryRateCounter()
    a, b = instances(shared, clock, limit=20)
    assert [read(a) for _ in range(3)] == [1, 2, 3]  # the first committed one; two wait
    assert read(b) == 2  # commits its own and sees a's first
    clock.now += INTERVAL
    assert read(a) == 5  # commits its other three and sees b's
    assert read(b) == 6  # commits too and sees all of a's
    assert read(a) == 6  # within a's interval: what it last saw plus its own, not yet b's second
    assert shared.counts == {"user:u1:read:1764612000": 6}


def test_across_two_instances_a_limit_is_passed_by_at_most_one_intervals_pending():
    clock, shared = Clock(), MemoryRateCounter()
    limit, per_interval = 10, 4  # each instance takes four reads in each interval
    a, b = instances(shared, clock, limit)
    answers = {a: [], b: []}
    for step in range(int(per_interval / INTERVAL)):  # one second's window
        clock.now = START + step * INTERVAL / per_interval
        for limiter in (a, b):
            answers[limiter].append(read(limiter))
    allowed = {limiter: sum(1 for used in seen if used > 0) for limiter, seen in answers.items()}
    assert all(count <= limit for count in allowed.values())  # exact within an instance
    assert limit <= sum(allowed.values()) <= limit + per_interval, answers
    assert all(used < 0 for seen in answers.values() for used in seen[-10:])  # both end up refusing


def test_past_the_limit_an_instance_answers_from_memory_without_counting():
    clock, counter = Clock(), Recording()
    limiter = RateLimiter(counter, {"read": Rule("read", 2, 1)}, share_interval_s=INTERVAL, clock=clock, share=inline)
    assert [read(limiter) for _ in range(4)] == [1, 2, -3, -3]  # the fourth is refused from memory
    clock.now += INTERVAL
    read(limiter, "u2")
    assert counter.counts == {"user:u1:read:1764612000": 3, "user:u2:read:1764612000": 1}


def test_a_failed_commit_serves_the_request_and_its_counts_go_with_the_next(caplog):
    class Flaky(MemoryRateCounter):
        down = True

        def add(self, increments):
            if self.down:
                raise ConnectionError("firestore is down")
            return super().add(increments)

    clock, counter = Clock(), Flaky()
    limiter = RateLimiter(counter, {"read": Rule("read", 5, 1)}, share_interval_s=INTERVAL, clock=clock, share=inline)
    with caplog.at_level(logging.WARNING):
        assert [read(limiter) for _ in range(3)] == [1, 2, 3]  # served, and still counted here
    assert "firestore is down" in caplog.text
    clock.now += INTERVAL
    counter.down = False
    assert read(limiter) == 4
    assert counter.counts == {"user:u1:read:1764612000": 4}  # none of the served reads was lost


def test_a_commit_in_flight_loses_no_count_of_the_hits_that_arrive_meanwhile():
    clock, counter = Clock(), Held()
    batched = BatchedCounter(counter, INTERVAL, clock, inline)
    first: list[int] = []
    committing = threading.Thread(target=lambda: first.append(one(batched)))
    committing.start()
    assert counter.entered.wait(timeout=10)
    threads, per_thread = 8, 50
    answers: list[int] = []
    lock = threading.Lock()

    def hit_many() -> None:
        seen = [one(batched) for _ in range(per_thread)]
        with lock:
            answers.extend(seen)

    workers = [threading.Thread(target=hit_many) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=10)
    hits = threads * per_thread
    assert sorted(answers) == list(range(2, hits + 2))  # each count answered once, none committed yet
    counter.release.set()
    committing.join(timeout=10)
    assert first == [hits + 1] and counter.counts == {"c": 1}
    clock.now += INTERVAL
    assert one(batched) == hits + 2 and counter.counts == {"c": hits + 2}


@pytest.mark.parametrize("interval_s", [-0.1, 1.5])
def test_the_share_interval_is_between_none_and_a_second(interval_s):
    assert Settings().rate_limit_share_interval_s == 0.1
    with pytest.raises(ValidationError, match="rate_limit_share_interval_s"):
        Settings(rate_limit_share_interval_s=interval_s)


def test_by_default_the_request_that_starts_a_commit_does_not_wait_for_it():
    clock, counter = Clock(), Held()
    batched = BatchedCounter(counter, INTERVAL, clock)
    assert [one(batched) for _ in range(3)] == [1, 2, 3]  # answered while the first commit is held
    assert counter.entered.wait(timeout=10) and counter.counts == {}
    counter.release.set()
    wait_until(lambda: counter.counts == {"c": 1}, timeout_s=10, interval_s=0.01, what="the commit to land")
    clock.now += INTERVAL
    assert one(batched) == 4
    wait_until(lambda: counter.counts == {"c": 4}, timeout_s=10, interval_s=0.01, what="the next commit to land")
