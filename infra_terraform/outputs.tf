output "api_base_url" {
  description = "Base URL of the public API (what the web app calls)."
  value       = local.public_api_base_url
}

output "webhook_urls" {
  description = "URLs that outside services call back."
  value       = { for name, path in local.webhook_paths : name => "${local.public_api_base_url}${path}" }
}

output "bucket" {
  description = "R2 bucket of videos and input images, and its S3 endpoint."
  value = {
    name     = cloudflare_r2_bucket.outputs.name
    endpoint = local.r2_endpoint_url
  }
}

output "runpod_endpoint_id" {
  description = "RunPod serverless endpoint that runs the worker."
  value       = runpod_endpoint.worker.id
}

output "runpod_network_volume_id" {
  description = "Network volume to upload the weights to (README: Upload the weights)."
  value       = runpod_network_volume.weights.id
}

output "dead_letter_subscriptions" {
  description = "Pull subscriptions holding each topic's dead letters."
  value       = { for topic, sub in google_pubsub_subscription.dead_letter_hold : topic => sub.name }
}

output "function_urls" {
  description = "Direct URLs of the functions (they only admit the gateway or their push subscription)."
  value       = { for name, fn in google_cloudfunctions2_function.fn : name => fn.service_config[0].uri }
}
