"""The one settings object, read from the environment once per instance.

Every variable is listed in the README's configuration table. Secrets are ``SecretStr``: they
print as ``**********`` in logs and reprs.
"""

from functools import lru_cache
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

CommaList = Annotated[tuple[str, ...], NoDecode]
CommaFloats = Annotated[tuple[float, ...], NoDecode]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore", frozen=True)

    # Google Cloud
    gcp_project: str = Field(default="cineweave-local", alias="GOOGLE_CLOUD_PROJECT")
    firestore_database: str = "(default)"

    # HTTP API
    public_api_base_url: str = "http://127.0.0.1:8080"
    cors_allowed_origins: CommaList = ("http://127.0.0.1:8080", "http://localhost:8080")

    # Clerk session tokens
    clerk_issuer: str = "http://127.0.0.1:8092"
    clerk_jwks_url: str | None = None  # default: {issuer}/.well-known/jwks.json
    clerk_authorized_parties: CommaList = ("http://127.0.0.1:8080", "http://localhost:8080")
    clerk_jwks_min_refresh_interval_s: float = 1.0
    clerk_jwks_lifespan_s: float = Field(default=300.0, gt=0)  # how long a fetched key set is used before refetching
    clerk_jwks_max_stale_s: float = Field(default=3600.0, ge=0)  # a failed refetch serves the last set this long
    jwt_leeway_s: int = 5
    admin_user_ids: CommaList = ()

    # Rate limits (functions/http/rate_limits.py): per user and per key, or per client address
    rate_limit_reads_per_second: int = Field(default=20, ge=1)
    rate_limit_creates_per_minute: int = Field(default=20, ge=1)
    rate_limit_writes_per_minute: int = Field(default=60, ge=1)
    rate_limit_payment_links_per_hour: int = Field(default=20, ge=1)
    rate_limit_anonymous_per_second: int = Field(default=10, ge=1)  # per client address
    rate_limit_callbacks_per_second: int = Field(default=50, ge=1)  # providers' webhooks, per address
    rate_limit_trusted_proxies: int = Field(default=0, ge=0, le=5)  # proxies appending to X-Forwarded-For
    # Per-second rules count in memory and share across instances at most this often (0: on
    # every request that finds no commit in flight)
    rate_limit_share_interval_s: float = Field(default=0.1, ge=0, le=1)

    # API keys
    api_key_cache_s: float = Field(default=1.0, ge=0, le=5)  # a revoked key is refused on every instance within this

    # Job guards
    max_active_jobs: int = Field(default=5, ge=1)
    blocked_terms: CommaList = ()
    image_max_bytes: int = 10 * 1024 * 1024
    image_max_side_px: int = 4096
    image_fetch_timeout_s: float = Field(default=10.0, gt=0, le=30)  # the whole imageUrl fetch, inside create_job
    # Whether the fast profile's distilled weights are on the workers' volume (Terraform sets both
    # sides from one variable); without them a fast job is refused at create time.
    fast_weights_deployed: bool = False

    # Outbound HTTP to addresses users name (functions/adapters/public_http.py)
    outbound_loopback_only: bool = False  # the local stack: reach 127.0.0.0/8 and ::1 and nothing else

    # R2 (S3 API)
    r2_endpoint_url: str = "http://127.0.0.1:8094"
    r2_access_key_id: SecretStr = SecretStr("local")
    r2_secret_access_key: SecretStr = SecretStr("local")
    r2_bucket: str = "cineweave-outputs"
    video_ttl_hours: float = 24.0

    # RunPod
    runpod_api_base: str = "https://api.runpod.ai/v2"
    runpod_endpoint_id: str = "cineweave-local"
    runpod_api_key: SecretStr = SecretStr("")
    runpod_webhook_secret: SecretStr = SecretStr("")
    runpod_execution_timeout_s: int = 900
    runpod_ttl_s: int = 3600
    runpod_status_cache_s: float = 2.0
    submit_max_attempts: int = Field(default=5, ge=1)
    submit_claim_s: float = 60.0
    gpu_price_per_second_usd: float = 0.00116  # a GPU the price table does not name (or none reported)
    gpu_prices_usd_per_second: dict[str, float] = Field(default_factory=lambda: {"H100": 0.00116, "L40S": 0.00053})
    usd_per_billing_unit: float = Field(default=1.27, gt=0)  # the admin margin: revenue (billing currency) in USD

    # Expiry and reconciliation (clock ticks)
    reconcile_after_s: float = 120.0
    republish_after_s: float = 60.0
    tick_budget_s: float = Field(default=40.0, gt=0)  # of the minute between ticks; the rest is margin
    tick_batch: int = Field(default=200, ge=1)  # records per step per tick; the rest carries over

    # Webhooks to clients (the receivers' addresses are checked by the outbound HTTP helper)
    webhook_secrets_key: SecretStr = SecretStr("local-webhook-secrets-key")  # seals stored signing secrets
    webhook_timeout_s: float = Field(default=10.0, gt=0, le=30)  # one attempt, DNS to last byte
    webhook_retry_schedule_s: CommaFloats = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)  # ~27.6 h
    webhook_max_endpoints: int = Field(default=10, ge=1)

    # The job event stream (GET /jobs/{id}/events)
    job_events_poll_s: float = Field(default=1.0, gt=0)
    job_events_keepalive_s: float = Field(default=15.0, gt=0)
    job_events_max_s: float = Field(default=55.0, gt=0)  # below the gateway's 60 s backend deadline

    # Billing and TrueLayer (docs/payments.md lists every variable)
    billing_currency: Literal["GBP", "EUR"] = "GBP"
    plan_prices_minor: dict[str, int] = Field(default_factory=lambda: {"starter": 1036, "creator": 3063, "studio": 5950})
    extra_credit_price_minor: int = Field(default=25, ge=1)
    truelayer_environment: Literal["sandbox", "production"] = "sandbox"
    truelayer_client_id: str = ""
    truelayer_client_secret: SecretStr = SecretStr("")
    truelayer_signing_key_id: SecretStr = SecretStr("")
    truelayer_signing_private_key: SecretStr = SecretStr("")  # PEM of our EC P-521 request-signing key
    truelayer_merchant_account_id: str = ""
    truelayer_auth_url: str | None = None  # these three default to the environment's TrueLayer hosts
    truelayer_api_base: str | None = None
    truelayer_hpp_base: str | None = None
    truelayer_return_uri: str = "http://127.0.0.1:8080/app/account"
    truelayer_webhook_jku_allowlist: CommaList = ()  # empty: TrueLayer's own JWKS URL for the environment
    truelayer_webhook_path: str | None = None  # the path TrueLayer signs; default: the request's
    truelayer_grant_on: Literal["payment_settled", "payment_executed"] = "payment_settled"
    truelayer_mandates_enabled: bool = False
    truelayer_jwks_min_refresh_interval_s: float = 1.0
    truelayer_timeout_s: float = 10.0
    payment_reconcile_after_s: float = Field(default=600.0, gt=0)  # a payment still open this long is asked about
    renewal_link_lead_hours: float = 72.0
    renewal_grace_days: float = 7.0

    @field_validator("cors_allowed_origins", "clerk_authorized_parties", "blocked_terms", "admin_user_ids",
                     "truelayer_webhook_jku_allowlist", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(item.strip() for item in value.split(",") if item.strip())
        return value

    @field_validator("webhook_retry_schedule_s", mode="before")
    @classmethod
    def _split_floats(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(float(item) for item in value.split(",") if item.strip())
        return value

    @property
    def jwks_url(self) -> str:
        return self.clerk_jwks_url or f"{self.clerk_issuer.rstrip('/')}/.well-known/jwks.json"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
