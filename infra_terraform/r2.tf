# Videos (videos/, with each clip's poster and preview beside its MP4) and uploaded input images
# (inputs/) live one day. expire_jobs deletes them when
# the job expires (VIDEO_TTL_HOURS); the lifecycle rule is the backstop for anything it misses.

locals {
  video_ttl_hours      = 24
  r2_object_max_age_s  = 86400
  r2_expiring_prefixes = ["videos/", "inputs/"]
  r2_endpoint_url      = "https://${var.cloudflare_account_id}.r2.cloudflarestorage.com"
}

resource "cloudflare_r2_bucket" "outputs" {
  account_id = var.cloudflare_account_id
  name       = var.r2_bucket
  location   = var.r2_location
}

resource "cloudflare_r2_bucket_lifecycle" "outputs" {
  account_id  = var.cloudflare_account_id
  bucket_name = cloudflare_r2_bucket.outputs.name

  rules = concat(
    [
      for prefix in local.r2_expiring_prefixes : {
        id      = "delete-${trimsuffix(prefix, "/")}-after-1-day"
        enabled = true
        conditions = {
          prefix = prefix
        }
        delete_objects_transition = {
          condition = {
            type    = "Age"
            max_age = local.r2_object_max_age_s
          }
        }
      }
    ],
    [
      {
        id      = "abort-stale-multipart-uploads"
        enabled = true
        conditions = {
          prefix = ""
        }
        abort_multipart_uploads_transition = {
          condition = {
            type    = "Age"
            max_age = local.r2_object_max_age_s
          }
        }
      }
    ],
  )
}

# Browsers fetch videos straight from R2 through presigned URLs.
resource "cloudflare_r2_bucket_cors" "outputs" {
  account_id  = var.cloudflare_account_id
  bucket_name = cloudflare_r2_bucket.outputs.name

  rules = [
    {
      id = "web-app-reads-videos"
      allowed = {
        methods = ["GET", "HEAD"]
        origins = var.web_origins
        headers = ["Range"]
      }
      expose_headers  = ["Accept-Ranges", "Content-Length", "Content-Range", "Content-Type", "ETag"]
      max_age_seconds = 3600
    }
  ]
}
