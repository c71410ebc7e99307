# --- Google Cloud ---------------------------------------------------------------------------
variable "project_id" {
  description = "Google Cloud project that hosts the functions, Pub/Sub, Firestore and the gateway."
  type        = string
}

variable "region" {
  description = "Region of the functions, Scheduler and the API gateway (API Gateway runs in a few regions only: europe-west1/2, us-central1, us-east1, asia-northeast1, australia-southeast1 ...)."
  type        = string
  default     = "europe-west1"
}

variable "firestore_location" {
  description = "Firestore location (a region or a multi-region such as eur3). Cannot change after creation."
  type        = string
  default     = "europe-west1"
}

variable "firestore_database" {
  description = "Firestore database id; the functions read it as FIRESTORE_DATABASE."
  type        = string
  default     = "(default)"
}

variable "functions_source_zip" {
  description = "The functions' source zip that `make package` builds (main.py at its root), relative to this folder."
  type        = string
  default     = "build/functions.zip"
}

variable "http_min_instances" {
  description = "Warm instances kept for every HTTP function (the product spec asks for 1: no cold start on the API)."
  type        = number
  default     = 1

  validation {
    condition     = var.http_min_instances >= 1
    error_message = "The HTTP functions keep at least one warm instance."
  }
}

variable "public_api_base_url" {
  description = "Public base URL of the API (a custom domain in front of the gateway). Null: the gateway's own https://<id>.gateway.dev host. RunPod's webhook URL is built from it."
  type        = string
  default     = null
}

# --- The web app and its users ----------------------------------------------------------------
variable "web_origins" {
  description = "Origins of the web app (scheme://host[:port]): CORS on the API and on the bucket, and Clerk's allowed authorized parties."
  type        = list(string)

  validation {
    condition     = length(var.web_origins) > 0 && alltrue([for o in var.web_origins : can(regex("^https://[^/]+$", o))])
    error_message = "Give at least one origin, each https://host without a path."
  }
}

variable "clerk_issuer" {
  description = "Clerk Frontend API URL, the `iss` of session tokens (e.g. https://clerk.cineweave.app)."
  type        = string
}

variable "admin_user_ids" {
  description = "Clerk user ids allowed to call the admin endpoints (besides tokens with role=admin)."
  type        = list(string)
  default     = []
}

variable "blocked_terms" {
  description = "Prompt terms refused at job creation."
  type        = list(string)
  default     = []
}

# --- Money ------------------------------------------------------------------------------------
variable "gpu_price_per_second_usd" {
  description = "What one GPU second costs when the GPU is not in gpu_prices_usd_per_second (or none was reported): the preferred type's price."
  type        = number
  default     = 0.00116
}

variable "gpu_prices_usd_per_second" {
  description = "RunPod's price of one GPU second by GPU type (keys as the worker's device name contains them); each job is costed at the price of the GPU that ran it."
  type        = map(number)
  default = {
    H100 = 0.00116
    L40S = 0.00053
  }
}

variable "usd_per_billing_unit" {
  description = "US dollars per unit of the billing currency, for the admin margin report (revenue is in GBP/EUR, GPU spend in USD)."
  type        = number
  default     = 1.27
}

variable "truelayer_environment" {
  description = "TrueLayer environment: sandbox or production."
  type        = string
  default     = "sandbox"

  validation {
    condition     = contains(["sandbox", "production"], var.truelayer_environment)
    error_message = "sandbox or production."
  }
}

variable "truelayer_client_id" {
  description = "TrueLayer client id (not secret; the client secret goes in secret_values)."
  type        = string
  default     = ""
}

variable "truelayer_merchant_account_id" {
  description = "TrueLayer merchant account that receives payments."
  type        = string
  default     = ""
}

# --- Secrets ----------------------------------------------------------------------------------
variable "secret_values" {
  description = "Values of the functions' secrets, keyed by env var name (RUNPOD_API_KEY, RUNPOD_WEBHOOK_SECRET, R2_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY, TRUELAYER_CLIENT_SECRET, ...). Every secret that a deployed function mounts must be here; set it with TF_VAR_secret_values or an untracked *.tfvars file. They end up in the state: keep it private."
  type        = map(string)
  sensitive   = true
}

