"""Does infra_terraform/ deploy what the code needs, and no more? Offline, without providers.

Every check takes the parsed Terraform (``hcl_eval.Config``) and the code's own account of
itself (``code_model.CodeModel``) and returns findings; an empty list means they agree. The
tests run them on the real tree and on mutated copies, to show each check can fail.
"""

from __future__ import annotations

import base64
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path

from code_model import CodeModel, Needs
from hcl_eval import Instance
from terraform_model import Finding, Infra, refers, service_account_address

from schemas.r2 import LIFECYCLE_MAX_AGE_S

RUN_INVOKER = "roles/run.invoker"
SECRET_ACCESSOR = "roles/secretmanager.secretAccessor"
PUBLISHER = "roles/pubsub.publisher"
SUBSCRIBER = "roles/pubsub.subscriber"
DATASTORE_USER = "roles/datastore.user"
BROAD_ROLES = {"roles/owner", "roles/editor"}
WAN_WEIGHTS_DIR = "/runpod-volume/Wan2.2-TI2V-5B-Diffusers"
R2_MAX_AGE_S = LIFECYCLE_MAX_AGE_S  # the product keeps videos and inputs one day
MIN_PYTHON = (3, 11)

# Composite indexes the code's queries need (field, direction), with the query that needs each:
REQUIRED_INDEXES = {
    ("jobs", (("userId", "ASCENDING"), ("createdAt", "DESCENDING"))): "jobs_api.list_jobs, admin.list_jobs",
    ("jobs", (("status", "ASCENDING"), ("createdAt", "DESCENDING"))): "admin.list_jobs",
    ("payments", (("userId", "ASCENDING"), ("createdAt", "DESCENDING"))): "payments.get_account, known_truelayer_user",
    ("jobs", (("status", "ASCENDING"), ("expiresAt", "ASCENDING"))): "expiry.expire_videos",
    ("jobs", (("status", "ASCENDING"), ("updatedAt", "ASCENDING"))): "expiry.reconcile_running / reannounce_stalled",
    ("payments", (("state", "ASCENDING"), ("updatedAt", "ASCENDING"))): "admin.daily_stats (settled sums per day)",
    ("users", (("activeWeeks", "CONTAINS"), ("createdAt", "ASCENDING"))): "metrics.admin_metrics (retention cohorts)",
}
TTL_FIELDS = {("idempotency", "expiresAt"), ("truelayer_events", "expiresAt"),  # records of processed requests and events
              ("rateLimits", "expiresAt"),  # rate-limit counters
              ("tick_failures", "expiresAt")}  # records a clock-tick step skipped (30 days)


def suggested_entry(needs: Needs) -> str:
    """The local.functions entry to paste into infra_terraform/functions.tf."""
    quoted = lambda items: "[" + ", ".join(f'"{i}"' for i in sorted(items)) + "]"  # noqa: E731
    warm = "var.http_min_instances" if needs.trigger == "http" else "0"
    return (
        f"    {needs.name} = {{\n"
        f'      trigger = "{needs.trigger}", memory = "256Mi", timeout_s = {30 if needs.trigger == "http" else 60}, '
        f"min_instances = {warm}, max_instances = 10\n"
        f"      env       = {quoted(needs.env)}\n"
        f"      secrets   = {quoted(needs.secrets)}\n"
        f"      publishes = {quoted(needs.publishes)}\n"
        f"      firestore = {'true' if needs.uses_store else 'false'}\n"
        f"    }}"
    )


