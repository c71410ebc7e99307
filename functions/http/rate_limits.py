"""Rate limits at the edge: which rule a request falls under, whose counters it adds to, and the
``X-RateLimit-*`` / ``Retry-After`` headers of the answer.

- A signed-in caller counts against its user (so more keys never mean more calls) and, with an
  API key, against that key too; the answer reports the tighter of the two.
- An anonymous caller, and any request refused before it was identified (a 401, 404, 413 …),
  counts against its client address.
- Rules: ``create`` (POST /jobs/create, per minute), ``payment`` (payment links, per hour),
  ``read`` (GET, per second), ``write`` (other writes, per minute), ``anonymous`` (per address,
  per second), ``callback`` (providers' webhooks, per address, per second).

Counters live in Firestore, shared by every instance. The per-minute and per-hour rules
(``create``, ``write``, ``payment``) commit on every request, so they are exact across instances.
The per-second rules (``read``, ``anonymous``, ``callback``) count in memory, exact within an
instance, and share their counts in one batched commit at most every
``RATE_LIMIT_SHARE_INTERVAL_S`` (``BatchedCounter``), made on a thread of its own: a read then
costs one Firestore round trip, its own, not two, and never waits for the limit's. That is safe because a per-second limit protects cost, not a balance: across
instances the overshoot is bounded by instances x one interval's worth of requests (and each
instance alone never lets more than the limit through).

Once an instance has seen a counter pass its limit it answers 429 from memory until the window
ends, so a flood costs no more writes than the limit. If the counters cannot be reached, the
request is served (and logged), unlimited under the per-minute and per-hour rules and counted by
this instance alone under the per-second ones: a Firestore hiccup must not take the API down.
"""

import ipaddress
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import flask

from functions.adapters.clerk import Principal
from functions.adapters.rate_counter import BatchedCounter, in_background
from functions.core.rate_limits import Quota, Rule, counter_id, tightest, window_of
from functions.http.errors import ApiError
from functions.http.routes import Route
from functions.settings import Settings

log = logging.getLogger(__name__)


class RateLimited(ApiError):
    def __init__(self, quota: Quota) -> None:
        super().__init__(429, "rate_limited", f"over the limit of {quota.rule.limit} {quota.rule.name} requests per "
                         f"{quota.rule.window_s} s; retry in {quota.reset_s} s")
        self.quota = quota


def rules_from(settings: Settings) -> dict[str, Rule]:
    s = settings
    return {rule.name: rule for rule in (
        Rule("read", s.rate_limit_reads_per_second, 1),
        Rule("create", s.rate_limit_creates_per_minute, 60),
        Rule("write", s.rate_limit_writes_per_minute, 60),
        Rule("payment", s.rate_limit_payment_links_per_hour, 3600),
        Rule("anonymous", s.rate_limit_anonymous_per_second, 1),
        Rule("callback", s.rate_limit_callbacks_per_second, 1),
    )}


class RateLimiter:
    def __init__(self, counter, rules: dict[str, Rule], trusted_proxies: int = 0, share_interval_s: float = 0.1,
                 clock: Callable[[], float] = time.time, share=in_background) -> None:
        self._counter = counter
        self._per_second = BatchedCounter(counter, share_interval_s, clock, share)
        self._rules = rules
        self._trusted_proxies = trusted_proxies
        self._clock = clock
        self._over: dict[str, tuple[float, int]] = {}  # counter id -> (window end, count seen)
        self._lock = threading.Lock()

    def check(self, route: Route, principal: Principal | None, request: flask.Request) -> Quota | None:
        """Counts this request; ``RateLimited`` past the limit; None when the counters are unreachable."""
        if principal is None:
            rule = self._rules["callback" if route.rate == "callback" else "anonymous"]
            return self._count(rule, [f"ip:{self.client_address(request)}"])
        rule = self._rules[route.rate or ("read" if route.method == "GET" else "write")]
        subjects = [f"user:{principal.user_id}"] + ([f"key:{principal.key_id}"] if principal.key_id else [])
        return self._count(rule, subjects)

    def check_address(self, request: flask.Request) -> Quota | None:
        """A request refused before its caller was known counts against its address."""
        return self._count(self._rules["anonymous"], [f"ip:{self.client_address(request)}"])

    def client_address(self, request: flask.Request) -> str:
        """The caller's address: ``remote_addr``, or behind ``trusted_proxies`` proxies that each
        append to X-Forwarded-For, the entry the outermost of them wrote (the caller cannot forge it)."""
        candidate = request.remote_addr or ""
        if self._trusted_proxies:
            hops = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",") if hop.strip()]
            if len(hops) >= self._trusted_proxies:
                candidate = hops[-self._trusted_proxies]
        try:
            return ipaddress.ip_address(candidate).compressed
        except ValueError:
            return "unknown"

    def _count(self, rule: Rule, subjects: list[str]) -> Quota | None:
        now = self._clock()
        window = window_of(rule, now)
        ids = [counter_id(subject, rule, window) for subject in subjects]
        seen = self._known_over(ids, now)
        if seen is not None:
            raise RateLimited(Quota(rule, seen, window.reset_s(now)))
        expires_at = datetime.fromtimestamp(window.end, UTC) + timedelta(minutes=5)
        counter = self._per_second if rule.window_s == 1 else self._counter
        try:
            answered = counter.add({key: (1, expires_at) for key in ids})
        except Exception as exc:  # noqa: BLE001 - fail open: the limit is protection, not the product
            log.warning("rate-limit counters unavailable, serving unlimited: %s", exc)
            return None
        counts = [answered[key] for key in ids]
        quota = tightest([Quota(rule, count, window.reset_s(now)) for count in counts])
        if not quota.allowed:
            self._remember_over(ids, counts, rule, window.end)
            raise RateLimited(quota)
        return quota

    def _known_over(self, ids: list[str], now: float) -> int | None:
        with self._lock:
            for key in ids:
                over = self._over.get(key)
                if over and now < over[0]:
                    return over[1]
        return None

    def _remember_over(self, ids: list[str], counts: list[int], rule: Rule, window_end: float) -> None:
        with self._lock:
            if len(self._over) > 10_000:
                now = self._clock()
                self._over = {k: v for k, v in self._over.items() if v[0] > now}
            for key, count in zip(ids, counts, strict=True):
                if count > rule.limit:
                    self._over[key] = (window_end, count)
