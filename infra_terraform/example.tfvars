# Copy to an untracked prod.tfvars (any *.tfvars here is git-ignored) and fill in.
# Secrets are better passed as TF_VAR_secret_values / TF_VAR_worker_r2_* from a secret store.
project_id                 = "cineweave-prod"
region                     = "europe-west1"
firestore_location         = "europe-west1"
web_origins                = ["https://app.cineweave.example"]
clerk_issuer               = "https://clerk.cineweave.example"
admin_user_ids             = []
cloudflare_account_id      = "0123456789abcdef0123456789abcdef"
alert_notification_channel = "projects/cineweave-prod/notificationChannels/1234567890"
worker_image               = "ghcr.io/cineweave/worker@sha256:0000000000000000000000000000000000000000000000000000000000000000"

# secret_values = {
#   RUNPOD_API_KEY        = "..."   # a key that may only run jobs on the endpoint
#   RUNPOD_WEBHOOK_SECRET = "..."   # openssl rand -hex 32
#   R2_ACCESS_KEY_ID      = "..."   # functions' R2 token: read, write, delete on the bucket
#   R2_SECRET_ACCESS_KEY  = "..."
# }
# worker_r2_access_key_id     = "..."  # worker's R2 token: object read & write on the bucket
# worker_r2_secret_access_key = "..."
# worker_c2pa_cert_chain_pem  = "..."  # C2PA signing chain (PEM, leaf first) and its ES256 key
# worker_c2pa_private_key_pem = "..."