# --- the checks ------------------------------------------------------------------------------
def check_functions(infra: Infra, code: CodeModel) -> list[Finding]:
    """Every entry point is deployed with the right trigger; every deployed one exists in code."""
    findings = []
    push_targets = _push_targets(infra)
    ack_deadline = code.delivery[0].ack_deadline_s
    for entry, trigger in code.entry_points.items():
        fn = infra.functions.get(entry)
        if fn is None:
            findings.append(Finding("functions", entry, f"{trigger} entry point of functions/main.py is not deployed; "
                                    f"add to local.functions:\n{suggested_entry(code.needs(entry))}"))
            continue
        build, service = fn.block("build_config"), fn.block("service_config")
        runtime = str(build.get("runtime", ""))
        match = re.fullmatch(r"python3(\d+)", runtime)
        if not match or (3, int(match.group(1))) < MIN_PYTHON:
            findings.append(Finding("functions", entry, f"runtime {runtime!r} is not Python 3.11+"))
        if not fn.block("build_config", "source", "storage_source"):
            findings.append(Finding("functions", entry, "has no source zip (build_config.source.storage_source)"))
        if len(str(fn.attrs.get("name", ""))) > 50:  # <name>-<12-digit project number> must fit a 63-character DNS label
            findings.append(Finding("functions", entry, "name too long for a deterministic run.app URL (the gateway routes to it)"))
        if fn.attrs.get("event_trigger"):
            findings.append(Finding("functions", entry, "has an event_trigger; topics reach functions through the push subscriptions of pubsub.tf"))
        if trigger == "http":
            if not isinstance(service.get("min_instance_count"), int) or service["min_instance_count"] < 1:
                findings.append(Finding("functions", entry, "HTTP function keeps no warm instance (min_instance_count < 1)"))
            if push_targets.get(fn.address):
                findings.append(Finding("functions", entry, "HTTP function is the target of a push subscription"))
        else:
            consumed = [t for t, (_, consumer) in code.topics.items() if consumer == entry]
            if not consumed:
                findings.append(Finding("functions", entry, "event entry point consumes no topic of schemas/topics.py"))
            timeout = service.get("timeout_seconds")
            if isinstance(timeout, int) and timeout > ack_deadline:
                findings.append(Finding("functions", entry, f"timeout {timeout}s exceeds the ack deadline {ack_deadline}s: Pub/Sub would redeliver while it runs"))
            if service.get("ingress_settings") != "ALLOW_INTERNAL_ONLY":
                findings.append(Finding("functions", entry, "event function accepts traffic from outside the project (ingress_settings)"))
    for entry, fn in infra.functions.items():
        if entry not in code.entry_points:
            findings.append(Finding("functions", entry, f"{fn.address} deploys an entry point that functions/main.py does not define"))
    identities = defaultdict(list)
    for entry, fn in infra.functions.items():
        identities[service_account_address(fn.block("service_config").get("service_account_email", ""))].append(entry)
    for sa, entries in identities.items():
        if sa is None or len(entries) > 1:
            findings.append(Finding("functions", ", ".join(sorted(entries)), "functions need one service account each"))
    return findings