# --- Cloudflare R2 ----------------------------------------------------------------------------
variable "cloudflare_account_id" {
  description = "Cloudflare account that owns the R2 bucket."
  type        = string
}

variable "r2_bucket" {
  description = "R2 bucket for videos (videos/) and uploaded input images (inputs/)."
  type        = string
  default     = "cineweave-outputs"
}

variable "r2_location" {
  description = "R2 location hint (wnam, enam, weur, eeur, apac, oc); best near the GPU workers and the users."
  type        = string
  default     = "weur"
}

# --- RunPod -----------------------------------------------------------------------------------
variable "worker_image" {
  description = "The worker image built from worker_image/Dockerfile, pinned by digest (registry/repo@sha256:...)."
  type        = string
}

variable "worker_r2_access_key_id" {
  description = "R2 access key of the worker: a token limited to Object Read & Write on the bucket, separate from the functions' key."
  type        = string
  sensitive   = true
}

variable "worker_r2_secret_access_key" {
  description = "Secret of worker_r2_access_key_id."
  type        = string
  sensitive   = true
}

variable "worker_c2pa_cert_chain_pem" {
  description = "PEM certificate chain (leaf first, no root) that signs every video's C2PA Content Credentials."
  type        = string
  sensitive   = true
}

variable "worker_c2pa_private_key_pem" {
  description = "PEM ES256 private key of worker_c2pa_cert_chain_pem's leaf."
  type        = string
  sensitive   = true
}

variable "runpod_gpu_type_ids" {
  description = "GPU types for the endpoint, in order of preference: the L40S is the backup when H100s are scarce or dear (each job is costed at its own GPU's price, gpu_prices_usd_per_second)."
  type        = list(string)
  default     = ["NVIDIA H100 80GB HBM3", "NVIDIA L40S"]
}

variable "runpod_data_center_id" {
  description = "RunPod data center of the network volume and therefore of the workers (pick one with H100 capacity)."
  type        = string
  default     = "EU-RO-1"
}

variable "runpod_workers_min" {
  description = "Always-on workers: 1 keeps the model loaded and removes the cold start (about $100/day at $0.00116/s)."
  type        = number
  default     = 1
}

variable "runpod_workers_max" {
  description = "Most workers running at once (jobs beyond wait in RunPod's queue)."
  type        = number
  default     = 3
}

variable "runpod_idle_timeout_s" {
  description = "Seconds an extra (non-minimum) worker stays up after its last job."
  type        = number
  default     = 60
}

variable "runpod_execution_timeout_s" {
  description = "Longest a job may run on a worker; the functions pass the same bound per job (RUNPOD_EXECUTION_TIMEOUT_S)."
  type        = number
  default     = 900
}

variable "network_volume_size_gb" {
  description = "Size of the network volume with the Wan 2.2 TI2V-5B weights (about 35 GB in diffusers layout; room for a second revision)."
  type        = number
  default     = 100
}

variable "fast_weights_deployed" {
  description = "Whether FastWan2.2-TI2V-5B (the fast profile's distilled weights) is on the network volume. Off: POST /jobs/create refuses quality=fast with a 422."
  type        = bool
  default     = false
}

# --- Alerts -----------------------------------------------------------------------------------
variable "alert_notification_channel" {
  description = "The Cloud Monitoring notification channel every alert goes to (projects/<project>/notificationChannels/<id>)."
  type        = string
}

variable "alert_success_rate_target" {
  description = "Alert when fewer than this share of videos succeed over an hour (functions/core/metrics.py SUCCESS_RATE_TARGET)."
  type        = number
  default     = 0.95
}

variable "alert_generation_p95_target_s" {
  description = "Alert when the p95 time from create to done of the last hour exceeds this (a 5 s clip: 1.5 x 60 s)."
  type        = number
  default     = 90
}

variable "alert_runpod_budget_usd_per_hour" {
  description = "Alert when the GPU cost of the jobs settled in the last hour exceeds this many USD."
  type        = number
  default     = 20
}
