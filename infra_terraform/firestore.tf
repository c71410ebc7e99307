resource "google_firestore_database" "main" {
  name        = var.firestore_database
  location_id = var.firestore_location
  type        = "FIRESTORE_NATIVE"

  point_in_time_recovery_enablement = "POINT_IN_TIME_RECOVERY_ENABLED"
  delete_protection_state           = "DELETE_PROTECTION_ENABLED"
  deletion_policy                   = "ABANDON"

  depends_on = [google_project_service.api]
}

# Records kept only to recognise a repeat expire by themselves: Idempotency-Key records
# (paths.IDEMPOTENCY), processed TrueLayer webhook events (paths.TRUELAYER_EVENTS, retried for
# up to 72 h), records of events a consumer could not process (event_failures, 30 days) and of
# records a clock-tick step skipped (tick_failures, 30 days), and webhook deliveries (30 days
# after their last change). Firestore deletes a document within
# about a day after its expiresAt; documents without the field stay (payment_issues have none:
# an operator resolves them). TTL fields need no index.
resource "google_firestore_field" "ttl" {
  for_each   = toset(["idempotency", "truelayer_events", "event_failures", "tick_failures", "webhook_deliveries"])
  database   = google_firestore_database.main.name
  collection = each.key
  field      = "expiresAt"

  ttl_config {}

  index_config {}
}

# Rate-limit counters (functions/adapters/rate_counter.py): one document per caller, rule and
# window, deleted once its window is over.
resource "google_firestore_field" "rate_limits_ttl" {
  database   = google_firestore_database.main.name
  collection = "rateLimits"
  field      = "expiresAt"

  ttl_config {}

  index_config {}
}

# Composite indexes for the queries in the code (single-field ones are automatic):
#   list_jobs, admin list_jobs:  jobs where userId == u [and createdAt in range] order by createdAt desc
#   admin list_jobs:             jobs where status == s [and createdAt in range] order by createdAt desc
#                                (status and userId together: Firestore merges the two indexes)
#   expire_videos:               jobs where status == done and expiresAt <= now order by expiresAt
#   reconcile_running:           jobs where status in [queued, running] and updatedAt <= t order by updatedAt
#   reannounce_stalled:          jobs where status == pending|reserved and updatedAt <= t order by updatedAt
#   get_account, topup:          payments where userId == u order by createdAt desc
#   admin daily_stats:           sum(amountMinor) of payments where state == settled and updatedAt in a day
#   admin metrics (retention):   count of users where activeWeeks contains w and createdAt (signup) in a week
#   (job_rollups by day and users by createdAt alone are single-field ranges: automatic)
# reconcile_running and reannounce_stalled share one index: `in` uses the (status, updatedAt) index too.
resource "google_firestore_index" "jobs_by_user" {
  database   = google_firestore_database.main.name
  collection = "jobs"

  fields {
    field_path = "userId"
    order      = "ASCENDING"
  }
  fields {
    field_path = "createdAt"
    order      = "DESCENDING"
  }
}

resource "google_firestore_index" "jobs_by_status_expiry" {
  database   = google_firestore_database.main.name
  collection = "jobs"

  fields {
    field_path = "status"
    order      = "ASCENDING"
  }
  fields {
    field_path = "expiresAt"
    order      = "ASCENDING"
  }
}

resource "google_firestore_index" "jobs_by_status_update" {
  database   = google_firestore_database.main.name
  collection = "jobs"

  fields {
    field_path = "status"
    order      = "ASCENDING"
  }
  fields {
    field_path = "updatedAt"
    order      = "ASCENDING"
  }
}

resource "google_firestore_index" "jobs_by_status_created" {
  database   = google_firestore_database.main.name
  collection = "jobs"

  fields {
    field_path = "status"
    order      = "ASCENDING"
  }
  fields {
    field_path = "createdAt"
    order      = "DESCENDING"
  }
}

resource "google_firestore_index" "payments_by_user" {
  database   = google_firestore_database.main.name
  collection = "payments"

  fields {
    field_path = "userId"
    order      = "ASCENDING"
  }
  fields {
    field_path = "createdAt"
    order      = "DESCENDING"
  }
}

# Webhooks and the job view's queue estimate:
#   retry_webhooks:           jobs where webhooksPending == true and updatedAt <= t order by updatedAt
#                             webhook_deliveries where status in [pending, retrying] and nextAttemptAt <= now
#   queue position:           count of jobs where status == queued and submittedAt < t
#   ETA median:               jobs where status in [done, expired] and durationSec == d order by finishedAt desc
#   list_webhook_deliveries:  webhook_deliveries where userId == u [and jobId == j] order by createdAt desc
#   webhook endpoints:        webhook_endpoints where userId == u order by createdAt

resource "google_firestore_index" "jobs_webhooks_pending" {
  database   = google_firestore_database.main.name
  collection = "jobs"

  fields {
    field_path = "webhooksPending"
    order      = "ASCENDING"
  }
  fields {
    field_path = "updatedAt"
    order      = "ASCENDING"
  }
}

resource "google_firestore_index" "jobs_queue" {
  database   = google_firestore_database.main.name
  collection = "jobs"

  fields {
    field_path = "status"
    order      = "ASCENDING"
  }
  fields {
    field_path = "submittedAt"
    order      = "ASCENDING"
  }
}

resource "google_firestore_index" "jobs_recent_by_duration" {
  database   = google_firestore_database.main.name
  collection = "jobs"

  fields {
    field_path = "status"
    order      = "ASCENDING"
  }
  fields {
    field_path = "durationSec"
    order      = "ASCENDING"
  }
  fields {
    field_path = "finishedAt"
    order      = "DESCENDING"
  }
}

resource "google_firestore_index" "deliveries_due" {
  database   = google_firestore_database.main.name
  collection = "webhook_deliveries"

  fields {
    field_path = "status"
    order      = "ASCENDING"
  }
  fields {
    field_path = "nextAttemptAt"
    order      = "ASCENDING"
  }
}

resource "google_firestore_index" "deliveries_by_user" {
  database   = google_firestore_database.main.name
  collection = "webhook_deliveries"

  fields {
    field_path = "userId"
    order      = "ASCENDING"
  }
  fields {
    field_path = "createdAt"
    order      = "DESCENDING"
  }
}

resource "google_firestore_index" "deliveries_by_user_job" {
  database   = google_firestore_database.main.name
  collection = "webhook_deliveries"

  fields {
    field_path = "userId"
    order      = "ASCENDING"
  }
  fields {
    field_path = "jobId"
    order      = "ASCENDING"
  }
  fields {
    field_path = "createdAt"
    order      = "DESCENDING"
  }
}

resource "google_firestore_index" "endpoints_by_user" {
  database   = google_firestore_database.main.name
  collection = "webhook_endpoints"

  fields {
    field_path = "userId"
    order      = "ASCENDING"
  }
  fields {
    field_path = "createdAt"
    order      = "ASCENDING"
  }
}

resource "google_firestore_index" "payments_by_state_update" {
  database   = google_firestore_database.main.name
  collection = "payments"

  fields {
    field_path = "state"
    order      = "ASCENDING"
  }
  fields {
    field_path = "updatedAt"
    order      = "ASCENDING"
  }
}

resource "google_firestore_index" "users_by_active_week_signup" {
  database   = google_firestore_database.main.name
  collection = "users"

  fields {
    field_path   = "activeWeeks"
    array_config = "CONTAINS"
  }
  fields {
    field_path = "createdAt"
    order      = "ASCENDING"
  }
}