def check_topics(infra: Infra, code: CodeModel) -> list[Finding]:
    """Every topic of the registry exists with its DLQ, push subscription, policies and grants."""
    findings = []
    delivery, suffix = code.delivery
    agent = "google_project_service_identity.pubsub"
    for name, (_, consumer) in code.topics.items():
        subject = name
        topic, dead = infra.topics.get(name), infra.topics.get(name + suffix)
        if topic is None:
            findings.append(Finding("topics", subject, "topic of schemas/topics.py has no google_pubsub_topic"))
            continue
        if dead is None:
            findings.append(Finding("topics", subject, f"has no dead-letter topic {name + suffix}"))
        pushes = [s for s in infra.subscriptions if refers(s.attrs.get("topic"), topic.address) and s.attrs.get("push_config")]
        if len(pushes) != 1:
            findings.append(Finding("topics", subject, f"needs exactly one push subscription, has {len(pushes)}"))
            continue
        sub = pushes[0]
        fn = infra.functions.get(consumer)
        push = sub.block("push_config")
        if fn is None or not refers(push.get("push_endpoint"), fn.address):
            findings.append(Finding("topics", subject, f"{sub.address} does not push to the consumer {consumer}"))
        oidc_sa = service_account_address(push.get("oidc_token", [{}])[0].get("service_account_email") if push.get("oidc_token") else None)
        if not oidc_sa:
            findings.append(Finding("topics", subject, f"{sub.address} pushes without an OIDC token"))
        elif fn is not None:
            invokers = [g for g in infra.grants_on(fn.address, RUN_INVOKER) if refers(g.member, oidc_sa)]
            if not invokers:
                findings.append(Finding("topics", subject, f"push identity {oidc_sa} may not invoke {consumer} (roles/run.invoker)"))
        if sub.attrs.get("ack_deadline_seconds") != delivery.ack_deadline_s:
            findings.append(Finding("topics", subject, f"ack deadline is not DELIVERY.ack_deadline_s = {delivery.ack_deadline_s}"))
        retry = sub.block("retry_policy")
        if retry.get("minimum_backoff") != f"{delivery.min_backoff_s}s" or retry.get("maximum_backoff") != f"{delivery.max_backoff_s}s":
            findings.append(Finding("topics", subject, f"retry_policy is not {delivery.min_backoff_s}s..{delivery.max_backoff_s}s (DELIVERY)"))
        dlp = sub.block("dead_letter_policy")
        if not dlp or dead is None or not refers(dlp.get("dead_letter_topic"), dead.address):
            findings.append(Finding("topics", subject, f"{sub.address} does not dead-letter to {name + suffix}"))
        elif dlp.get("max_delivery_attempts") != delivery.max_delivery_attempts:
            findings.append(Finding("topics", subject, f"max_delivery_attempts is not DELIVERY's {delivery.max_delivery_attempts}"))
        if not [g for g in infra.grants_on(sub.address, SUBSCRIBER) if agent in g.member]:
            findings.append(Finding("topics", subject, "the Pub/Sub service agent is not subscriber on the push subscription (dead-lettering fails)"))
        if dead is not None:
            holds = [s for s in infra.subscriptions if refers(s.attrs.get("topic"), dead.address) and not s.attrs.get("push_config")]
            if not holds:
                findings.append(Finding("topics", subject, "dead letters have no pull subscription to hold them"))
            if not [g for g in infra.grants_on(dead.address, PUBLISHER) if agent in g.member]:
                findings.append(Finding("topics", subject, "the Pub/Sub service agent may not publish to the dead-letter topic"))
    known = set(code.topics) | {t + suffix for t in code.topics}
    for name, topic in infra.topics.items():
        if name not in known:
            findings.append(Finding("topics", name, f"{topic.address} is not a topic of schemas/topics.py"))
    return findings


def check_publishers(infra: Infra, code: CodeModel) -> list[Finding]:
    """Each topic is published by exactly the functions whose code publishes its event (or Scheduler)."""
    findings = []
    needs = code.all_needs()
    scheduled = _scheduled_topics(infra)
    for name in code.topics:
        topic = infra.topics.get(name)
        if topic is None:
            continue  # check_topics reports it
        wanted = {entry for entry, n in needs.items() if name in n.publishes}
        granted, strangers = set(), []
        for grant in infra.grants_on(topic.address, PUBLISHER):
            entry = infra.function_identities.get(service_account_address(grant.member) or "")
            (granted.add(entry) if entry else strangers.append(grant.member))
        for entry in sorted(wanted - granted):
            findings.append(Finding("publishers", name, f"{entry} publishes {code.topics[name][0]} but may not publish to {name}"))
        for entry in sorted(granted - wanted):
            findings.append(Finding("publishers", name, f"{entry} may publish to {name} but its code never does"))
        for member in strangers:
            findings.append(Finding("publishers", name, f"{member} may publish to {name} and is no function"))
        if not wanted and name not in scheduled:
            findings.append(Finding("publishers", name, "nothing publishes to this topic: no function, no Scheduler job"))
    for grant in infra.grants:
        if grant.role in BROAD_ROLES | {PUBLISHER} and grant.resource.startswith("google_project_iam"):
            findings.append(Finding("publishers", grant.resource, f"project-wide {grant.role} for {grant.member}"))
    for entry, n in needs.items():
        for event in n.unknown_events:
            findings.append(Finding("publishers", entry, f"publishes {event}, which no topic of schemas/topics.py carries"))
    return findings


