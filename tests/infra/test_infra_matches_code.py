"""infra_terraform/ deploys what the code needs: each check passes on the tree, and fails on a
copy broken the way a person would break it (a resource deleted, a list trimmed, a function or a
topic added to the code only)."""

import re
from pathlib import Path

import pytest
from code_model import CodeModel
from infra_checks import CHECKS, check
from terraform_model import Infra

INFRA = Path(__file__).resolve().parents[2] / "infra_terraform"


def findings(infra_dir: Path, code: CodeModel, name: str) -> list[str]:
    return [str(f) for f in check(infra_dir, code, only=[name])]


def edit(path: Path, old: str, new: str) -> None:
    """Replaces the first ``old`` (runs of blanks match any alignment `terraform fmt` chose)."""
    pattern = re.sub(r"(?:\\ )+", "[ \\t]+", re.escape(old))
    text, done = re.subn(pattern, lambda _: new, path.read_text(), count=1)
    assert done, f"{old!r} not in {path.name}: the test no longer matches the Terraform"
    path.write_text(text)


def drop_block(path: Path, header: str) -> None:
    """Removes the block that starts with the line ``header`` (through its closing brace)."""
    lines = path.read_text().splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(header))
    depth, end = 0, start
    for end in range(start, len(lines)):
        depth += lines[end].count("{") - lines[end].count("}")
        if depth == 0:
            break
    path.write_text("".join(lines[:start] + lines[end + 1:]))


def add_to(path: Path, text: str) -> None:
    path.write_text(path.read_text() + "\n" + text)


# --- the real tree ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def infra():
    return Infra(INFRA)


@pytest.mark.parametrize("name", list(CHECKS))
def test_infrastructure_matches_the_code(infra, code, name):
    assert [str(f) for f in CHECKS[name](infra, code)] == []


def test_the_code_model_sees_what_the_handlers_touch(code):
    """Spot checks against facts read off the handlers, so the derivation itself is pinned."""
    submit = code.needs("submit_job")
    assert submit.secrets == {"RUNPOD_API_KEY", "RUNPOD_WEBHOOK_SECRET"}
    assert "PUBLIC_API_BASE_URL" in submit.env and submit.publishes == {"job-status-changed"}
    webhook = code.needs("runpod_webhook")
    assert webhook.secrets == {"RUNPOD_WEBHOOK_SECRET"} and webhook.publishes == {"generation-finished"}
    assert code.needs("cancel_generation").secrets == {"RUNPOD_API_KEY"}  # no webhook secret, no R2 keys
    assert all(code.needs(name).uses_store for name in ("cancel_generation", "settle_job"))  # undelivered records
    assert code.needs("expire_jobs").publishes == {"job-requested", "job-reserved", "job-canceled", "job-status-changed", "payment-notified"}
    assert code.needs("deliver_webhooks").secrets == {"R2_ACCESS_KEY_ID", "R2_SECRET_ACCESS_KEY", "WEBHOOK_SECRETS_KEY"}
    assert code.needs("list_plans").secrets == frozenset()


# --- topics ----------------------------------------------------------------------------------
def test_a_topic_missing_from_terraform_fails(code, infra_copy):
    edit(infra_copy / "pubsub.tf", '"job-canceled"        = { consumer = "cancel_generation" }\n', "")
    assert any("job-canceled: topic of schemas/topics.py has no google_pubsub_topic" in f for f in findings(infra_copy, code, "topics"))


def test_deleting_the_dead_letter_topics_fails(code, infra_copy):
    drop_block(infra_copy / "pubsub.tf", 'resource "google_pubsub_topic" "dead_letter"')
    found = findings(infra_copy, code, "topics")
    for topic in code.topics:
        assert f"[topics] {topic}: has no dead-letter topic {topic}-dead-letter" in found


def test_a_push_subscription_without_dead_letter_policy_fails(code, infra_copy):
    drop_block(infra_copy / "pubsub.tf", "dead_letter_policy {")
    assert "[topics] job-requested: google_pubsub_subscription.push[\"job-requested\"] does not dead-letter to job-requested-dead-letter" in findings(infra_copy, code, "topics")


def test_a_retry_policy_other_than_delivery_fails(code, infra_copy):
    edit(infra_copy / "pubsub.tf", "max_backoff_s         = 60", "max_backoff_s         = 600")
    assert any("retry_policy is not 1s..60s (DELIVERY)" in f for f in findings(infra_copy, code, "topics"))


def test_dead_lettering_without_the_service_agent_grant_fails(code, infra_copy):
    drop_block(infra_copy / "pubsub.tf", 'resource "google_pubsub_topic_iam_member" "dead_letter_publisher"')
    assert any("service agent may not publish to the dead-letter topic" in f for f in findings(infra_copy, code, "topics"))


