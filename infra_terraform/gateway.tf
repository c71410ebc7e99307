# One public host for the HTTP functions: API Gateway, configured by a Swagger 2.0 document that
# `make package` generates from functions/http/routes.py ROUTES (build/gateway-openapi.json.tftpl).
# Each path is routed to its function with path_translation APPEND_PATH_TO_ADDRESS, so the
# function sees the original path it matches on. The gateway calls the functions with a Google ID
# token of its own identity; the HTTP functions admit no one else (no allUsers invoker), and the
# caller's own Authorization header reaches them as X-Forwarded-Authorization.

locals {
  # The HTTP functions' deterministic Cloud Run URLs (https://<service>-<project number>.<region>.run.app),
  # not the resources' uri attribute: the gateway's host feeds PUBLIC_API_BASE_URL into the
  # functions, so the gateway must not depend on them (that would be a dependency cycle).
  gateway_backends = {
    for name, fn in local.functions : name => "https://${local.function_names[name]}-${data.google_project.this.number}.${var.region}.run.app"
    if fn.trigger == "http"
  }
  gateway_document    = "${path.module}/build/gateway-openapi.json.tftpl"
  public_api_base_url = coalesce(var.public_api_base_url, "https://${google_api_gateway_gateway.api.default_hostname}")

  # Paths that outside services call back (outputs.tf prints their full URLs).
  webhook_paths = {
    runpod    = "/webhooks/runpod"
    truelayer = "/webhooks/truelayer"
  }
}

resource "google_service_account" "gateway" {
  account_id   = "api-gateway"
  display_name = "CineWeave API gateway"
  description  = "The only identity allowed to invoke the HTTP functions."
}

resource "google_cloud_run_v2_service_iam_member" "gateway_invoker" {
  for_each = local.gateway_backends
  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.fn[each.key].service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.gateway.email}"
}

resource "google_api_gateway_api" "api" {
  provider     = google-beta
  api_id       = "cineweave"
  display_name = "CineWeave API"

  depends_on = [google_project_service.api]
}

resource "google_api_gateway_api_config" "api" {
  provider             = google-beta
  api                  = google_api_gateway_api.api.api_id
  api_config_id_prefix = "cineweave-"
  display_name         = "CineWeave routes"

  openapi_documents {
    document {
      path     = "openapi.json"
      contents = base64encode(templatefile(local.gateway_document, { backends = local.gateway_backends }))
    }
  }

  gateway_config {
    backend_config {
      google_service_account = google_service_account.gateway.email
    }
  }

  # A config cannot change in place; the gateway switches to the new one before the old goes.
  lifecycle {
    create_before_destroy = true
  }
}

resource "google_api_gateway_gateway" "api" {
  provider     = google-beta
  region       = var.region
  gateway_id   = "cineweave"
  api_config   = google_api_gateway_api_config.api.id
  display_name = "CineWeave"
}