def check_settings(infra: Infra, code: CodeModel) -> list[Finding]:
    """Every setting a function reads is set (or deliberately defaulted); secrets are mounted, not set."""
    findings = []
    settings_env = infra.local("settings_env")
    if not isinstance(settings_env, dict):
        return [Finding("settings", "local.settings_env", "missing: it maps every Settings env var to its value")]
    secret_envs = {s.env for s in code.settings.values() if s.secret}
    for setting in code.settings.values():
        if not setting.secret and setting.env not in settings_env:
            findings.append(Finding("settings", setting.env, f"Settings.{setting.field} has no entry in local.settings_env (a value, or null for the code default)"))
    for env in settings_env:
        if env in secret_envs:
            findings.append(Finding("settings", env, "a secret must not be a plain env value in local.settings_env"))
    for entry, fn in infra.functions.items():
        if entry not in code.entry_points:
            continue
        needs = code.needs(entry)
        service = fn.block("service_config")
        env = service.get("environment_variables") or {}
        if not isinstance(env, dict):
            findings.append(Finding("settings", entry, "environment_variables cannot be evaluated offline"))
            continue
        for name in sorted(needs.env - set(env)):
            if name not in settings_env or settings_env[name] is not None:
                findings.append(Finding("settings", entry, f"reads {name} but it is not set"))
        for name in sorted(set(env) - needs.env):
            findings.append(Finding("settings", entry, f"sets {name}, which its code never reads"))
        for name in sorted(set(env) & secret_envs):
            findings.append(Finding("settings", entry, f"gets secret {name} as a plain env var"))
        mounted = {m.get("key"): m for m in service.get("secret_environment_variables", []) or []}
        for name in sorted(needs.secrets - set(mounted)):
            findings.append(Finding("settings", entry, f"reads secret {name} but it is not mounted"))
        for name in sorted(set(mounted) - needs.secrets):
            findings.append(Finding("settings", entry, f"mounts secret {name}, which its code never reads"))
        secrets = _secrets_by_env(infra, code)
        for name, mount in mounted.items():
            secret = secrets.get(name)
            if secret is None or not refers(mount.get("secret"), secret.address):
                findings.append(Finding("settings", entry, f"mount {name} does not come from the Secret Manager secret {_secret_id(name)}"))
    return findings


def check_secrets(infra: Infra, code: CodeModel) -> list[Finding]:
    """Every SecretStr setting is a Secret Manager secret, readable by exactly the functions using it."""
    findings = []
    needs = code.all_needs()
    secrets = _secrets_by_env(infra, code)
    for env in sorted(s.env for s in code.settings.values() if s.secret):
        secret = secrets.get(env)
        if secret is None:
            findings.append(Finding("secrets", env, f"SecretStr setting has no google_secret_manager_secret {_secret_id(env)}"))
            continue
        wanted = {entry for entry, n in needs.items() if env in n.secrets}
        readers, strangers = set(), []
        for grant in infra.grants_on(secret.address, SECRET_ACCESSOR):
            entry = infra.function_identities.get(service_account_address(grant.member) or "")
            (readers.add(entry) if entry else strangers.append(grant.member))
        for entry in sorted(wanted - readers):
            findings.append(Finding("secrets", env, f"{entry} uses it but may not read it (no secretAccessor binding)"))
        for entry in sorted(readers - wanted):
            findings.append(Finding("secrets", env, f"{entry} may read it but never uses it"))
        for member in strangers:
            findings.append(Finding("secrets", env, f"{member} may read it and is no function"))
    known = {_secret_id(s.env) for s in code.settings.values() if s.secret}
    for secret in infra.instances("google_secret_manager_secret"):
        if secret.attrs.get("secret_id") not in known:
            findings.append(Finding("secrets", str(secret.attrs.get("secret_id")), f"{secret.address} holds no SecretStr setting of functions/settings.py"))
    for grant in infra.grants:
        if grant.resource.startswith("google_project_iam") and grant.role in BROAD_ROLES | {SECRET_ACCESSOR}:
            findings.append(Finding("secrets", grant.resource, f"project-wide {grant.role} reads every secret"))
    return findings


