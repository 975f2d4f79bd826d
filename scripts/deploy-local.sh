#!/usr/bin/env bash
# Deploy a stack to the local Docker Engine's swarm with the Pulumi CLI, keeping
# Pulumi's state in local files (no Pulumi Cloud account needed).
set -euo pipefail
stack="${1:-dev}"
cd "$(dirname "$0")/.."

command -v pulumi >/dev/null || { echo "deploy: the Pulumi CLI is not installed (see Pulumi's install docs)" >&2; exit 1; }
docker info >/dev/null 2>&1 || { echo "deploy: Docker does not answer; start the Docker Engine first" >&2; exit 1; }
[ -f "Pulumi.$stack.yaml" ] || { echo "deploy: no Pulumi.$stack.yaml; stacks: $(ls Pulumi.*.yaml | sed -E "s/Pulumi\.(.*)\.yaml/\1/" | tr "\n" " ")" >&2; exit 1; }

if [ "$(docker info --format '{{.Swarm.LocalNodeState}}')" != "active" ]; then
  echo "deploy: initialising a single-node swarm"
  docker swarm init --advertise-addr 127.0.0.1 >/dev/null
fi

# Local state under ~/.pulumi unless the caller chose a backend.
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://~}"
# The passphrase encrypts the stack's secrets in that state. Never an empty one
# behind the user's back: the CLI asks for it on a terminal; elsewhere it must be given.
if [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ] && ! [ -t 0 ]; then
  echo "deploy: set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE (the passphrase of the stack's secrets), or run this on a terminal to be asked" >&2
  exit 1
fi

pulumi stack select --create "$stack"
bash scripts/pulumi-up.sh "$stack"