def test_a_topic_added_to_the_code_only_fails(code_copy, infra_copy):
    edit(code_copy / "schemas/topics.py", 'Topic("job-canceled", JobCanceled, "cancel_generation"),',
         'Topic("job-canceled", JobCanceled, "cancel_generation"),\n    Topic("video-shared", JobCanceled, "cancel_generation"),')
    found = findings(infra_copy, CodeModel(code_copy), "topics")
    assert "[topics] video-shared: topic of schemas/topics.py has no google_pubsub_topic" in found


# --- functions -------------------------------------------------------------------------------
def test_a_function_added_to_the_code_only_fails(code_copy, infra_copy):
    add_to(code_copy / "functions/main.py", (
        "@functions_framework.http\n"
        "def share_video(request: flask.Request) -> flask.Response:\n"
        '    return _http(request, "share_video", jobs_api.get_job)\n'))
    found = [f for f in findings(infra_copy, CodeModel(code_copy), "functions") if "share_video" in f]
    assert len(found) == 1 and found[0].startswith("[functions] share_video: http entry point of functions/main.py is not deployed")
    assert '"RUNPOD_API_KEY"' in found[0], "the suggested entry carries the secrets the handler needs"


def test_a_deployed_function_missing_from_the_code_fails(code, infra_copy):
    edit(infra_copy / "functions.tf", "    reserve_credits = {", '    ghost = {\n      trigger = "event", memory = "256Mi", timeout_s = 60, min_instances = 0, max_instances = 1\n'
         "      env = [], secrets = [], publishes = [], firestore = false\n    }\n    reserve_credits = {")
    assert any(f.startswith("[functions] ghost:") and "does not define" in f for f in findings(infra_copy, code, "functions"))


def test_an_http_function_without_a_warm_instance_fails(code, infra_copy):
    edit(infra_copy / "variables.tf", "  type        = number\n  default     = 1\n\n  validation {\n    condition     = var.http_min_instances",
         "  type        = number\n  default     = 0\n\n  validation {\n    condition     = var.http_min_instances")
    assert "[functions] create_job: HTTP function keeps no warm instance (min_instance_count < 1)" in findings(infra_copy, code, "functions")


# --- settings and secrets ----------------------------------------------------------------------
def test_removing_a_secret_mount_fails(code, infra_copy):
    edit(infra_copy / "functions.tf", 'secrets   = ["RUNPOD_API_KEY", "RUNPOD_WEBHOOK_SECRET"]', 'secrets   = ["RUNPOD_WEBHOOK_SECRET"]')
    assert "[settings] submit_job: reads secret RUNPOD_API_KEY but it is not mounted" in findings(infra_copy, code, "settings")
    assert "[secrets] RUNPOD_API_KEY: submit_job uses it but may not read it (no secretAccessor binding)" in findings(infra_copy, code, "secrets")


def test_deleting_the_secret_bindings_fails(code, infra_copy):
    drop_block(infra_copy / "secrets.tf", 'resource "google_secret_manager_secret_iam_member" "reader"')
    found = findings(infra_copy, code, "secrets")
    assert "[secrets] RUNPOD_WEBHOOK_SECRET: runpod_webhook uses it but may not read it (no secretAccessor binding)" in found
    assert "[secrets] RUNPOD_WEBHOOK_SECRET: submit_job uses it but may not read it (no secretAccessor binding)" in found


def test_a_secret_granted_to_a_function_that_does_not_use_it_fails(code, infra_copy):
    edit(infra_copy / "functions.tf", "      secrets   = []\n      publishes = [\"job-canceled\", \"job-status-changed\"]",
         '      secrets   = ["RUNPOD_API_KEY"]\n      publishes = ["job-canceled", "job-status-changed"]')
    assert "[secrets] RUNPOD_API_KEY: cancel_job may read it but never uses it" in findings(infra_copy, code, "secrets")
    assert "[settings] cancel_job: mounts secret RUNPOD_API_KEY, which its code never reads" in findings(infra_copy, code, "settings")


def test_a_project_wide_secret_accessor_fails(code, infra_copy):
    add_to(infra_copy / "secrets.tf", 'resource "google_project_iam_member" "everyone_reads" {\n  project = var.project_id\n'
           '  role    = "roles/secretmanager.secretAccessor"\n  member  = "serviceAccount:${google_service_account.fn["list_plans"].email}"\n}\n')
    assert any("project-wide roles/secretmanager.secretAccessor" in f for f in findings(infra_copy, code, "secrets"))