def check_access(infra: Infra, code: CodeModel) -> list[Finding]:
    """Who may invoke each function, and who may use Firestore."""
    findings = []
    gateway_sa = _gateway_identity(infra)
    push_sa = {}
    for sub in infra.subscriptions:
        oidc = sub.block("push_config", "oidc_token")
        for entry, fn in infra.functions.items():
            if refers(sub.block("push_config").get("push_endpoint"), fn.address):
                push_sa.setdefault(entry, set()).add(service_account_address(oidc.get("service_account_email")))
    for entry, fn in infra.functions.items():
        invokers = {service_account_address(g.member) or g.member for g in infra.grants_on(fn.address, RUN_INVOKER)}
        invokers |= {g.member for g in infra.grants_on(fn.address, "roles/cloudfunctions.invoker")}
        expected = {gateway_sa} if code.entry_points.get(entry) == "http" else push_sa.get(entry, set())
        for member in sorted(invokers - expected, key=str):
            findings.append(Finding("access", entry, f"{member} may invoke it"))
        for member in sorted(expected - invokers, key=str):
            findings.append(Finding("access", entry, f"{member} cannot invoke it"))
        sa = service_account_address(fn.block("service_config").get("service_account_email", ""))
        datastore = [g for g in infra.grants if g.role == DATASTORE_USER and refers(g.member, sa or "-")]
        uses = entry in code.entry_points and code.needs(entry).uses_store
        if uses and not datastore:
            findings.append(Finding("access", entry, "uses Firestore but has no roles/datastore.user"))
        if datastore and not uses:
            findings.append(Finding("access", entry, "has roles/datastore.user but never uses Firestore"))
    for grant in infra.grants:
        if "allUsers" in grant.member or "allAuthenticatedUsers" in grant.member:
            findings.append(Finding("access", grant.resource, f"grants {grant.role} to {grant.member}"))
    return findings


def check_gateway(infra: Infra, code: CodeModel) -> list[Finding]:
    """The gateway routes every path of ROUTES to its (HTTP) function; webhooks are published."""
    findings = []
    backends = infra.local("gateway_backends")
    if not isinstance(backends, dict):
        return [Finding("gateway", "local.gateway_backends", "missing or not evaluable")]
    for route in code.routes:
        fn = infra.functions.get(route.function)
        if route.function not in backends:
            findings.append(Finding("gateway", f"{route.method} {route.path}", f"its function {route.function} is no gateway backend"))
        elif fn is None or not _is_url_of(backends[route.function], fn):
            findings.append(Finding("gateway", f"{route.method} {route.path}", f"backend of {route.function} is not that function's URL"))
        if code.entry_points.get(route.function) != "http":
            findings.append(Finding("gateway", f"{route.method} {route.path}", f"{route.function} is not an HTTP entry point"))
    for name in set(backends) - {r.function for r in code.routes}:
        findings.append(Finding("gateway", name, "is a gateway backend but no route of ROUTES reaches it"))
    configs = [body for (t, _), body in infra.config.resources.items() if t == "google_api_gateway_api_config"]
    if not configs or not any("local.gateway_backends" in json.dumps(body) and "gateway_document" in json.dumps(body) for body in configs):
        findings.append(Finding("gateway", "google_api_gateway_api_config", "does not render the generated document with local.gateway_backends"))
    webhooks = set((infra.local("webhook_paths") or {}).values())
    for route in code.routes:
        if route.path.startswith("/webhooks/") and route.auth == "public" and route.path not in webhooks:
            findings.append(Finding("gateway", route.path, "webhook path missing from local.webhook_paths (its URL is an output)"))
    return findings


def check_firestore(infra: Infra, code: CodeModel) -> list[Finding]:
    findings = []
    databases = infra.instances("google_firestore_database")
    if not any(db.attrs.get("type") == "FIRESTORE_NATIVE" for db in databases):
        findings.append(Finding("firestore", "database", "no Firestore database in native mode"))
    ttls = {(f.attrs.get("collection"), f.attrs.get("field")) for f in infra.instances("google_firestore_field") if f.attrs.get("ttl_config") is not None}
    for collection, field in sorted(TTL_FIELDS - ttls):
        findings.append(Finding("firestore", f"{collection}.{field}", "has no TTL policy"))
    indexes = {
        (ix.attrs.get("collection"),
         tuple((f.get("field_path"), f.get("order") or f.get("array_config")) for f in ix.attrs.get("fields", [])))
        for ix in infra.instances("google_firestore_index")
    }
    for (collection, fields), query in REQUIRED_INDEXES.items():
        if (collection, fields) not in indexes:
            findings.append(Finding("firestore", collection, f"no composite index {fields} for {query}"))
    return findings


