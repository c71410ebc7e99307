# The GPU worker: a network volume with the Wan 2.2 TI2V-5B weights, a template for the worker
# image, and a serverless endpoint on H100s with one worker kept warm (the model stays loaded).
#
# Attribute names follow the 2.0 provider (generated from RunPod's REST v2 API: image, disk,
# serverless ...). `terraform validate` after `terraform init` confirms them against the schema.

locals {
  wan_weights_dir      = "/runpod-volume/Wan2.2-TI2V-5B-Diffusers"
  moderation_model_dir = "/runpod-volume/nsfw_image_detection" # Falconsai/nsfw_image_detection (Apache-2.0)
  wan_fast_weights_dir = "/runpod-volume/FastWan2.2-TI2V-5B-FullAttn-Diffusers"
}

resource "runpod_network_volume" "weights" {
  name           = "cineweave-weights"
  size           = var.network_volume_size_gb
  data_center_id = var.runpod_data_center_id
}

resource "runpod_template" "worker" {
  name       = "cineweave-worker"
  image      = var.worker_image
  serverless = true
  disk       = 30

  env = {
    WAN_WEIGHTS_DIR          = local.wan_weights_dir
    WAN_FAST_WEIGHTS_DIR     = local.wan_fast_weights_dir # read only when var.fast_weights_deployed says it is there
    WAN_TINY_FALLBACK        = "false"                    # production fails loudly without the weights
    MODERATION_MODEL_DIR     = local.moderation_model_dir
    MODERATION_TINY_FALLBACK = "false" # without the classifier the worker refuses to start: never unmoderated
    R2_ENDPOINT_URL          = local.r2_endpoint_url
    R2_BUCKET                = cloudflare_r2_bucket.outputs.name
    R2_ACCESS_KEY_ID         = var.worker_r2_access_key_id
    R2_SECRET_ACCESS_KEY     = var.worker_r2_secret_access_key
    # Content Credentials: production signs with its own certificate, never the local test CA.
    C2PA_CERT_CHAIN_PEM   = var.worker_c2pa_cert_chain_pem
    C2PA_PRIVATE_KEY_PEM  = var.worker_c2pa_private_key_pem
    C2PA_TEST_CREDENTIALS = "false"
  }
}

resource "runpod_endpoint" "worker" {
  name        = "cineweave-wan22"
  template_id = runpod_template.worker.id

  gpu_type_ids    = var.runpod_gpu_type_ids
  gpu_count       = 1
  data_center_ids = [var.runpod_data_center_id]

  workers_min          = var.runpod_workers_min
  workers_max          = var.runpod_workers_max
  idle_timeout         = var.runpod_idle_timeout_s
  execution_timeout_ms = var.runpod_execution_timeout_s * 1000
  scaler_type          = "QUEUE_DELAY"
  scaler_value         = 4
  flashboot            = true

  network_volume_id = runpod_network_volume.weights.id
}
