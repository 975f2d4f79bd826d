#!/usr/bin/env bash
# `pulumi up` as every deploy runs it (make deploy, the deploy workflow): first a
# refresh that leaves out the networks, configs and secrets, whose read turns one
# failed request into "gone" (swarm/refresh.py says why), then the up without a
# refresh of its own. Usage: pulumi-up.sh STACK [more `pulumi up` flags]
set -euo pipefail
stack="$1"
shift
cd "$(dirname "$0")/.."

excludes=()
while read -r pattern; do
  excludes+=(--exclude "$pattern")
done < <(venv/bin/python -m swarm_zero_downtime.swarm.refresh)
[ "${#excludes[@]}" -gt 0 ] || { echo "pulumi-up: swarm/refresh.py gave no exclusions" >&2; exit 1; }

pulumi refresh --yes --skip-preview --stack "$stack" "${excludes[@]}"
pulumi up --yes --refresh=false --stack "$stack" "$@"
