# Zhifa developer tasks.  `make help` lists the targets.
#
# `make test` works on a fresh Debian 12 machine: as root it installs the
# PostgreSQL 15 server and the build dependencies of psycopg2 with apt-get;
# as any other user it says what to install and stops.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
PG_VERSION ?= 15
PG_BINDIR ?= $(or $(ZHIFA_PG_BINDIR),/usr/lib/postgresql/$(PG_VERSION)/bin)
PYTEST_ARGS ?=

# Touched after a successful `pip install`; pip re-runs when setup.cfg or
# pyproject.toml is newer.
STAMP := $(VENV)/.zhifa-installed

# Shell snippet: apt-get install the packages in $$missing (root only).
# Stops the Debian package from creating and starting a "main" cluster: the
# test suite starts its own server.
define APT_INSTALL
if [ -z "$$missing" ]; then exit 0; fi; \
if [ "$$(id -u)" -ne 0 ]; then \
  echo "Missing system packages:$$missing" >&2; \
  echo "Install them first, e.g.: sudo apt-get install --no-install-recommends$$missing" >&2; \
  exit 1; \
fi; \
echo "Installing system packages:$$missing"; \
mkdir -p /etc/postgresql-common/createcluster.d; \
[ -e /etc/postgresql-common/createcluster.d/zhifa.conf ] || \
  echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/zhifa.conf; \
export DEBIAN_FRONTEND=noninteractive; \
apt-get update -q -o Acquire::Retries=3 && \
apt-get install -y -q -o Acquire::Retries=3 --no-install-recommends $$missing
endef

.PHONY: help sysdeps sysdeps-build venv test demo bench lint sysdeps-node sysdeps-browser web sysdeps-documents

help: ## Show this list of targets
	@echo "Usage: make TARGET   (variables: PYTHON=$(PYTHON) VENV=$(VENV) PG_BINDIR=$(PG_BINDIR) PYTEST_ARGS=...)"
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
	  awk 'BEGIN {FS = ":.*## "}; {printf "  %-14s %s\n", $$1, $$2}'

sysdeps-build: ## Install what building the venv needs (libpq-dev, gcc, libmagic1) if missing
	@missing=""; \
	command -v pg_config >/dev/null 2>&1 || missing="$$missing libpq-dev"; \
	command -v gcc >/dev/null 2>&1 || missing="$$missing gcc"; \
	[ -e /usr/include/stdio.h ] || missing="$$missing libc6-dev"; \
	$(PYTHON) -c 'import os, sysconfig, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
	  || missing="$$missing python3-dev"; \
	$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || missing="$$missing python3-venv"; \
	{ ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null; } | grep -q 'libmagic\.so\.1' || missing="$$missing libmagic1"; \
	$(APT_INSTALL)

sysdeps: sysdeps-build sysdeps-documents ## Also install the PostgreSQL server + client the tests start (15), if missing
	@missing=""; \
	[ -x "$(PG_BINDIR)/initdb" ] && [ -x "$(PG_BINDIR)/postgres" ] || missing="$$missing postgresql-$(PG_VERSION)"; \
	[ -x "$(PG_BINDIR)/pg_isready" ] && [ -x "$(PG_BINDIR)/createdb" ] || missing="$$missing postgresql-client-$(PG_VERSION)"; \
	$(APT_INSTALL)

venv: $(STAMP) ## Create .venv and pip install -e '.[test]' (again when setup.cfg changes)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): setup.cfg pyproject.toml | $(VENV)/bin/python sysdeps-build
	$(VENV)/bin/python -m pip install --disable-pip-version-check -q -e '.[test]'
	touch $@

test: sysdeps sysdeps-browser venv web ## Run the test suite (starts its own PostgreSQL server; browser tests in Chromium)
	$(VENV)/bin/pytest -q $(PYTEST_ARGS)

demo: sysdeps-build sysdeps-documents venv web ## Run the demo (SQLite; no PostgreSQL server needed)
	$(VENV)/bin/zhifa demo

bench: venv ## Run the engine benchmarks (python -m bench.engine)
	$(VENV)/bin/python -m bench.engine

lint: venv ## ruff check engine api tests
	$(VENV)/bin/ruff check engine api tests

sysdeps-node: ## Install Node.js and npm (they install the web pages' front-end libraries) if missing
	@missing=""; \
	command -v node >/dev/null 2>&1 || missing="$$missing nodejs"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	$(APT_INSTALL)

sysdeps-browser: ## Install Debian's Chromium and a Chinese font (the browser tests) if missing
	@missing=""; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || missing="$$missing fonts-wqy-microhei"; \
	$(APT_INSTALL)

NODE_STAMP := node_modules/.zhifa-installed

web: $(NODE_STAMP) venv ## npm ci the front-end libraries; compile the message catalogues
	$(VENV)/bin/python -c 'from api.web.i18n import compile_catalogues; compile_catalogues()'

$(NODE_STAMP): package.json package-lock.json | sysdeps-node
	npm ci --no-audit --no-fund
	touch $@

sysdeps-documents: ## Install what PDF documents need (Pango, HarfBuzz-subset, a CJK font) if missing
	@missing=""; \
	lib() { for f in /usr/lib/*-linux-gnu/$$1 /lib/*-linux-gnu/$$1 /usr/lib/$$1; do [ -e "$$f" ] && return 0; done; return 1; }; \
	lib libpango-1.0.so.0 || missing="$$missing libpango-1.0-0"; \
	lib libpangoft2-1.0.so.0 || missing="$$missing libpangoft2-1.0-0"; \
	lib libharfbuzz-subset.so.0 || missing="$$missing libharfbuzz-subset0"; \
	[ -e /usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc ] || missing="$$missing fonts-noto-cjk"; \
	$(APT_INSTALL)
