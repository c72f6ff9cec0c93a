# medcircle.cloudops: the two commands people run are `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# pip warns about every local package folder a machine's pip.conf names but lacks.
PIP_NOISE := is ignored: it is neither a file nor a directory
COLL_LINK := .collections/ansible_collections/medcircle/cloudops
SANDBOX_PORT ?= 4566
# Integration test files run side by side, each worker with sandboxes of its own.
TEST_JOBS ?= 2
SANDBOX_SEED ?= as-assessed
export SANDBOX_PORT SANDBOX_SEED
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: help venv system-deps demo-deps demo test lint sanity unit integration molecule sandbox sandbox-stop clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==26.3 2>&1 | { grep -v "$(PIP_NOISE)" || true; }; exit $${PIPESTATUS[0]}
	$(BIN)/python -m pip install --quiet -r requirements.txt 2>&1 | { grep -v "$(PIP_NOISE)" || true; }; exit $${PIPESTATUS[0]}
	touch $(STAMP)

$(COLL_LINK):
	mkdir -p $(dir $(COLL_LINK))
	ln -sfn ../../.. $(COLL_LINK)

venv: $(STAMP) $(COLL_LINK)  ## create the virtualenv with the pinned tools

system-deps:  ## Debian packages the tests need (root: apt-get)
	@bash scripts/system-deps.sh

demo-deps:  ## the Debian package make demo needs (debootstrap; root: apt-get)
	@bash scripts/system-deps.sh debootstrap

demo: venv demo-deps  ## the sandbox as assessed: audit, remediation, a DR drill, the audit after
	@bash scripts/demo.sh

test: venv system-deps lint sanity unit integration molecule  ## everything CI runs
	@echo "make test: all suites passed"

lint: venv  ## ansible-lint (production profile), yamllint, ruff
	$(BIN)/yamllint --strict .
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/ansible-lint --profile production

sanity: venv  ## ansible-test sanity on a copy of the collection
	@bash scripts/sanity.sh

unit: venv  ## unit tests (botocore Stubber, pure functions)
	$(BIN)/pytest -q tests/unit

integration: venv  ## modules and playbooks against the sandbox
	$(BIN)/python -m sandbox.rootfs base  # the Debian root that backs sandbox instances (built once, cached)
	$(BIN)/pytest -q -n $(TEST_JOBS) --dist loadfile --durations=25 tests/sandbox tests/integration

molecule: venv  ## every role's molecule scenario
	@bash scripts/molecule.sh

sandbox: venv  ## start the sandbox in the background (SANDBOX_PORT, SANDBOX_SEED)
	$(BIN)/python -m sandbox start --port $(SANDBOX_PORT) --seed $(SANDBOX_SEED) --background

sandbox-stop: venv  ## stop the background sandbox
	$(BIN)/python -m sandbox stop --port $(SANDBOX_PORT)

clean:  ## remove the virtualenv, the collection link and reports
	rm -rf $(VENV) .collections reports tests/output
