# Providers are pinned to exact versions so that a plan means the same thing on every machine.
# Commit the .terraform.lock.hcl that the first `terraform init` writes.
terraform {
  required_version = ">= 1.6.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "6.49.0"
    }
    # API Gateway resources exist only in the beta provider.
    google-beta = {
      source  = "hashicorp/google-beta"
      version = "6.49.0"
    }
    # 5.x releases up to 5.11 wrote max_age = 0 into R2 lifecycle rules (provider issues 6135,
    # 6350): keep this pin at or above a release that round-trips max_age, and check the rule
    # after apply (README: "Check the bucket lifecycle").
    cloudflare = {
      source  = "cloudflare/cloudflare"
      version = "5.22.0"
    }
    # 2.0 is generated from RunPod's REST v2 API and renamed fields (image, disk, ...).
    runpod = {
      source  = "runpod/runpod"
      version = "2.0.0"
    }
  }

  # State holds secret values (Secret Manager versions, the worker's R2 key): keep it in a
  # private, versioned bucket. `terraform init -backend-config=bucket=<state bucket>`.
  backend "gcs" {
    prefix = "cineweave"
  }
}

provider "google" {
  project = var.project_id
  region  = var.region
}

provider "google-beta" {
  project = var.project_id
  region  = var.region
}

# Reads CLOUDFLARE_API_TOKEN (R2 admin on the account).
provider "cloudflare" {}

# Reads RUNPOD_API_KEY from the operator's shell: an account key that can manage endpoints.
# The functions get their own, narrower key through var.secret_values["RUNPOD_API_KEY"].
provider "runpod" {}
