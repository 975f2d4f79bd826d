# One entry point for users, developers and CI. `make help` lists the targets.
STACK ?= dev
PYTHON ?= python3
VENV := venv
PY := $(VENV)/bin/python
PYTEST := $(PY) -m pytest
LOCK := requirements.lock
POLICY_VENV := policy/venv
POLICY_LOCK := policy/requirements.txt

.PHONY: help e2e-lane cluster-lane venv venv-deploy venv-policy policy-test lock provision provision-swarm cluster-image clean-machine lint docs test test-unit test-nginx test-nginx-configs test-nginx-live test-nginx-live-pools test-nginx-live-rest test-e2e test-cluster validate render-nginx deploy bench

help:
	@echo "make deploy [STACK=dev]        deploy a stack on the local swarm (local state); installs the SDK's Pulumi CLI, and Docker as root on Debian/Ubuntu"
	@echo "make test                      lint, provision docker, swarm, images and nginx, then run every test"
	@echo "make lint                      ruff (lint and format check) and mypy"
	@echo "make lock                      rewrite requirements.lock and policy/requirements.txt (every dependency, with hashes)"
	@echo "make venv-deploy               the virtualenv \`pulumi up\` needs and nothing else, from requirements.lock"
	@echo "make venv-policy               the policy pack's virtualenv (policy/venv), from policy/requirements.txt"
	@echo "make policy-test               the policy pack's tests: its rules against the program's own services"
	@echo "make clean-machine             undo make test's provisioning (test services, images, swarm, dockerd, caches)"
	@echo "make docs                      rewrite the config table in docs/configuration.md from Pulumi.yaml"
	@echo "make test-unit                 unit tests (Pulumi mock runtime, no Docker)"
	@echo "make test-nginx                generated configs against a real nginx 1.30 (test-nginx-configs: nginx -t; test-nginx-live: nginx on loopback)"
	@echo "make test-e2e                  end-to-end on a real single-node swarm"
	@echo "make test-cluster              the program on a real 3-node swarm (Docker-in-Docker nodes), node failures under load"
	@echo "make validate STACK=name       run the program for Pulumi.<name>.yaml under mocks; list config errors"
	@echo "make render-nginx STACK=name   print the nginx config the program generates for a stack"
	@echo "make bench                     zero-downtime benchmark against the tutorial's setup: a rollout, the edge's own changes, what the edge and the L7 tier cost"

# What the deploy jobs run `pulumi up` with, and nothing else: every file checked
# against the lock's hashes, no dependency resolved at install time, no package
# built from source.
venv-deploy: $(VENV)/.installed-deploy

$(VENV)/.installed-deploy: $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps --only-binary :all: -r $(LOCK)
	touch $@

# The same, then the tools: tests and developers run the versions that deploy.
# requirements-nodeps.txt: what the tests import whose declared dependencies the lock contradicts.
venv: $(VENV)/.installed

$(VENV)/.installed: $(VENV)/.installed-deploy requirements.txt requirements-dev.txt requirements-nodeps.txt pyproject.toml
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -r requirements-nodeps.txt
	touch $@

# The virtualenv PulumiPolicy.yaml names, which `pulumi preview --policy-pack policy`
# runs the pack in: checked against the pack's lock as venv-deploy is against the program's.
venv-policy: $(POLICY_VENV)/.installed

$(POLICY_VENV)/.installed: $(POLICY_LOCK)
	$(PYTHON) -m venv $(POLICY_VENV)
	$(POLICY_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps --only-binary :all: -r $(POLICY_LOCK)
	touch $@

# Keeps the lock's other pins; after changing requirements.txt, run it and commit both.
lock: venv
	CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe \
		--strip-extras --no-emit-find-links --no-emit-index-url --output-file $(LOCK) requirements.txt
	cd policy && CUSTOM_COMPILE_COMMAND="make lock" ../$(VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe \
		--strip-extras --no-emit-find-links --no-emit-index-url --output-file requirements.txt requirements.in

provision:
	bash scripts/provision.sh all

provision-swarm:
	bash scripts/provision.sh swarm

cluster-image:
	bash scripts/provision.sh cluster-image

clean-machine:
	bash scripts/provision.sh clean
	rm -rf $(VENV)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/mypy policy/__main__.py
	$(VENV)/bin/mypy provider/__main__.py

docs: venv
	$(PY) -m tools.config_docs

# On the 2 cores: provisioning for the single-node suites (the virtualenv beside
# it). Then the two swarm suites side by side, since both mostly wait on Swarm:
# the single-node suite, then the unit tests, in one lane; the cluster's node
# image and the cluster suite, then everything else, one after the other, in the
# other (about as long).
test:
	$(MAKE) --no-print-directory -j2 --output-sync=target provision-swarm venv
	$(MAKE) --no-print-directory -j2 --output-sync=target e2e-lane cluster-lane

# One make target per lane, so that each has a core from its start; one make per
# step, since a make with several goals takes any job slot that frees up (the one
# provision-swarm leaves before the suites start) to run two.
e2e-lane:
	$(MAKE) --no-print-directory test-e2e
	$(MAKE) --no-print-directory test-unit

cluster-lane:
	$(MAKE) --no-print-directory test-cluster
	$(MAKE) --no-print-directory test-nginx-live-pools
	$(MAKE) --no-print-directory test-nginx-live-rest
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory test-nginx-configs

test-unit: venv
	bash scripts/provision.sh test-tools
	$(PYTEST) tests/unit

policy-test: venv
	$(PYTEST) tests/unit/policy

test-nginx: test-nginx-configs test-nginx-live

# nginx -t (and gixy) over every config the program can render: no port is opened.
NGINX_CONFIG_TESTS := tests/nginx/test_nginx_config_matrix.py tests/nginx/test_generated_stacks.py

test-nginx-configs: venv
	bash scripts/provision.sh rootfs
	$(PYTEST) $(NGINX_CONFIG_TESTS)

# nginx itself on loopback addresses, with real backends and load; in two halves of
# about the same length, so that make test runs one in each lane.
NGINX_POOL_TESTS := tests/nginx/test_nginx_loopback.py tests/nginx/test_proxy_tier.py

test-nginx-live: test-nginx-live-pools test-nginx-live-rest

test-nginx-live-pools: venv
	bash scripts/provision.sh rootfs
	$(PYTEST) $(NGINX_POOL_TESTS)

test-nginx-live-rest: venv
	bash scripts/provision.sh rootfs
	bash scripts/provision.sh load-balancer
	bash scripts/provision.sh test-tools
	$(PYTEST) tests/support tests/nginx $(addprefix --ignore=,$(NGINX_CONFIG_TESTS) $(NGINX_POOL_TESTS))

test-e2e: venv provision-swarm
	$(PYTEST) --durations=10 tests/e2e

test-cluster: venv provision
	$(PYTEST) --durations=10 tests/cluster  # the slowest, for where the time goes

validate: venv
	$(PY) -m tools.validate $(STACK)

render-nginx: venv
	@$(PY) -m tools.render_nginx $(STACK)

deploy: venv
	bash scripts/deploy-local.sh $(STACK)

bench: venv provision
	bash scripts/provision.sh load-tools
	$(PY) -m bench