def check_scheduler(infra: Infra, code: CodeModel) -> list[Finding]:
    """Topics no function publishes to are ticked by Scheduler with a body their model accepts."""
    findings = []
    needs = code.all_needs()
    ticks = _scheduled_topics(infra)
    for name, model in code.topic_events.items():
        if any(name in n.publishes for n in needs.values()):
            continue
        jobs = ticks.get(name, [])
        if not jobs:
            findings.append(Finding("scheduler", name, "no function publishes to it and no Scheduler job ticks it"))
        for job in jobs:
            target = job.block("pubsub_target")
            try:
                body = json.loads(base64.b64decode(str(target.get("data"))))
                model.model_validate(body)
            except Exception as exc:  # noqa: BLE001 - any failure means the consumer drops the tick as poison
                findings.append(Finding("scheduler", name, f"{job.address} sends a body that is not a valid {model.__name__}: {exc}"))
    minute = infra.topics.get("clock-ticked")
    if "clock-ticked" in code.topics and not any(j.attrs.get("schedule") == "* * * * *" for j in ticks.get("clock-ticked", [])):
        findings.append(Finding("scheduler", "clock-ticked", "is not ticked every minute" + ("" if minute else " (topic missing)")))
    return findings


def check_r2(infra: Infra, code: CodeModel) -> list[Finding]:
    """Objects under every folder the code writes are deleted after one day; the web app may read."""
    findings = []
    rules = [r for lc in infra.instances("cloudflare_r2_bucket_lifecycle") for r in (lc.attrs.get("rules") or []) if isinstance(r, dict)]
    settings_env = infra.local("settings_env") or {}
    ttl_hours = float(settings_env.get("VIDEO_TTL_HOURS") or 24)
    for prefix in sorted(code.r2_key_prefixes | {"videos/", "inputs/"}):
        covering = [r for r in rules if r.get("enabled") and prefix.startswith(str((r.get("conditions") or {}).get("prefix", "")))
                    and (r.get("delete_objects_transition") or {}).get("condition")]
        if not covering:
            findings.append(Finding("r2", prefix, "no enabled lifecycle rule deletes these objects"))
            continue
        for rule in covering:
            condition = rule["delete_objects_transition"]["condition"]
            if condition.get("type") != "Age" or condition.get("max_age") != R2_MAX_AGE_S:
                findings.append(Finding("r2", prefix, f"rule {rule.get('id')} deletes after {condition.get('max_age')}s, not one day ({R2_MAX_AGE_S}s)"))
            elif condition["max_age"] < ttl_hours * 3600:
                findings.append(Finding("r2", prefix, f"objects go before their job expires (VIDEO_TTL_HOURS={ttl_hours:g})"))
    cors = [r for c in infra.instances("cloudflare_r2_bucket_cors") for r in (c.attrs.get("rules") or [])]
    if not any("GET" in (r.get("allowed") or {}).get("methods", []) and (r.get("allowed") or {}).get("origins") for r in cors):
        findings.append(Finding("r2", "cors", "the web app's origins may not GET from the bucket"))
    return findings


