# One Cloud Function (gen2) per entry point of functions/main.py, all built from one source zip.
#
# local.functions is the deployment spec: trigger, size, and what each function may touch. The
# offline checks (tests/infra) derive the same facts from the code and fail on any difference, so
# a function added to the code, or a setting, secret or topic it starts to use, shows up here as a
# failing test that prints the entry to write.

locals {
  python_runtime = "python312"
  function_names = { for name in keys(local.functions) : name => replace(name, "_", "-") } # also the Cloud Run service names
  source_zip     = "${path.module}/${var.functions_source_zip}"

  # Settings every HTTP function reads through the shared edge (CORS, Clerk tokens, API keys,
  # admin list, rate limits).
  env_http       = ["ADMIN_USER_IDS", "API_KEY_CACHE_S", "CLERK_AUTHORIZED_PARTIES", "CLERK_ISSUER", "CLERK_JWKS_LIFESPAN_S", "CLERK_JWKS_MAX_STALE_S", "CLERK_JWKS_MIN_REFRESH_INTERVAL_S", "CLERK_JWKS_URL", "CORS_ALLOWED_ORIGINS", "JWT_LEEWAY_S", "RATE_LIMIT_ANONYMOUS_PER_SECOND", "RATE_LIMIT_CALLBACKS_PER_SECOND", "RATE_LIMIT_CREATES_PER_MINUTE", "RATE_LIMIT_PAYMENT_LINKS_PER_HOUR", "RATE_LIMIT_READS_PER_SECOND", "RATE_LIMIT_SHARE_INTERVAL_S", "RATE_LIMIT_TRUSTED_PROXIES", "RATE_LIMIT_WRITES_PER_MINUTE"]
  env_firestore  = ["FIRESTORE_DATABASE", "GOOGLE_CLOUD_PROJECT"]
  env_r2         = ["R2_BUCKET", "R2_ENDPOINT_URL"]
  env_runpod     = ["RUNPOD_API_BASE", "RUNPOD_ENDPOINT_ID"]
  env_billing    = ["BILLING_CURRENCY", "EXTRA_CREDIT_PRICE_MINOR", "PLAN_PRICES_MINOR"]
  env_gpu_prices = ["GPU_PRICE_PER_SECOND_USD", "GPU_PRICES_USD_PER_SECOND"]
  env_truelayer  = ["TRUELAYER_API_BASE", "TRUELAYER_AUTH_URL", "TRUELAYER_CLIENT_ID", "TRUELAYER_ENVIRONMENT", "TRUELAYER_HPP_BASE", "TRUELAYER_MANDATES_ENABLED", "TRUELAYER_MERCHANT_ACCOUNT_ID", "TRUELAYER_RETURN_URI", "TRUELAYER_TIMEOUT_S"]
  r2_keys        = ["R2_ACCESS_KEY_ID", "R2_SECRET_ACCESS_KEY"]
  truelayer_keys = ["TRUELAYER_CLIENT_SECRET", "TRUELAYER_SIGNING_KEY_ID", "TRUELAYER_SIGNING_PRIVATE_KEY"]

  functions = {
    # --- HTTP (behind the API gateway; one warm instance each) ---------------------------------
    create_job = {
      trigger   = "http", memory = "512Mi", timeout_s = 60, min_instances = var.http_min_instances, max_instances = 20
      env       = concat(local.env_http, local.env_firestore, local.env_r2, ["BLOCKED_TERMS", "FAST_WEIGHTS_DEPLOYED", "IMAGE_FETCH_TIMEOUT_S", "IMAGE_MAX_BYTES", "IMAGE_MAX_SIDE_PX", "MAX_ACTIVE_JOBS", "OUTBOUND_LOOPBACK_ONLY"])
      secrets   = local.r2_keys
      publishes = ["job-requested"]
      firestore = true
    }
    get_job = {
      trigger   = "http", memory = "256Mi", timeout_s = 30, min_instances = var.http_min_instances, max_instances = 20
      env       = concat(local.env_http, local.env_firestore, local.env_r2, local.env_runpod, ["RUNPOD_STATUS_CACHE_S"])
      secrets   = concat(local.r2_keys, ["RUNPOD_API_KEY"])
      publishes = ["job-status-changed"]
      firestore = true
    }
    list_jobs = {
      trigger   = "http", memory = "256Mi", timeout_s = 30, min_instances = var.http_min_instances, max_instances = 20
      env       = concat(local.env_http, local.env_firestore, local.env_r2)
      secrets   = local.r2_keys
      publishes = []
      firestore = true
    }
    remix_job = {
      trigger   = "http", memory = "256Mi", timeout_s = 30, min_instances = var.http_min_instances, max_instances = 10
      env       = concat(local.env_http, local.env_firestore, ["BLOCKED_TERMS", "FAST_WEIGHTS_DEPLOYED", "MAX_ACTIVE_JOBS"])
      secrets   = []
      publishes = ["job-requested"]
      firestore = true
    }
    # A stream of server-sent events: lives at most JOB_EVENTS_MAX_S (55 s), inside the gateway's
    # 60 s backend deadline and this timeout; the client reconnects with Last-Event-ID.
    job_events = {
      trigger   = "http", memory = "256Mi", timeout_s = 60, min_instances = var.http_min_instances, max_instances = 20
      env       = concat(local.env_http, local.env_firestore, local.env_r2, local.env_runpod, ["JOB_EVENTS_KEEPALIVE_S", "JOB_EVENTS_MAX_S", "JOB_EVENTS_POLL_S", "RUNPOD_STATUS_CACHE_S"])
      secrets   = concat(local.r2_keys, ["RUNPOD_API_KEY"])
      publishes = ["job-status-changed"]
      firestore = true
    }
    extend_job = {
      trigger   = "http", memory = "256Mi", timeout_s = 30, min_instances = var.http_min_instances, max_instances = 10
      env       = concat(local.env_http, local.env_firestore, ["BLOCKED_TERMS", "FAST_WEIGHTS_DEPLOYED", "MAX_ACTIVE_JOBS"])
      secrets   = []
      publishes = ["job-requested"]
      firestore = true
    }
    cancel_job = {
      trigger   = "http", memory = "256Mi", timeout_s = 30, min_instances = var.http_min_instances, max_instances = 10
      env       = concat(local.env_http, local.env_firestore)
      secrets   = []
      publishes = ["job-canceled", "job-status-changed"]
      firestore = true
    }
    get_credits = {
      trigger   = "http", memory = "256Mi", timeout_s = 30, min_instances = var.http_min_instances, max_instances = 10
      env       = concat(local.env_http, local.env_firestore)
      secrets   = []
      publishes = []
      firestore = true
    }
    list_plans = {
      trigger   = "http", memory = "256Mi", timeout_s = 30, min_instances = var.http_min_instances, max_instances = 10
      env       = concat(local.env_http, local.env_firestore)
      secrets   = []
      publishes = []
      firestore = true
    }
    list_templates = {
      trigger   = "http", memory = "256Mi", timeout_s = 30, min_instances = var.http_min_instances, max_instances = 5
      env       = concat(local.env_http, local.env_firestore)
      secrets   = []
      publishes = []
      firestore = true
    }
    admin_grant_credits = {
      trigger   = "http", memory = "256Mi", timeout_s = 30, min_instances = var.http_min_instances, max_instances = 2
      env       = concat(local.env_http, local.env_firestore)
      secrets   = []
      publishes = []
      firestore = true
    }
    # Admin reports: rare calls, but warm like every HTTP function (var.http_min_instances).
    admin_list_jobs = {
      trigger   = "http", memory = "256Mi", timeout_s = 30, min_instances = var.http_min_instances, max_instances = 2
      env       = concat(local.env_http, local.env_firestore)
      secrets   = []
      publishes = []
      firestore = true
    }
    admin_list_users = {
      trigger   = "http", memory = "256Mi", timeout_s = 30, min_instances = var.http_min_instances, max_instances = 2
      env       = concat(local.env_http, local.env_firestore, local.env_billing)
      secrets   = []
      publishes = []
      firestore = true
    }
    admin_operator_queue = {
      trigger   = "http", memory = "256Mi", timeout_s = 30, min_instances = var.http_min_instances, max_instances = 2
      env       = concat(local.env_http, local.env_firestore)
      secrets   = []
      publishes = []
      firestore = true
    }
    admin_resolve_payment_issue = {
      trigger   = "http", memory = "256Mi", timeout_s = 30, min_instances = var.http_min_instances, max_instances = 2
      env       = concat(local.env_http, local.env_firestore)
      secrets   = []
      publishes = []
      firestore = true
    }
    admin_daily_stats = {
      trigger   = "http", memory = "256Mi", timeout_s = 60, min_instances = var.http_min_instances, max_instances = 2
      env       = concat(local.env_http, local.env_firestore, local.env_billing, local.env_gpu_prices, ["USD_PER_BILLING_UNIT"])
      secrets   = []
      publishes = []
      firestore = true
    }
    admin_metrics = {
      trigger   = "http", memory = "256Mi", timeout_s = 60, min_instances = var.http_min_instances, max_instances = 2
      env       = concat(local.env_http, local.env_firestore, local.env_billing, local.env_gpu_prices, ["USD_PER_BILLING_UNIT"])
      secrets   = []
      publishes = []
      firestore = true
    }
    runpod_webhook = {
      trigger   = "http", memory = "256Mi", timeout_s = 30, min_instances = var.http_min_instances, max_instances = 20
      env       = concat(local.env_http, local.env_firestore)
      secrets   = ["RUNPOD_WEBHOOK_SECRET"]
      publishes = ["generation-finished"]
      firestore = true
    }
    subscribe = {
      trigger   = "http", memory = "256Mi", timeout_s = 30, min_instances = var.http_min_instances, max_instances = 10
      env       = concat(local.env_http, local.env_firestore, local.env_billing, local.env_truelayer, ["PAYMENT_RECONCILE_AFTER_S"])
      secrets   = local.truelayer_keys
      publishes = []
      firestore = true
    }
    topup = {
      trigger   = "http", memory = "256Mi", timeout_s = 30, min_instances = var.http_min_instances, max_instances = 10
      env       = concat(local.env_http, local.env_firestore, local.env_billing, local.env_truelayer, ["PAYMENT_RECONCILE_AFTER_S"])
      secrets   = local.truelayer_keys
      publishes = []
      firestore = true
    }
    get_account = {
      trigger   = "http", memory = "256Mi", timeout_s = 30, min_instances = var.http_min_instances, max_instances = 10
      env       = concat(local.env_http, local.env_firestore, local.env_billing)
      secrets   = []
      publishes = []
      firestore = true
    }
    # API keys: managed with a session token only (functions/http/routes.py auth = "session").
    create_key = {
      trigger   = "http", memory = "256Mi", timeout_s = 30, min_instances = var.http_min_instances, max_instances = 5
      env       = concat(local.env_http, local.env_firestore)
      secrets   = []
      publishes = []
      firestore = true
    }
    list_keys = {
      trigger   = "http", memory = "256Mi", timeout_s = 30, min_instances = var.http_min_instances, max_instances = 5
      env       = concat(local.env_http, local.env_firestore)
      secrets   = []
      publishes = []
      firestore = true
    }
    revoke_key = {
      trigger   = "http", memory = "256Mi", timeout_s = 30, min_instances = var.http_min_instances, max_instances = 5
      env       = concat(local.env_http, local.env_firestore)
      secrets   = []
      publishes = []
      firestore = true
    }
    # Verifies TrueLayer's signature with TrueLayer's public keys: no secret needed.
    truelayer_webhook = {
      trigger   = "http", memory = "256Mi", timeout_s = 30, min_instances = var.http_min_instances, max_instances = 10
      env       = concat(local.env_http, local.env_firestore, ["TRUELAYER_ENVIRONMENT", "TRUELAYER_JWKS_MIN_REFRESH_INTERVAL_S", "TRUELAYER_WEBHOOK_JKU_ALLOWLIST", "TRUELAYER_WEBHOOK_PATH"])
      secrets   = []
      publishes = ["payment-notified"]
      firestore = true
    }

    # Webhooks to clients: registration resolves the receiver's host (no request is sent to it).
    get_webhook_secret = {
      trigger   = "http", memory = "256Mi", timeout_s = 30, min_instances = var.http_min_instances, max_instances = 5
      env       = concat(local.env_http, local.env_firestore)
      secrets   = ["WEBHOOK_SECRETS_KEY"]
      publishes = []
      firestore = true
    }
    create_webhook_endpoint = {
      trigger   = "http", memory = "256Mi", timeout_s = 30, min_instances = var.http_min_instances, max_instances = 5
      env       = concat(local.env_http, local.env_firestore, ["OUTBOUND_LOOPBACK_ONLY", "WEBHOOK_MAX_ENDPOINTS", "WEBHOOK_TIMEOUT_S"])
      secrets   = ["WEBHOOK_SECRETS_KEY"]
      publishes = []
      firestore = true
    }
    list_webhook_endpoints = {
      trigger   = "http", memory = "256Mi", timeout_s = 30, min_instances = var.http_min_instances, max_instances = 5
      env       = concat(local.env_http, local.env_firestore)
      secrets   = []
      publishes = []
      firestore = true
    }
    delete_webhook_endpoint = {
      trigger   = "http", memory = "256Mi", timeout_s = 30, min_instances = var.http_min_instances, max_instances = 5
      env       = concat(local.env_http, local.env_firestore)
      secrets   = []
      publishes = []
      firestore = true
    }
    rotate_webhook_secret = {
      trigger   = "http", memory = "256Mi", timeout_s = 30, min_instances = var.http_min_instances, max_instances = 5
      env       = concat(local.env_http, local.env_firestore)
      secrets   = ["WEBHOOK_SECRETS_KEY"]
      publishes = []
      firestore = true
    }
    list_webhook_deliveries = {
      trigger   = "http", memory = "256Mi", timeout_s = 30, min_instances = var.http_min_instances, max_instances = 5
      env       = concat(local.env_http, local.env_firestore)
      secrets   = []
      publishes = []
      firestore = true
    }
    redeliver_webhook = {
      trigger   = "http", memory = "256Mi", timeout_s = 30, min_instances = var.http_min_instances, max_instances = 5
      env       = concat(local.env_http, local.env_firestore)
      secrets   = []
      publishes = ["job-status-changed"]
      firestore = true
    }

    # --- Pub/Sub push (no warm instance; timeout within the subscription's ack deadline) -------
    reserve_credits = {
      trigger   = "event", memory = "256Mi", timeout_s = 60, min_instances = 0, max_instances = 20
      env       = local.env_firestore
      secrets   = []
      publishes = ["job-reserved", "job-status-changed"]
      firestore = true
    }
    submit_job = {
      trigger   = "event", memory = "256Mi", timeout_s = 60, min_instances = 0, max_instances = 20
      env       = concat(local.env_firestore, local.env_runpod, local.env_gpu_prices, ["PUBLIC_API_BASE_URL", "RUNPOD_EXECUTION_TIMEOUT_S", "RUNPOD_TTL_S", "SUBMIT_CLAIM_S", "SUBMIT_MAX_ATTEMPTS"])
      secrets   = ["RUNPOD_API_KEY", "RUNPOD_WEBHOOK_SECRET"]
      publishes = ["job-status-changed"]
      firestore = true
    }
    # Firestore only to record a delivery it could not process (every event function does).
    cancel_generation = {
      trigger   = "event", memory = "256Mi", timeout_s = 60, min_instances = 0, max_instances = 10
      env       = concat(local.env_firestore, local.env_runpod)
      secrets   = ["RUNPOD_API_KEY"]
      publishes = []
      firestore = true
    }
    settle_job = {
      trigger   = "event", memory = "256Mi", timeout_s = 60, min_instances = 0, max_instances = 20
      env       = concat(local.env_firestore, local.env_r2, local.env_runpod, local.env_gpu_prices, ["VIDEO_TTL_HOURS"])
      secrets   = concat(local.r2_keys, ["RUNPOD_API_KEY"])
      publishes = ["job-status-changed"]
      firestore = true
    }
    # One tick a minute; two instances at most, since overlapping ticks only repeat guarded work.
    # TrueLayer's keys for the payments reconciler (it only reads payment and mandate statuses).
    expire_jobs = {
      trigger   = "event", memory = "512Mi", timeout_s = 60, min_instances = 0, max_instances = 2
      env       = concat(local.env_firestore, local.env_r2, local.env_runpod, [for v in local.env_truelayer : v if v != "TRUELAYER_RETURN_URI"], local.env_gpu_prices, ["PAYMENT_RECONCILE_AFTER_S", "RECONCILE_AFTER_S", "REPUBLISH_AFTER_S", "TICK_BATCH", "TICK_BUDGET_S", "VIDEO_TTL_HOURS"])
      secrets   = concat(local.r2_keys, ["RUNPOD_API_KEY"], local.truelayer_keys)
      publishes = ["job-canceled", "job-requested", "job-reserved", "job-status-changed", "payment-notified"]
      firestore = true
    }
    grant_credits = {
      trigger   = "event", memory = "256Mi", timeout_s = 60, min_instances = 0, max_instances = 10
      env       = concat(local.env_firestore, ["RENEWAL_GRACE_DAYS", "TRUELAYER_GRANT_ON"])
      secrets   = []
      publishes = ["renewal-requested"]
      firestore = true
    }
    schedule_renewals = {
      trigger   = "event", memory = "256Mi", timeout_s = 60, min_instances = 0, max_instances = 2
      env       = concat(local.env_firestore, ["RENEWAL_GRACE_DAYS", "RENEWAL_LINK_LEAD_HOURS"])
      secrets   = []
      publishes = ["renewal-requested"]
      firestore = true
    }
    # Sends to client receivers: each attempt under WEBHOOK_TIMEOUT_S, so a hung receiver holds an
    # instance that long at most. The presigned video link in a job.succeeded body needs R2's keys.
    deliver_webhooks = {
      trigger   = "event", memory = "256Mi", timeout_s = 60, min_instances = 0, max_instances = 20
      env       = concat(local.env_firestore, local.env_r2, ["OUTBOUND_LOOPBACK_ONLY", "WEBHOOK_RETRY_SCHEDULE_S", "WEBHOOK_TIMEOUT_S"])
      secrets   = concat(local.r2_keys, ["WEBHOOK_SECRETS_KEY"])
      publishes = []
      firestore = true
    }
    # The webhook minute tick: retries what is due and fans out announcements that were lost.
    retry_webhooks = {
      trigger   = "event", memory = "256Mi", timeout_s = 60, min_instances = 0, max_instances = 2
      env       = concat(local.env_firestore, local.env_r2, ["OUTBOUND_LOOPBACK_ONLY", "REPUBLISH_AFTER_S", "WEBHOOK_RETRY_SCHEDULE_S", "WEBHOOK_TIMEOUT_S"])
      secrets   = concat(local.r2_keys, ["WEBHOOK_SECRETS_KEY"])
      publishes = []
      firestore = true
    }
    renew_subscription = {
      trigger   = "event", memory = "256Mi", timeout_s = 60, min_instances = 0, max_instances = 10
      env       = concat(local.env_firestore, local.env_billing, local.env_truelayer, ["PAYMENT_RECONCILE_AFTER_S", "RENEWAL_GRACE_DAYS"])
      secrets   = local.truelayer_keys
      publishes = []
      firestore = true
    }
  }

  # Every non-secret field of functions/settings.py, by env var. null keeps the code's default,
  # deliberately: the check fails on a Settings field missing here, so each new one is decided.
  settings_env = {
    GOOGLE_CLOUD_PROJECT                  = var.project_id
    FIRESTORE_DATABASE                    = var.firestore_database
    PUBLIC_API_BASE_URL                   = local.public_api_base_url
    CORS_ALLOWED_ORIGINS                  = join(",", var.web_origins)
    CLERK_ISSUER                          = var.clerk_issuer
    CLERK_JWKS_URL                        = null # {issuer}/.well-known/jwks.json
    CLERK_AUTHORIZED_PARTIES              = join(",", var.web_origins)
    CLERK_JWKS_MIN_REFRESH_INTERVAL_S     = null
    CLERK_JWKS_LIFESPAN_S                 = null # 300 s
    CLERK_JWKS_MAX_STALE_S                = null # 1 h of serving the last keys while Clerk's JWKS is down
    JWT_LEEWAY_S                          = null
    API_KEY_CACHE_S                       = null # 1 s: the bound on a revocation reaching every instance
    RATE_LIMIT_READS_PER_SECOND           = null # 20 per user (and per key)
    RATE_LIMIT_CREATES_PER_MINUTE         = null # 20
    RATE_LIMIT_WRITES_PER_MINUTE          = null # 60
    RATE_LIMIT_PAYMENT_LINKS_PER_HOUR     = null # 20
    RATE_LIMIT_ANONYMOUS_PER_SECOND       = null # 10 per client address
    RATE_LIMIT_CALLBACKS_PER_SECOND       = null # 50 per address (RunPod's and TrueLayer's webhooks)
    RATE_LIMIT_SHARE_INTERVAL_S           = null # 0.1 s: per-second rules share their counts across instances this often
    RATE_LIMIT_TRUSTED_PROXIES            = "2"  # API Gateway's front end and Cloud Run's each append to X-Forwarded-For
    ADMIN_USER_IDS                        = join(",", var.admin_user_ids)
    MAX_ACTIVE_JOBS                       = null
    BLOCKED_TERMS                         = join(",", var.blocked_terms)
    IMAGE_MAX_BYTES                       = null
    IMAGE_MAX_SIDE_PX                     = null
    IMAGE_FETCH_TIMEOUT_S                 = null                                # 10 s for the whole imageUrl fetch inside create_job
    OUTBOUND_LOOPBACK_ONLY                = "false"                             # explicit: production reaches public https addresses, never loopback
    FAST_WEIGHTS_DEPLOYED                 = tostring(var.fast_weights_deployed) # the worker's WAN_FAST_WEIGHTS_DIR follows it
    R2_ENDPOINT_URL                       = local.r2_endpoint_url
    R2_BUCKET                             = cloudflare_r2_bucket.outputs.name
    VIDEO_TTL_HOURS                       = tostring(local.video_ttl_hours)
    RUNPOD_API_BASE                       = null # https://api.runpod.ai/v2
    RUNPOD_ENDPOINT_ID                    = runpod_endpoint.worker.id
    RUNPOD_EXECUTION_TIMEOUT_S            = tostring(var.runpod_execution_timeout_s)
    RUNPOD_TTL_S                          = null
    RUNPOD_STATUS_CACHE_S                 = null
    SUBMIT_MAX_ATTEMPTS                   = null
    SUBMIT_CLAIM_S                        = null
    GPU_PRICE_PER_SECOND_USD              = tostring(var.gpu_price_per_second_usd)
    GPU_PRICES_USD_PER_SECOND             = jsonencode(var.gpu_prices_usd_per_second)
    USD_PER_BILLING_UNIT                  = tostring(var.usd_per_billing_unit)
    RECONCILE_AFTER_S                     = null
    REPUBLISH_AFTER_S                     = null
    TICK_BUDGET_S                         = null
    TICK_BATCH                            = null
    PAYMENT_RECONCILE_AFTER_S             = null
    BILLING_CURRENCY                      = null
    PLAN_PRICES_MINOR                     = null
    EXTRA_CREDIT_PRICE_MINOR              = null
    TRUELAYER_ENVIRONMENT                 = var.truelayer_environment
    TRUELAYER_CLIENT_ID                   = var.truelayer_client_id
    TRUELAYER_MERCHANT_ACCOUNT_ID         = var.truelayer_merchant_account_id
    TRUELAYER_AUTH_URL                    = null # follow TRUELAYER_ENVIRONMENT
    TRUELAYER_API_BASE                    = null
    TRUELAYER_HPP_BASE                    = null
    TRUELAYER_RETURN_URI                  = "${var.web_origins[0]}/account"
    TRUELAYER_WEBHOOK_JKU_ALLOWLIST       = null
    TRUELAYER_WEBHOOK_PATH                = null
    TRUELAYER_GRANT_ON                    = null
    TRUELAYER_MANDATES_ENABLED            = null
    TRUELAYER_JWKS_MIN_REFRESH_INTERVAL_S = null
    TRUELAYER_TIMEOUT_S                   = null
    RENEWAL_LINK_LEAD_HOURS               = null
    RENEWAL_GRACE_DAYS                    = null
    WEBHOOK_TIMEOUT_S                     = null
    WEBHOOK_RETRY_SCHEDULE_S              = null # 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: ~27.6 h
    WEBHOOK_MAX_ENDPOINTS                 = null
    JOB_EVENTS_POLL_S                     = null
    JOB_EVENTS_KEEPALIVE_S                = null
    JOB_EVENTS_MAX_S                      = null
  }
}

