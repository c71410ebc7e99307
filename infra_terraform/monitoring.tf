# Alerts on the product's own targets (functions/core/metrics.py), each to one notification channel
# (var.alert_notification_channel). The settle log line ("job ended", logged by
# functions/handlers/outcomes.finish with job_status, generation_s, cost_usd, gpu_type) feeds three
# log-based metrics; the rest come from Pub/Sub's own metrics. PromQL conditions read log-based
# metrics as logging_googleapis_com:user_<name> (distributions add _bucket/_sum/_count).

locals {
  ended_log_filter = "resource.type=\"cloud_run_revision\" AND jsonPayload.event=\"job_ended\""
  alert_channels   = [var.alert_notification_channel]
}

resource "google_logging_metric" "jobs_ended" {
  name   = "cineweave_jobs_ended"
  filter = local.ended_log_filter
  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    labels {
      key         = "status"
      value_type  = "STRING"
      description = "done, failed or canceled"
    }
  }
  label_extractors = {
    status = "EXTRACT(jsonPayload.job_status)"
  }
}

resource "google_logging_metric" "generation_seconds" {
  name            = "cineweave_generation_seconds"
  filter          = "${local.ended_log_filter} AND jsonPayload.job_status=\"done\""
  value_extractor = "EXTRACT(jsonPayload.generation_s)"
  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "DISTRIBUTION"
    unit        = "s"
  }
  bucket_options {
    exponential_buckets {
      num_finite_buckets = 64
      growth_factor      = 1.1
      scale              = 1
    }
  }
}

resource "google_logging_metric" "gpu_cost_usd" {
  name            = "cineweave_gpu_cost_usd"
  filter          = "${local.ended_log_filter} AND jsonPayload.cost_usd>0"
  value_extractor = "EXTRACT(jsonPayload.cost_usd)"
  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "DISTRIBUTION"
    unit        = "USD"
    labels {
      key        = "gpu_type"
      value_type = "STRING"
    }
  }
  label_extractors = {
    gpu_type = "EXTRACT(jsonPayload.gpu_type)"
  }
  bucket_options {
    exponential_buckets {
      num_finite_buckets = 40
      growth_factor      = 1.5
      scale              = 0.001
    }
  }
}

resource "google_monitoring_alert_policy" "success_rate" {
  display_name          = "CineWeave: video success rate under ${var.alert_success_rate_target * 100}% over an hour"
  combiner              = "OR"
  notification_channels = local.alert_channels
  conditions {
    display_name = "done / (done + failed) over the last hour"
    condition_prometheus_query_language {
      query    = "sum(increase(logging_googleapis_com:user_${google_logging_metric.jobs_ended.name}{status=\"done\"}[1h])) / sum(increase(logging_googleapis_com:user_${google_logging_metric.jobs_ended.name}{status=~\"done|failed\"}[1h])) < ${var.alert_success_rate_target}"
      duration = "300s"
    }
  }
  documentation {
    content = "The admin console's Metrics page ranks the failure codes; GET /admin/jobs?status=failed lists the jobs."
  }
}

resource "google_monitoring_alert_policy" "generation_p95" {
  display_name          = "CineWeave: p95 generation time over ${var.alert_generation_p95_target_s} s"
  combiner              = "OR"
  notification_channels = local.alert_channels
  conditions {
    display_name = "created -> done, p95 over the last hour"
    condition_prometheus_query_language {
      query    = "histogram_quantile(0.95, sum by (le) (increase(logging_googleapis_com:user_${google_logging_metric.generation_seconds.name}_bucket[1h]))) > ${var.alert_generation_p95_target_s}"
      duration = "600s"
    }
  }
}

resource "google_monitoring_alert_policy" "gpu_spend" {
  display_name          = "CineWeave: RunPod spend over ${var.alert_runpod_budget_usd_per_hour} USD an hour"
  combiner              = "OR"
  notification_channels = local.alert_channels
  conditions {
    display_name = "GPU cost of the jobs settled in the last hour"
    condition_prometheus_query_language {
      query    = "sum(increase(logging_googleapis_com:user_${google_logging_metric.gpu_cost_usd.name}_sum[1h])) > ${var.alert_runpod_budget_usd_per_hour}"
      duration = "0s"
    }
  }
}

resource "google_monitoring_alert_policy" "dead_letter" {
  display_name          = "CineWeave: a message was dead-lettered"
  combiner              = "OR"
  notification_channels = local.alert_channels
  conditions {
    display_name = "any message waiting in a dead-letter hold subscription"
    condition_threshold {
      filter          = "resource.type=\"pubsub_subscription\" AND metric.type=\"pubsub.googleapis.com/subscription/num_undelivered_messages\" AND resource.labels.subscription_id=ends_with(\"${local.dead_letter_suffix}-hold\")"
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period   = "60s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }
  documentation {
    content = "List and replay them with `python -m devstack.deadletters` (the event_failures records say why)."
  }
}

resource "google_monitoring_alert_policy" "clock_tick" {
  for_each              = local.clock_ticks
  display_name          = "CineWeave: the ${each.key} tick did not run"
  combiner              = "OR"
  notification_channels = local.alert_channels
  conditions {
    display_name = "no ${each.key} message acknowledged by its consumer"
    condition_absent {
      filter   = "resource.type=\"pubsub_subscription\" AND metric.type=\"pubsub.googleapis.com/subscription/ack_message_count\" AND resource.labels.subscription_id=\"${google_pubsub_subscription.push[each.key].name}\""
      duration = each.value.schedule == "* * * * *" ? "600s" : "7200s"
      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_SUM"
      }
    }
  }
}