def check_runpod(infra: Infra, code: CodeModel) -> list[Finding]:
    findings = []
    endpoints, templates = infra.instances("runpod_endpoint"), infra.instances("runpod_template")
    volumes = infra.instances("runpod_network_volume")
    if len(endpoints) != 1 or len(templates) != 1 or len(volumes) != 1:
        return [Finding("runpod", "resources", "expected one endpoint, one template and one network volume")]
    endpoint, template, volume = endpoints[0], templates[0], volumes[0]
    attrs = endpoint.attrs
    if not isinstance(attrs.get("workers_min"), int) or attrs["workers_min"] < 1:
        findings.append(Finding("runpod", "endpoint", "keeps no warm worker (workers_min < 1)"))
    gpus = [str(g) for g in attrs.get("gpu_type_ids") or []]
    if not gpus or "H100" not in gpus[0]:
        findings.append(Finding("runpod", "endpoint", "does not prefer the H100 (first in gpu_type_ids)"))
    if not any("L40S" in g for g in gpus[1:]):
        findings.append(Finding("runpod", "endpoint", "offers no L40S backup behind the H100"))
    prices = _gpu_price_table(infra)
    for gpu in gpus:
        if not any(_squash(key) in _squash(gpu) for key in prices):
            findings.append(Finding("runpod", gpu, "has no price in gpu_prices_usd_per_second: its jobs would be costed wrongly"))
    settings_env = infra.local("settings_env") or {}
    run_timeout = int(settings_env.get("RUNPOD_EXECUTION_TIMEOUT_S") or 900)  # 900: the Settings default
    if not isinstance(attrs.get("execution_timeout_ms"), int) or attrs["execution_timeout_ms"] < run_timeout * 1000:
        findings.append(Finding("runpod", "endpoint", f"execution timeout below the {run_timeout}s jobs are given"))
    if attrs.get("idle_timeout") is None:
        findings.append(Finding("runpod", "endpoint", "no idle timeout"))
    if not refers(attrs.get("template_id"), template.address):
        findings.append(Finding("runpod", "endpoint", "does not use the worker template"))
    if not refers(attrs.get("network_volume_id"), volume.address):
        findings.append(Finding("runpod", "endpoint", "has no network volume with the weights"))
    env = template.attrs.get("env") or {}
    if env.get("WAN_WEIGHTS_DIR") != WAN_WEIGHTS_DIR:
        findings.append(Finding("runpod", "template", f"WAN_WEIGHTS_DIR is not {WAN_WEIGHTS_DIR}"))
    for name, value in sorted(_worker_required_env().items()):
        if name not in env:
            findings.append(Finding("runpod", "template", f"the worker reads {name}, which the template does not set"))
        elif value is not None and env[name] != value:
            findings.append(Finding("runpod", "template", f"{name} must be {value!r} in production"))
    if not any(refers(env.get("R2_BUCKET"), bucket.address) for bucket in infra.instances("cloudflare_r2_bucket")):
        findings.append(Finding("runpod", "template", "R2_BUCKET is not the bucket Terraform manages"))
    return findings


ALERTS = {  # what must page someone, and a phrase its PromQL query or filter must hold
    "success rate": "user_cineweave_jobs_ended{",
    "generation p95": "histogram_quantile(0.95, sum by (le) (increase(logging_googleapis_com:user_cineweave_generation_seconds_bucket",
    "RunPod spend per hour": "user_cineweave_gpu_cost_usd_sum",
    "dead letter": "-dead-letter-hold",
}


def check_monitoring(infra: Infra, code: CodeModel) -> list[Finding]:
    """The alerts exist, page the configured channel, and read metrics the code's logs feed."""
    findings = []
    policies = infra.instances("google_monitoring_alert_policy")
    metrics = {m.address: m for m in infra.instances("google_logging_metric")}
    names = {f"${{{address}.name}}": str(m.attrs.get("name")) for address, m in metrics.items()}
    texts = {}
    for policy in policies:
        text = json.dumps(policy.attrs, default=str).replace("${local.dead_letter_suffix}", "-dead-letter")
        for address in set(re.findall(r"google_logging_metric\.[A-Za-z0-9_]+", text)):
            if address not in metrics:
                findings.append(Finding("monitoring", policy.address, f"reads {address}, which is not defined"))
        for ref, name in names.items():
            text = text.replace(ref, name)
        texts[policy.address] = text
    for alert, phrase in ALERTS.items():
        if not any(phrase in text for text in texts.values()):
            findings.append(Finding("monitoring", alert, "has no alert policy"))
    absent = " ".join(text for text in texts.values() if "condition_absent" in text)
    for tick in infra.local("clock_ticks") or {}:
        if f'google_pubsub_subscription.push[\\"{tick}\\"]' not in absent:
            findings.append(Finding("monitoring", tick, "no alert when this clock tick stops running"))
    for policy in policies:
        channels = " ".join(str(c) for c in policy.attrs.get("notification_channels") or [])
        if not refers(channels, "var.alert_notification_channel"):
            findings.append(Finding("monitoring", policy.address, "notifies no one (not var.alert_notification_channel)"))
    logged = code.log_fields
    for address, metric in metrics.items():
        text = json.dumps(metric.attrs, default=str)
        for field in sorted(set(re.findall(r"jsonPayload\.([a-z_]+)", text)) - logged):
            findings.append(Finding("monitoring", address, f"reads jsonPayload.{field}, which functions/logs.py never writes"))
    return findings