# --- Source ---------------------------------------------------------------------------------
resource "google_storage_bucket" "source" {
  name     = "${var.project_id}-functions-source"
  location = var.region

  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  versioning {
    enabled = true
  }

  # Old source zips are only needed for a quick rollback.
  lifecycle_rule {
    condition {
      age = 30
    }
    action {
      type = "Delete"
    }
  }

  #checkov:skip=CKV_GCP_62:Access logs of a bucket that only Cloud Build reads add cost, not insight; Cloud Audit Logs record admin access.
  depends_on = [google_project_service.api]
}

# Named by content, so a changed zip redeploys every function and an unchanged one none.
resource "google_storage_bucket_object" "source" {
  name   = "functions-${filemd5(local.source_zip)}.zip"
  bucket = google_storage_bucket.source.name
  source = local.source_zip
}

# --- Identities -------------------------------------------------------------------------------
resource "google_service_account" "fn" {
  for_each     = local.functions
  account_id   = "fn-${replace(each.key, "_", "-")}"
  display_name = "CineWeave function ${each.key}"
  description  = "Runtime identity of the ${each.key} function; holds only what its code uses."
}

resource "google_project_iam_member" "datastore" {
  for_each = { for name, fn in local.functions : name => fn if fn.firestore }
  project  = var.project_id
  role     = "roles/datastore.user"
  member   = "serviceAccount:${google_service_account.fn[each.key].email}"
}