def test_a_setting_added_to_the_code_only_fails(code_copy, infra_copy):
    edit(code_copy / "functions/settings.py", "    max_active_jobs: int", '    share_base_url: str = "http://127.0.0.1"\n    webhook_signing_key: SecretStr = SecretStr("")\n    max_active_jobs: int')
    model = CodeModel(code_copy)
    assert "[settings] SHARE_BASE_URL: Settings.share_base_url has no entry in local.settings_env (a value, or null for the code default)" in findings(infra_copy, model, "settings")
    assert "[secrets] WEBHOOK_SIGNING_KEY: SecretStr setting has no google_secret_manager_secret webhook-signing-key" in findings(infra_copy, model, "secrets")


def test_a_setting_a_function_reads_but_does_not_get_fails(code, infra_copy):
    edit(infra_copy / "functions.tf", '"PUBLIC_API_BASE_URL", "RUNPOD_EXECUTION_TIMEOUT_S"', '"RUNPOD_EXECUTION_TIMEOUT_S"')
    assert "[settings] submit_job: reads PUBLIC_API_BASE_URL but it is not set" in findings(infra_copy, code, "settings")


# --- publishing and invoking -----------------------------------------------------------------
def test_a_publisher_grant_the_code_does_not_need_fails(code, infra_copy):
    edit(infra_copy / "functions.tf", '      secrets   = concat(local.r2_keys, ["RUNPOD_API_KEY"])\n      publishes = ["job-status-changed"]\n      firestore = true\n    }\n    list_jobs',
         '      secrets   = concat(local.r2_keys, ["RUNPOD_API_KEY"])\n      publishes = ["job-canceled", "job-status-changed"]\n      firestore = true\n    }\n    list_jobs')
    assert "[publishers] job-canceled: get_job may publish to job-canceled but its code never does" in findings(infra_copy, code, "publishers")


def test_a_missing_publisher_grant_fails(code, infra_copy):
    edit(infra_copy / "functions.tf", 'publishes = ["job-canceled", "job-status-changed"]', 'publishes = ["job-status-changed"]')
    assert "[publishers] job-canceled: cancel_job publishes JobCanceled but may not publish to job-canceled" in findings(infra_copy, code, "publishers")


def test_a_public_function_fails(code, infra_copy):
    add_to(infra_copy / "gateway.tf", 'resource "google_cloud_run_v2_service_iam_member" "open" {\n  location = var.region\n'
           '  name     = google_cloudfunctions2_function.fn["list_plans"].service_config[0].service\n  role     = "roles/run.invoker"\n  member   = "allUsers"\n}\n')
    found = findings(infra_copy, code, "access")
    assert "[access] list_plans: allUsers may invoke it" in found


# --- gateway, storage, clock, GPU ------------------------------------------------------------
def test_a_route_whose_function_is_no_backend_fails(code, infra_copy):
    edit(infra_copy / "gateway.tf", 'if fn.trigger == "http"', 'if fn.trigger == "http" && name != "get_job"')
    assert "[gateway] GET /jobs/{jobId}: its function get_job is no gateway backend" in findings(infra_copy, code, "gateway")


def test_a_bucket_lifecycle_longer_than_a_day_fails(code, infra_copy):
    edit(infra_copy / "r2.tf", "r2_object_max_age_s  = 86400", "r2_object_max_age_s  = 172800")
    assert any("[r2] videos/: rule delete-videos-after-1-day deletes after 172800s" in f for f in findings(infra_copy, code, "r2"))


def test_a_folder_without_lifecycle_fails(code, infra_copy):
    edit(infra_copy / "r2.tf", '["videos/", "inputs/"]', '["videos/"]')
    assert "[r2] inputs/: no enabled lifecycle rule deletes these objects" in findings(infra_copy, code, "r2")


def test_a_clock_that_does_not_tick_every_minute_fails(code, infra_copy):
    edit(infra_copy / "scheduler.tf", '"clock-ticked"         = { schedule = "* * * * *"', '"clock-ticked"         = { schedule = "*/5 * * * *"')
    assert "[scheduler] clock-ticked: is not ticked every minute" in findings(infra_copy, code, "scheduler")


def test_a_tick_body_the_event_model_refuses_fails(code, infra_copy):
    edit(infra_copy / "scheduler.tf", "jsonencode({ schemaVersion = 1 })", 'jsonencode({ schemaVersion = 2 })')
    assert any(re.match(r"\[scheduler\] clock-ticked: .* sends a body that is not a valid ClockTicked", f) for f in findings(infra_copy, code, "scheduler"))


