# The Pub/Sub topology of schemas/topics.py, as devstack/pubsub_setup.py builds it locally: per
# topic a dead-letter topic, an OIDC push subscription to the consuming function with the
# DELIVERY retry and dead-letter policy, and a pull subscription that holds the dead letters
# until an operator lists or replays them.

locals {
  # schemas.topics.DELIVERY
  delivery = {
    ack_deadline_s        = 60
    min_backoff_s         = 1
    max_backoff_s         = 60
    max_delivery_attempts = 10
  }
  dead_letter_suffix = "-dead-letter" # schemas.topics.DEAD_LETTER_SUFFIX

  # schemas.topics.TOPICS: topic -> the event function subscribed to it
  topics = {
    "job-requested"         = { consumer = "reserve_credits" }
    "job-reserved"          = { consumer = "submit_job" }
    "job-canceled"          = { consumer = "cancel_generation" }
    "generation-finished"   = { consumer = "settle_job" }
    "clock-ticked"          = { consumer = "expire_jobs" }
    "payment-notified"      = { consumer = "grant_credits" }
    "renewal-clock-ticked"  = { consumer = "schedule_renewals" }
    "renewal-requested"     = { consumer = "renew_subscription" }
    "job-status-changed"    = { consumer = "deliver_webhooks" }
    "webhooks-clock-ticked" = { consumer = "retry_webhooks" }
  }

  pubsub_agent = "serviceAccount:${google_project_service_identity.pubsub.email}"

  # function -> topic pairs for the publisher grants, from each function's `publishes`
  publish_grants = merge([
    for name, fn in local.functions : {
      for topic in fn.publishes : "${name}/${topic}" => { function = name, topic = topic }
    }
  ]...)
}

resource "google_pubsub_topic" "event" {
  for_each = local.topics
  #checkov:skip=CKV_GCP_83:Messages carry ids and states (job, payment, user ids), no content or card data; Google-managed encryption at rest suffices and a CMEK key ring would add cost and an outage mode (a disabled key stops the pipeline).
  name = each.key

  message_retention_duration = "86400s"

  depends_on = [google_project_service.api]
}

resource "google_pubsub_topic" "dead_letter" {
  for_each = local.topics
  #checkov:skip=CKV_GCP_83:Messages carry ids and states (job, payment, user ids), no content or card data; Google-managed encryption at rest suffices and a CMEK key ring would add cost and an outage mode (a disabled key stops the pipeline).
  name = "${each.key}${local.dead_letter_suffix}"

  message_retention_duration = "604800s"

  depends_on = [google_project_service.api]
}

# Only the functions whose code publishes an event may publish to its topic.
resource "google_pubsub_topic_iam_member" "publisher" {
  for_each = local.publish_grants
  topic    = google_pubsub_topic.event[each.value.topic].name
  role     = "roles/pubsub.publisher"
  member   = "serviceAccount:${google_service_account.fn[each.value.function].email}"
}

# --- Push delivery ----------------------------------------------------------------------------
# One identity per subscription: it may invoke exactly the consuming function.
resource "google_service_account" "push" {
  for_each     = local.topics
  account_id   = "push-${each.key}"
  display_name = "Pub/Sub push for ${each.key}"
}

resource "google_cloud_run_v2_service_iam_member" "push_invoker" {
  for_each = local.topics
  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.fn[each.value.consumer].service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.push[each.key].email}"
}

# Pub/Sub mints the push OIDC tokens as the push identity (needed in projects made before 2021-04).
resource "google_service_account_iam_member" "push_token_creator" {
  for_each           = local.topics
  service_account_id = google_service_account.push[each.key].name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_agent
}

resource "google_pubsub_subscription" "push" {
  for_each = local.topics
  name     = "${each.key}-push"
  topic    = google_pubsub_topic.event[each.key].id

  ack_deadline_seconds       = local.delivery.ack_deadline_s
  message_retention_duration = "604800s"

  retry_policy {
    minimum_backoff = "${local.delivery.min_backoff_s}s"
    maximum_backoff = "${local.delivery.max_backoff_s}s"
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter[each.key].id
    max_delivery_attempts = local.delivery.max_delivery_attempts
  }

  push_config {
    push_endpoint = google_cloudfunctions2_function.fn[each.value.consumer].service_config[0].uri

    oidc_token {
      service_account_email = google_service_account.push[each.key].email
    }
  }

  # Never expire for inactivity: clock ticks aside, a quiet week is not a reason to lose the wiring.
  expiration_policy {
    ttl = ""
  }

  depends_on = [
    google_cloud_run_v2_service_iam_member.push_invoker,
    google_service_account_iam_member.push_token_creator,
  ]
}

# --- Dead letters -----------------------------------------------------------------------------
resource "google_pubsub_subscription" "dead_letter_hold" {
  for_each = local.topics
  name     = "${each.key}${local.dead_letter_suffix}-hold"
  topic    = google_pubsub_topic.dead_letter[each.key].id

  ack_deadline_seconds       = 60
  message_retention_duration = "604800s"

  expiration_policy {
    ttl = ""
  }
}

# Dead-lettering needs the Pub/Sub service agent to publish to the dead-letter topic and to
# acknowledge on the source subscription; without these grants messages are redelivered forever.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  for_each = local.topics
  topic    = google_pubsub_topic.dead_letter[each.key].name
  role     = "roles/pubsub.publisher"
  member   = local.pubsub_agent
}

resource "google_pubsub_subscription_iam_member" "dead_letter_subscriber" {
  for_each     = local.topics
  subscription = google_pubsub_subscription.push[each.key].name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_agent
}