# Builds the functions' images (the default Cloud Build identity is being retired).
resource "google_service_account" "build" {
  account_id   = "functions-build"
  display_name = "CineWeave functions build"
}

# The three grants Cloud Functions documents for a custom build identity, nothing broader:
# write build logs, push the function images, read the source zip (this bucket only).
resource "google_project_iam_member" "build" {
  for_each = toset(["roles/logging.logWriter", "roles/artifactregistry.writer"])
  project  = var.project_id
  role     = each.key
  member   = "serviceAccount:${google_service_account.build.email}"
}

resource "google_storage_bucket_iam_member" "build_reads_source" {
  bucket = google_storage_bucket.source.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.build.email}"
}

# --- Functions --------------------------------------------------------------------------------
resource "google_cloudfunctions2_function" "fn" {
  for_each    = local.functions
  name        = local.function_names[each.key]
  location    = var.region
  description = "CineWeave ${each.value.trigger} function ${each.key}"

  build_config {
    runtime         = local.python_runtime
    entry_point     = each.key
    service_account = google_service_account.build.id

    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.source.name
      }
    }
  }

  # No event_trigger: the event functions are plain HTTPS services that our own push
  # subscriptions call (pubsub.tf), with the retry and dead-letter policy of the local stack.
  service_config {
    available_memory               = each.value.memory
    timeout_seconds                = each.value.timeout_s
    min_instance_count             = each.value.min_instances
    max_instance_count             = each.value.max_instances
    ingress_settings               = each.value.trigger == "http" ? "ALLOW_ALL" : "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision = true
    service_account_email          = google_service_account.fn[each.key].email

    environment_variables = {
      for name in each.value.env : name => local.settings_env[name] if local.settings_env[name] != null
    }

    dynamic "secret_environment_variables" {
      for_each = toset(each.value.secrets)
      content {
        key        = secret_environment_variables.value
        project_id = var.project_id
        secret     = google_secret_manager_secret.setting[secret_environment_variables.value].secret_id
        # The exact version, not "latest": a rotated value changes it, which rolls out a new
        # revision, so every instance reads the new value without a manual redeploy.
        version = google_secret_manager_secret_version.value[secret_environment_variables.value].version
      }
    }
  }

  depends_on = [
    google_project_service.api,
    google_project_iam_member.build,
    google_storage_bucket_iam_member.build_reads_source,
    google_secret_manager_secret_version.value,
    google_secret_manager_secret_iam_member.reader,
  ]
}
