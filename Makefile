# CineWeave — `make demo` runs the main job on the local stack; `make test` runs the tests.
# Both set up what they need (a venv with pinned dependencies) on a fresh machine.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
# checkov pins its own dependencies; it lives in a venv of its own for the infra security scan.
CHECKOV := .venv-checkov/bin/checkov
# The built web app is stale when any of its sources is newer: make up / make demo rebuild it.
WEB_DIST := web/dist/index.html
WEB_MODULES := web/node_modules/.package-lock.json
WEB_SOURCES := web/index.html web/package.json web/vite.config.ts web/tsconfig.json $(shell find web/src web/public -type f 2>/dev/null)

.PHONY: demo test test-fast soak up down status bench bench-gpu schemas package prereqs clean web screenshots

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 $(PIP) install -q -e '.[functions,worker,dev]'
	@# truelayer-signing caps cryptography below 50; runpod needs 50+. Both work on 50.
	$(PIP) install -q --no-deps truelayer-signing==0.4.0
	touch $(STAMP)

$(CHECKOV):
	$(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/pip install -q checkov==3.3.30

prereqs: $(STAMP)
	@$(PY) -m devstack check

## The main job: a prompt in, a playable 720p 24 fps MP4 out, through the whole local pipeline.
demo: $(STAMP) prereqs $(WEB_DIST)
	$(PY) -m devstack.demo

## Every test: unit, integration on the emulators, end-to-end over HTTP on the local stack.
test: $(STAMP) prereqs $(CHECKOV)
	$(PY) -m schemas.export --check
	$(PY) -m pytest -q

test-fast: $(STAMP)
	$(PY) -m pytest -q tests/unit

## >= 200 jobs from 20 users through the local pipeline with seeded random faults; checks nothing is lost or paid twice.
soak: $(STAMP) prereqs
	$(PY) -m devstack.soak --jobs $(or $(JOBS),200) --users $(or $(USERS),20) --seed $(or $(SEED),1)

up: $(STAMP) prereqs $(WEB_DIST)
	$(PY) -m devstack up

down:
	@test -x $(PY) && $(PY) -m devstack down || true

status: $(STAMP)
	$(PY) -m devstack status

## Latency of the API and the pipeline on the local stack; CPU worker stages.
bench: $(STAMP) prereqs
	$(PY) -m devstack.bench

schemas: $(STAMP)
	$(PY) -m schemas.export

## The Cloud Functions source zip Terraform deploys (infra_terraform/build/).
package: $(STAMP)
	$(PY) infra_terraform/package.py

## The web app: static files in web/dist, served by the local gateway under /app/ (docs/web.md).
web: $(WEB_DIST)

$(WEB_MODULES): web/package-lock.json
	cd web && npm ci --no-audit --no-fund

$(WEB_DIST): $(WEB_MODULES) $(WEB_SOURCES)
	cd web && npm run build

## Every page at desktop and phone widths, on a stack of its own: web/screenshots/*.png.
screenshots: $(STAMP) prereqs web
	$(PY) -m tests.web.screenshots

clean: down
	rm -rf $(VENV) .venv-checkov .devstack *.egg-info
