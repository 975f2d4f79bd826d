#!/usr/bin/env bash
# Deploy a stack to the local Docker Engine's swarm with the Pulumi CLI, keeping
# Pulumi's state in local files (no Pulumi Cloud account needed). Installs what
# it needs first: the Pulumi CLI always, Docker Engine as root on Debian/Ubuntu.
set -euo pipefail
stack="${1:-dev}"
cd "$(dirname "$0")/.."

# The checks that need nothing installed come first, so a wrong call fails
# before any download.
[ -f "Pulumi.$stack.yaml" ] || { echo "deploy: no Pulumi.$stack.yaml; stacks: $(ls Pulumi.*.yaml | sed -E "s/Pulumi\.(.*)\.yaml/\1/" | tr "\n" " ")" >&2; exit 1; }
[ -x venv/bin/python ] || { echo "deploy: no venv; run make deploy (or make venv first)" >&2; exit 1; }

# Local state under ~/.pulumi unless the caller chose a backend.
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://~}"
# The passphrase encrypts the stack's secrets in that state. Never an empty one
# behind the user's back: the CLI asks for it on a terminal; elsewhere it must be given.
if [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ] && ! [ -t 0 ]; then
  echo "deploy: set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE (the passphrase of the stack's secrets), or run this on a terminal to be asked" >&2
  exit 1
fi

# The CLI of the SDK's version, not whatever `pulumi` the machine has. First on
# PATH: the CLI looks for its Python language host next to itself, and
# pulumi-up.sh runs the same binary.
pulumi_dir="$(venv/bin/python -m tools.pulumi_cli)"
export PATH="$pulumi_dir:$PATH"

if ! docker info >/dev/null 2>&1; then
  # Only where no Docker is installed at all and no remote engine is named:
  # a stopped engine belongs to the machine's service manager, not to us.
  if command -v docker >/dev/null || [ -n "${DOCKER_HOST:-}" ] || ! command -v apt-get >/dev/null; then
    echo "deploy: Docker does not answer; start the Docker Engine first" >&2
    exit 1
  fi
  [ "$(id -u)" = 0 ] || { echo "deploy: Docker Engine is not installed; run make deploy as root to install it from apt (scripts/provision.sh docker), or install it yourself" >&2; exit 1; }
  # As `make test` provisions it: apt's docker.io, dockerd started, a single-node swarm.
  bash scripts/provision.sh docker
fi

if [ "$(docker info --format '{{.Swarm.LocalNodeState}}')" != "active" ]; then
  echo "deploy: initialising a single-node swarm"
  docker swarm init --advertise-addr 127.0.0.1 >/dev/null
fi

pulumi stack select --create "$stack"
bash scripts/pulumi-up.sh "$stack"
