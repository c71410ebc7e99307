# Secret Manager holds every SecretStr field of functions/settings.py. A function mounts (as an
# env var) only the secrets in its `secrets` list, and only its own identity may read them.

locals {
  secret_names = toset([
    "R2_ACCESS_KEY_ID",
    "R2_SECRET_ACCESS_KEY",
    "RUNPOD_API_KEY",
    "RUNPOD_WEBHOOK_SECRET",
    "TRUELAYER_CLIENT_SECRET",
    "TRUELAYER_SIGNING_KEY_ID",
    "TRUELAYER_SIGNING_PRIVATE_KEY",
    "WEBHOOK_SECRETS_KEY",
  ])

  # function -> secret pairs, from each function's `secrets`
  secret_grants = merge([
    for name, fn in local.functions : {
      for secret in fn.secrets : "${name}/${secret}" => { function = name, secret = secret }
    }
  ]...)

  mounted_secrets = toset(flatten([for fn in local.functions : fn.secrets]))
}

resource "google_secret_manager_secret" "setting" {
  for_each  = local.secret_names
  secret_id = lower(replace(each.key, "_", "-"))

  labels = {
    app = "cineweave"
    env = lower(each.key)
  }

  replication {
    auto {}
  }

  depends_on = [google_project_service.api]
}

# A version for every secret some function mounts; a secret no function uses yet needs no value.
resource "google_secret_manager_secret_version" "value" {
  for_each    = local.mounted_secrets
  secret      = google_secret_manager_secret.setting[each.key].id
  secret_data = lookup(var.secret_values, each.key, null)

  lifecycle {
    # The new version exists before the functions move to it; the old one goes last.
    create_before_destroy = true

    precondition {
      condition     = lookup(var.secret_values, each.key, null) != null
      error_message = "secret_values lacks ${each.key}, which a deployed function mounts."
    }
  }
}

resource "google_secret_manager_secret_iam_member" "reader" {
  for_each  = local.secret_grants
  project   = var.project_id
  secret_id = google_secret_manager_secret.setting[each.value.secret].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.fn[each.value.function].email}"
}
