# Clock ticks: the minute tick for expire_jobs (expiry and reconciliation) and the hourly one for
# schedule_renewals. Scheduler cannot put the time in the body, so it sends the event without
# occurredAt and the event models fill it with the time of parsing.

locals {
  clock_ticks = {
    "clock-ticked"          = { schedule = "* * * * *", event = "ClockTicked" }
    "renewal-clock-ticked"  = { schedule = "0 * * * *", event = "RenewalClockTicked" }
    "webhooks-clock-ticked" = { schedule = "* * * * *", event = "WebhooksClockTicked" }
  }
}

resource "google_cloud_scheduler_job" "tick" {
  for_each  = local.clock_ticks
  name      = each.key
  region    = var.region
  schedule  = each.value.schedule
  time_zone = "Etc/UTC"

  pubsub_target {
    topic_name = google_pubsub_topic.event[each.key].id
    data       = base64encode(jsonencode({ schemaVersion = 1 }))
    attributes = {
      eventType     = each.value.event
      schemaVersion = "1"
    }
  }

  depends_on = [google_project_service.api]
}