def test_a_gpu_endpoint_without_a_warm_worker_fails(code, infra_copy):
    edit(infra_copy / "variables.tf", "Always-on workers: 1 keeps the model loaded and removes the cold start (about $100/day at $0.00116/s).\"\n  type        = number\n  default     = 1",
         "Always-on workers.\"\n  type        = number\n  default     = 0")
    assert "[runpod] endpoint: keeps no warm worker (workers_min < 1)" in findings(infra_copy, code, "runpod")


def test_a_record_collection_without_ttl_fails(code, infra_copy):
    edit(infra_copy / "firestore.tf", 'toset(["idempotency", "truelayer_events", "event_failures", "tick_failures", "webhook_deliveries"])',
         'toset(["truelayer_events", "event_failures", "tick_failures", "webhook_deliveries"])')
    assert "[firestore] idempotency.expiresAt: has no TTL policy" in findings(infra_copy, code, "firestore")


def test_a_query_without_its_index_fails(code, infra_copy):
    drop_block(infra_copy / "firestore.tf", 'resource "google_firestore_index" "payments_by_user"')
    assert any(f.startswith("[firestore] payments: no composite index") for f in findings(infra_copy, code, "firestore"))


# --- the gateway's contract with the HTTP edge -------------------------------------------------
def test_the_edge_reads_the_callers_token_behind_the_gateway():
    import flask

    from functions.adapters.clerk import Principal
    from functions.http.endpoint import serve

    seen = []

    def authenticate(token):
        seen.append(token)
        return Principal(user_id="user_1", is_admin=False)

    headers = {"Authorization": "Bearer google-id-token", "X-Forwarded-Authorization": "Bearer clerk-session-token"}
    with flask.Flask(__name__).test_request_context("/credits", method="GET", headers=headers):
        response = serve(flask.request, "get_credits", lambda call: (200, {}), authenticate, ())
    assert response.status_code == 200 and seen == ["clerk-session-token"]


def test_a_dependency_cycle_fails(code, infra_copy):
    """The gateway's host goes into the functions' env; the gateway must not wait for the functions."""
    text = (infra_copy / "gateway.tf").read_text()
    (infra_copy / "gateway.tf").write_text(re.sub(r'name => "https://[^"]*\.run\.app"', "name => google_cloudfunctions2_function.fn[name].service_config[0].uri", text, count=1))
    found = findings(infra_copy, code, "graph")
    assert len(found) == 1 and "google_api_gateway_gateway.api" in found[0] and "google_cloudfunctions2_function.fn" in found[0]


def test_a_dangling_reference_fails(code, infra_copy):
    drop_block(infra_copy / "variables.tf", 'variable "worker_image"')
    assert "[graph] var.worker_image: is referenced but defined nowhere" in findings(infra_copy, code, "graph")


# --- monitoring and GPU routing --------------------------------------------------------------
def test_each_alert_is_required(code, infra_copy):
    drop_block(infra_copy / "monitoring.tf", 'resource "google_monitoring_alert_policy" "clock_tick"')
    drop_block(infra_copy / "monitoring.tf", 'resource "google_monitoring_alert_policy" "gpu_spend"')
    found = findings(infra_copy, code, "monitoring")
    assert "[monitoring] clock-ticked: no alert when this clock tick stops running" in found
    assert "[monitoring] renewal-clock-ticked: no alert when this clock tick stops running" in found
    assert "[monitoring] RunPod spend per hour: has no alert policy" in found


def test_an_alert_reading_a_field_the_logs_never_write_fails(code, infra_copy):
    edit(infra_copy / "monitoring.tf", "EXTRACT(jsonPayload.generation_s)", "EXTRACT(jsonPayload.generation_secs)")
    assert ("[monitoring] google_logging_metric.generation_seconds: reads jsonPayload.generation_secs, which functions/logs.py "
            "never writes") in findings(infra_copy, code, "monitoring")


def test_an_alert_without_the_notification_channel_fails(code, infra_copy):
    edit(infra_copy / "monitoring.tf", "alert_channels   = [var.alert_notification_channel]", "alert_channels   = []")
    assert "[monitoring] google_monitoring_alert_policy.dead_letter: notifies no one (not var.alert_notification_channel)" in \
        findings(infra_copy, code, "monitoring")


def test_the_endpoint_offers_a_priced_l40s_behind_the_h100(code, infra_copy):
    edit(infra_copy / "variables.tf", 'default     = ["NVIDIA H100 80GB HBM3", "NVIDIA L40S"]',
         'default     = ["NVIDIA H100 80GB HBM3", "NVIDIA A40"]')
    found = findings(infra_copy, code, "runpod")
    assert "[runpod] endpoint: offers no L40S backup behind the H100" in found
    assert "[runpod] NVIDIA A40: has no price in gpu_prices_usd_per_second: its jobs would be costed wrongly" in found