def check_graph(infra: Infra, code: CodeModel) -> list[Finding]:
    """No dependency cycle, no dangling reference (what `terraform validate` would refuse offline)."""
    findings = [Finding("graph", " -> ".join(cycle), "these refer to each other: Terraform cannot order them")
                for cycle in infra.config.dependency_cycles()]
    findings += [Finding("graph", ref, "is referenced but defined nowhere") for ref in infra.config.undefined_references()]
    return findings


CHECKS: dict[str, Callable[[Infra, CodeModel], list[Finding]]] = {
    "graph": check_graph,
    "functions": check_functions,
    "topics": check_topics,
    "publishers": check_publishers,
    "settings": check_settings,
    "secrets": check_secrets,
    "access": check_access,
    "gateway": check_gateway,
    "firestore": check_firestore,
    "scheduler": check_scheduler,
    "r2": check_r2,
    "runpod": check_runpod,
    "monitoring": check_monitoring,
}


def check(infra_dir: Path, code: CodeModel, only: Iterable[str] | None = None) -> list[Finding]:
    infra = Infra(infra_dir)
    return [f for name, fn in CHECKS.items() if only is None or name in only for f in fn(infra, code)]


# --- helpers ---------------------------------------------------------------------------------
def _squash(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())  # as functions/core/pricing.py matches GPU names


def _gpu_price_table(infra: Infra) -> dict:
    """The GPU_PRICES_USD_PER_SECOND the functions get: the JSON in local.settings_env."""
    raw = (infra.local("settings_env") or {}).get("GPU_PRICES_USD_PER_SECOND")
    try:
        return json.loads(raw) if isinstance(raw, str) else dict(raw or {})
    except (ValueError, TypeError):
        return {}


def _secret_id(env: str) -> str:
    return env.lower().replace("_", "-")


def _secrets_by_env(infra: Infra, code: CodeModel) -> dict[str, Instance]:
    by_id = {s.attrs.get("secret_id"): s for s in infra.instances("google_secret_manager_secret")}
    return {s.env: by_id[_secret_id(s.env)] for s in code.settings.values() if s.secret and _secret_id(s.env) in by_id}


def _push_targets(infra: Infra) -> dict[str, list[str]]:
    targets = defaultdict(list)
    for sub in infra.subscriptions:
        endpoint = sub.block("push_config").get("push_endpoint")
        for fn in infra.functions.values():
            if refers(endpoint, fn.address):
                targets[fn.address].append(sub.address)
    return targets


def _scheduled_topics(infra: Infra) -> dict[str, list[Instance]]:
    found = defaultdict(list)
    for job in infra.instances("google_cloud_scheduler_job"):
        target = job.block("pubsub_target").get("topic_name")
        for name, topic in infra.topics.items():
            if refers(target, topic.address):
                found[name].append(job)
    return found


def _is_url_of(url: object, fn: Instance) -> bool:
    """The function's own ``uri``, or its deterministic Cloud Run URL (service name = function name)."""
    if refers(url, fn.address):
        return True
    return isinstance(url, str) and url.startswith(f"https://{fn.attrs.get('name')}-") and url.endswith(".run.app")


def _gateway_identity(infra: Infra) -> str | None:
    for config in infra.instances("google_api_gateway_api_config"):
        sa = service_account_address(config.block("gateway_config", "backend_config").get("google_service_account"))
        if sa:
            return sa
    return None


def _worker_required_env() -> dict[str, str | None]:
    """Env the worker cannot do without in production: name -> required value (None: any)."""
    try:
        from worker_image.settings import WorkerSettings
    except ImportError:
        return {}
    from pydantic import SecretStr

    fields = WorkerSettings.model_fields
    # Every tiny fallback (Wan's, the NSFW classifier's) is off in production: noise or no moderation;
    # so are the local test credentials of C2PA (they would hide a missing signing secret).
    required: dict[str, str | None] = {name.upper(): "false" for name in fields
                                       if name.endswith("_tiny_fallback") or name == "c2pa_test_credentials"}
    for name, info in fields.items():
        default = info.get_default(call_default_factory=True)
        empty_secret = isinstance(default, SecretStr) and not default.get_secret_value()
        connection = name.startswith("r2_") and (default is None or isinstance(default, str))  # endpoint, bucket
        if empty_secret or connection:
            required[name.upper()] = None
    return required
