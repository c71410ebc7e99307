"""Wires concrete adapters from the settings, lazily and once per instance.

Handlers receive a ``Deps``; tests build one from fakes of our own ports. Clients are created on
first use, so importing a function module never opens a connection.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from functools import cached_property

from functions.settings import Settings, get_settings


def utc_now() -> datetime:
    return datetime.now(UTC)


class Deps:
    def __init__(self, settings: Settings, clock: Callable[[], datetime] = utc_now, **overrides: object) -> None:
        self.settings = settings
        self.now = clock
        for name, value in overrides.items():  # a test's fakes take the place of the adapters
            if not isinstance(getattr(type(self), name, None), cached_property):
                raise TypeError(f"Deps has no adapter named {name}")
            self.__dict__[name] = value

    @cached_property
    def store(self):
        from google.cloud import firestore

        from functions.store.firestore import FirestoreStore

        return FirestoreStore(firestore.Client(project=self.settings.gcp_project, database=self.settings.firestore_database))

    @cached_property
    def publisher(self):
        from functions.adapters.pubsub import PubSubPublisher

        return PubSubPublisher(self.settings.gcp_project)

    @cached_property
    def storage(self):
        from functions.adapters.storage import R2Storage

        s = self.settings
        return R2Storage(
            s.r2_endpoint_url, s.r2_access_key_id.get_secret_value(), s.r2_secret_access_key.get_secret_value(), s.r2_bucket
        )

    @cached_property
    def public_http(self):
        """The only way to call a URL a user gave us (image URLs, client webhooks): SSRF-safe."""
        from functions.adapters.public_http import PublicHttp

        return PublicHttp(loopback_only=self.settings.outbound_loopback_only)

    @cached_property
    def verifier(self):
        from functions.adapters.clerk import ClerkKeys, ClerkVerifier

        s = self.settings
        keys = ClerkKeys(s.jwks_url, lifespan_s=s.clerk_jwks_lifespan_s, min_refresh_interval_s=s.clerk_jwks_min_refresh_interval_s,
                         max_stale_s=s.clerk_jwks_max_stale_s)
        return ClerkVerifier(s.clerk_issuer, s.clerk_authorized_parties, keys, s.jwt_leeway_s, s.admin_user_ids)

    @cached_property
    def api_keys(self):
        """API key documents by key id, cached for ``api_key_cache_s`` (the revocation bound)."""
        from functions.adapters.status_cache import StatusCache
        from functions.core.paths import api_key_path

        return StatusCache(lambda key_id: self.store.get(api_key_path(key_id)), ttl_s=self.settings.api_key_cache_s)

    @cached_property
    def rate_limiter(self):
        """Rate limits held in Firestore counters, shared by every instance (per-second rules
        every ``rate_limit_share_interval_s``)."""
        from google.cloud import firestore

        from functions.adapters.rate_counter import FirestoreRateCounter
        from functions.http.rate_limits import RateLimiter, rules_from

        s = self.settings
        counter = FirestoreRateCounter(firestore.Client(project=s.gcp_project, database=s.firestore_database))
        return RateLimiter(counter, rules_from(s), trusted_proxies=s.rate_limit_trusted_proxies,
                           share_interval_s=s.rate_limit_share_interval_s)

    @cached_property
    def runpod(self):
        from functions.adapters.runpod import RunPodClient

        s = self.settings
        return RunPodClient(
            base_url=s.runpod_api_base, endpoint_id=s.runpod_endpoint_id, api_key=s.runpod_api_key.get_secret_value()
        )

    @cached_property
    def runpod_status(self):
        from functions.adapters.status_cache import StatusCache

        return StatusCache(self.runpod.status, ttl_s=self.settings.runpod_status_cache_s)

    @cached_property
    def queue_stats(self):
        from functions.adapters.queue_stats import QueueStats

        return QueueStats(self.store, self.runpod.health, health_ttl_s=self.settings.runpod_status_cache_s)

    @cached_property
    def sealer(self):
        from functions.core.sealing import Sealer

        return Sealer(self.settings.webhook_secrets_key.get_secret_value())

    @cached_property
    def truelayer(self):
        from functions.adapters.truelayer import Credentials, TrueLayerClient, endpoints

        s = self.settings
        return TrueLayerClient(
            endpoints(s.truelayer_environment, s.truelayer_auth_url, s.truelayer_api_base, s.truelayer_hpp_base),
            Credentials(s.truelayer_client_id, s.truelayer_client_secret.get_secret_value(),
                        s.truelayer_signing_key_id.get_secret_value(), s.truelayer_signing_private_key.get_secret_value()),
            s.truelayer_merchant_account_id,
            scopes="payments recurring_payments:commercial" if s.truelayer_mandates_enabled else "payments",
            timeout_s=s.truelayer_timeout_s,
        )

    @cached_property
    def truelayer_verifier(self):
        from functions.adapters.truelayer import endpoints
        from functions.adapters.truelayer_webhooks import JwkSets, WebhookVerifier

        s = self.settings
        allowed = s.truelayer_webhook_jku_allowlist or (endpoints(s.truelayer_environment).webhook_jwks,)
        return WebhookVerifier(allowed, JwkSets(min_refresh_interval_s=s.truelayer_jwks_min_refresh_interval_s))


_deps: Deps | None = None


def deps() -> Deps:
    """The instance's wiring, built on first use."""
    global _deps
    if _deps is None:
        _deps = Deps(get_settings())
    return _deps
