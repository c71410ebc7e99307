# The minute tick for expire_jobs. Scheduler cannot put the time in the body, so it sends a
# ClockTicked without occurredAt and the event model fills it with the time of parsing.
resource "google_cloud_scheduler_job" "clock_tick" {
  name      = "clock-tick"
  region    = var.region
  schedule  = "* * * * *"
  time_zone = "Etc/UTC"

  pubsub_target {
    topic_name = google_pubsub_topic.event["clock-ticked"].id
    data       = base64encode(jsonencode({ schemaVersion = 1 }))
    attributes = {
      eventType     = "ClockTicked"
      schemaVersion = "1"
    }
  }

  depends_on = [google_project_service.api]
}
