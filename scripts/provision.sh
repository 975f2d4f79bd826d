#!/usr/bin/env bash
# Prepare this machine for the project's integration tests.
#
# No image registry is reachable and there is no systemd, so everything is made
# locally: Docker Engine from apt (started by hand, single-node swarm), a Debian sid
# root filesystem from debootstrap (sid ships nginx >= 1.27.4, which has `resolve`
# on upstream servers; bookworm's 1.22 does not), and images imported/built from it.
#
# Usage: scripts/provision.sh docker|rootfs|registry|registry-info|images|cluster-image|nginx-bin|load-balancer|test-tools|load-tools|all|clean
# Every subcommand is idempotent and quick when there is nothing to do. Progress
# goes to stderr, so stdout carries only what nginx-bin prints.
# PROVISION_CACHE overrides the cache folder (default: <repo>/.cache).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${PROVISION_CACHE:-$ROOT/.cache}"
mkdir -p "$CACHE"
CACHE="$(cd "$CACHE" && pwd)"
ROOTFS="$CACHE/rootfs"
ROOTFS_ID_FILE=etc/szd-rootfs-id # inside the rootfs; stamps one debootstrap run
DEBIAN_MIRROR="${DEBIAN_MIRROR:-}" # empty: debootstrap's default mirror
# libnginx-mod-stream: the edge passes TLS through with nginx's stream module.
DEBOOTSTRAP_PACKAGES=python3,nginx-light,libnginx-mod-stream,curl,ca-certificates
STREAM_MODULE=usr/lib/nginx/modules/ngx_stream_module.so
DEBIAN_KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
MIN_NGINX=1.27.4
BASE_IMAGE=szd-base:sid
NGINX_REPO=szd-nginx
NGINX_VARIANTS=(test next) # the e2e tests change the nginx image from one to the other
APP_REPO=szd-testapp
APP_VERSIONS=(v1 v2 bad)
# The node image of the multi-node tests (tests/cluster): Docker-in-Docker on sid.
NODE_ROOTFS="$CACHE/node-rootfs"
NODE_PACKAGES=docker.io,docker-cli,iproute2,iptables,ca-certificates,procps,tini
NODE_IMAGE=szd-node:sid
NODE_ENTRY_SRC="$ROOT/tests/fixtures/images/node/entrypoint.sh"
NODE_ENTRY=usr/local/bin/szd-node-entry # inside the node image
# What tests/cluster/nodes.py makes from it (left behind only by a killed run).
CLUSTER_NETWORK=szd-cluster
CLUSTER_LABEL=szd.cluster
# The Distribution registry the tests pull every image from, as production does
# (pulumi-docker pins digests and records platforms only for an image it finds
# on a registry). HTTPS with a CA of its own: pulumi-docker's getRegistryImage
# speaks HTTPS to any registry not configured otherwise. It listens on an
# address of its own on this machine's loopback interface: this dockerd and
# the cluster tests' Docker-in-Docker nodes (through their gateway) reach it
# there, nothing outside this machine does. Not docker0's gateway: inside a
# node, 172.17.0.1 is the node's own docker0.
# Private, as a team's registry is: every pull and push needs its user and
# password (htpasswd, which Distribution takes in bcrypt only), so the tests
# prove the credentials a stack gives pulumi-docker reach every node.
REGISTRY_DIR="$CACHE/registry"
REGISTRY_USER=szd
# The packet filter and forwarding as they were before this script first started dockerd.
HOST_NET_BEFORE="$CACHE/host-net-before"
REGISTRY_HOST=10.198.0.1
REGISTRY_PORT=15000
# The benchmark's load generators (bench/tier_cost.py); the tests do not need them,
# so `all` leaves them out.
LOAD_TOOLS=(hey wrk)

say() { printf 'provision: %s\n' "$*" >&2; }
die() {
	printf 'provision: ERROR: %s\n' "$*" >&2
	exit 1
}
# die, showing the end of a log file first.
die_log() {
	local log=$1
	shift
	tail -n 20 "$log" >&2 || true
	die "$* (full log: $log)"
}

# --- helpers -------------------------------------------------------------------

APT_UPDATED=0
apt_install() {
	[ "$(id -u)" = 0 ] || die "must run as root to apt-get install $*"
	local log="$CACHE/apt.log"
	# make test provisions in one lane while the other may install debootstrap
	# (test-nginx): wait for the other's apt lock rather than fail on it.
	local wait_lock=(-o DPkg::Lock::Timeout=600)
	if [ "$APT_UPDATED" = 0 ]; then
		say "apt-get update"
		apt-get "${wait_lock[@]}" update >"$log" 2>&1 || die_log "$log" "apt-get update failed"
		APT_UPDATED=1
	fi
	say "apt-get install $*"
	# With recommends, as checked by hand: docker.io wants apparmor on kernels that
	# enable it, debootstrap wants debian-archive-keyring to verify sid.
	DEBIAN_FRONTEND=noninteractive apt-get "${wait_lock[@]}" install -y "$@" >>"$log" 2>&1 ||
		die_log "$log" "apt-get install $* failed"
}

# Serialise the steps that change shared state (daemon, rootfs, images) between
# concurrent runs. Descriptor 9 must not leak into long-lived children (dockerd).
# The node image has a lock of its own (lock node-image): make test builds it
# while the single-node suites run, which ask for the registry and must not
# wait for it.
lock() {
	local file="$CACHE/${1:-provision}.lock"
	exec 9>>"$file"
	if ! flock -n 9; then
		say "waiting for another provision run to finish"
		flock -w 1800 9 || die "timed out waiting for $file"
	fi
}
unlock() {
	flock -u 9
	exec 9>&-
}

# rm -rf a directory that an interrupted debootstrap may have left with /proc,
# /sys or /dev mounted inside: unmount those first, never delete through them.
remove_tree() {
	local dir=$1 mnt
	[ -e "$dir" ] || return 0
	while read -r mnt; do
		umount -l "$mnt" 2>/dev/null || true
	done < <(awk -v d="$dir/" 'index($2 "/", d) == 1 { print $2 }' /proc/mounts | sort -r)
	rm -rf --one-file-system "$dir"
}

# --- docker ----------------------------------------------------------------------

DOCKER_DONE=0
cmd_docker() {
	[ "$DOCKER_DONE" = 0 ] || return 0
	if command -v dockerd >/dev/null; then
		say "docker engine: installed ($(dockerd --version | cut -d, -f1))"
	else
		apt_install docker.io
		command -v dockerd >/dev/null || die "docker.io installed but dockerd is not on PATH"
	fi
	command -v docker >/dev/null || die "docker client not found on PATH"

	if docker info >/dev/null 2>&1; then
		say "dockerd: running"
	else
		lock
		if docker info >/dev/null 2>&1; then
			say "dockerd: running (started by another run)"
		else
			start_dockerd
		fi
		unlock
	fi

	local state
	state="$(docker info --format '{{.Swarm.LocalNodeState}}')"
	case "$state" in
	active) say "swarm: active" ;;
	inactive)
		say "swarm: init --advertise-addr 127.0.0.1"
		docker swarm init --advertise-addr 127.0.0.1 >/dev/null || die "docker swarm init failed"
		# `clean` leaves only a swarm this script made.
		touch "$CACHE/swarm-initialised"
		;;
	*) die "swarm is in state '$state'; fix it by hand (e.g. docker swarm leave --force)" ;;
	esac
	DOCKER_DONE=1
}

start_dockerd() {
	local log="$CACHE/dockerd.log" pid i
	# dockerd adds its chains to the packet filter and turns IPv4 forwarding on,
	# and leaves both behind when it stops: `clean` puts back what was here before
	# the first dockerd this script started.
	[ -e "$HOST_NET_BEFORE/ip_forward" ] || save_host_net
	say "dockerd: starting in the background (log: $log)"
	# setsid + nohup: the daemon outlives this script and its session, so the test
	# steps that follow can use it. 9>&- keeps it from holding our lock forever.
	setsid nohup dockerd >>"$log" 2>&1 </dev/null 9>&- &
	pid=$!
	# `clean` stops only a daemon this script started.
	echo "$pid" >"$CACHE/dockerd.pid"
	for ((i = 0; i < 60; i++)); do
		if docker info >/dev/null 2>&1; then
			say "dockerd: up after ${i}s (pid $pid)"
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			docker info >/dev/null 2>&1 && return 0 # lost a race with another starter
			die_log "$log" "dockerd exited during start-up"
		fi
		sleep 1
	done
	die_log "$log" "dockerd did not answer 'docker info' within 60 s (pid $pid still running)"
}

save_host_net() {
	mkdir -p "$HOST_NET_BEFORE"
	iptables-save -t filter >"$HOST_NET_BEFORE/filter.rules" || die "iptables-save failed"
	iptables-save -t nat >"$HOST_NET_BEFORE/nat.rules" || die "iptables-save failed"
	sysctl -n net.ipv4.ip_forward >"$HOST_NET_BEFORE/ip_forward"
}

# Only once the dockerd that made the changes is gone: a running one would
# find its chains missing.
restore_host_net() {
	[ -s "$HOST_NET_BEFORE/ip_forward" ] || return 0
	say "packet filter and IPv4 forwarding: as before dockerd started (from $HOST_NET_BEFORE)"
	iptables-restore <"$HOST_NET_BEFORE/filter.rules" || die "iptables-restore of the filter table failed"
	iptables-restore <"$HOST_NET_BEFORE/nat.rules" || die "iptables-restore of the nat table failed"
	sysctl -qw "net.ipv4.ip_forward=$(cat "$HOST_NET_BEFORE/ip_forward")"
}

# --- rootfs ----------------------------------------------------------------------

rootfs_ok() {
	[ -x "$ROOTFS/usr/sbin/nginx" ] && [ -s "$ROOTFS/$ROOTFS_ID_FILE" ] && [ -f "$ROOTFS/$STREAM_MODULE" ] &&
		chroot "$ROOTFS" nginx -v >/dev/null 2>&1
}

ROOTFS_DONE=0
cmd_rootfs() {
	[ "$ROOTFS_DONE" = 0 ] || return 0
	if rootfs_ok; then
		say "rootfs: cached ($ROOTFS)"
	else
		lock
		if rootfs_ok; then
			say "rootfs: cached ($ROOTFS, built by another run)"
		else
			build_rootfs
		fi
		unlock
	fi
	check_nginx_version
	ROOTFS_DONE=1
}

build_rootfs() {
	[ "$(id -u)" = 0 ] || die "must run as root to debootstrap and chroot"
	command -v debootstrap >/dev/null || apt_install debootstrap
	[ -s "$DEBIAN_KEYRING" ] || apt_install debian-archive-keyring
	local tmp="$CACHE/rootfs.partial" log="$CACHE/debootstrap.log" started=$SECONDS
	# Build beside the final place and rename at the end, so an interrupted build
	# never leaves something at $ROOTFS that looks finished.
	remove_tree "$tmp"
	say "rootfs: debootstrap sid with $DEBOOTSTRAP_PACKAGES (about a minute; log: $log)"
	debootstrap_sid "$tmp" "$DEBOOTSTRAP_PACKAGES" "$log"
	chroot "$tmp" nginx -v >/dev/null 2>&1 || die "nginx does not run in the new rootfs $tmp"
	# Leave no package cache in the rootfs: it would go into every image.
	rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/lib/apt/lists/*_Packages
	printf '%s-%s\n' "$(date -u +%Y%m%dT%H%M%SZ)" "$$" >"$tmp/$ROOTFS_ID_FILE"
	remove_tree "$ROOTFS"
	mv "$tmp" "$ROOTFS"
	say "rootfs: built in $((SECONDS - started))s ($(du -sh "$ROOTFS" | cut -f1))"
}

# debootstrap minbase sid with packages into a new directory.
debootstrap_sid() {
	local dir=$1 packages=$2 log=$3
	[ "$(id -u)" = 0 ] || die "must run as root to debootstrap"
	command -v debootstrap >/dev/null || apt_install debootstrap
	[ -s "$DEBIAN_KEYRING" ] || apt_install debian-archive-keyring
	# Every package is checked against the Release file's signature by Debian's
	# archive key; without a valid signature debootstrap stops instead of going on.
	debootstrap --variant=minbase --include="$packages" \
		--force-check-gpg --keyring="$DEBIAN_KEYRING" \
		sid "$dir" ${DEBIAN_MIRROR:+"$DEBIAN_MIRROR"} >"$log" 2>&1 ||
		die_log "$log" "debootstrap failed"
	grep -q "Valid Release signature" "$log" || die_log "$log" "debootstrap did not verify the Release signature"
}

check_nginx_version() {
	local out version
	out="$(chroot "$ROOTFS" nginx -v 2>&1)" || die "chroot $ROOTFS nginx -v failed: $out"
	version="${out##*nginx/}"
	version="${version%% *}"
	[[ "$version" =~ ^[0-9]+(\.[0-9]+)+$ ]] || die "cannot read the nginx version from: $out"
	if ! printf '%s\n%s\n' "$MIN_NGINX" "$version" | sort -V -C; then
		die "rootfs has nginx $version; need >= $MIN_NGINX (resolve on upstream servers)"
	fi
	say "rootfs: nginx $version (>= $MIN_NGINX)"
}

# --- images ----------------------------------------------------------------------

BASE_CHANGED=0
cmd_images() {
	cmd_docker
	cmd_rootfs
	lock
	import_base
	local v
	for v in "${NGINX_VARIANTS[@]}"; do
		build_image "$NGINX_REPO:$v" "$ROOT/tests/fixtures/images/nginx/Dockerfile" "$ROOT/tests/fixtures/images/nginx" \
			--build-arg "VARIANT=$v"
	done
	for v in "${APP_VERSIONS[@]}"; do
		build_image "$APP_REPO:$v" "$ROOT/tests/fixtures/images/testapp/Dockerfile" "$ROOT/tests/fixtures/testapp" \
			--build-arg "APP_VERSION=$v"
	done
	unlock
	cmd_registry
	push_images "${NGINX_VARIANTS[@]/#/$NGINX_REPO:}" "${APP_VERSIONS[@]/#/$APP_REPO:}"
	lock
	if [ "$BASE_CHANGED" = 1 ]; then
		# Images built on the previous base are now untagged leftovers of this script.
		docker image prune --force --filter label=szd.rootfs-id >/dev/null || true
	fi
	unlock
}

# True when image $1 exists and its label $2 is $3: it was imported from that tree.
image_label_is() {
	[ "$(docker image inspect --format "{{index .Config.Labels \"$2\"}}" "$1" 2>/dev/null || true)" = "$3" ]
}

import_base() {
	local id
	id="$(cat "$ROOTFS/$ROOTFS_ID_FILE")"
	if image_label_is "$BASE_IMAGE" szd.rootfs-id "$id"; then
		say "image $BASE_IMAGE: up to date (rootfs $id)"
		return 0
	fi
	say "image $BASE_IMAGE: importing rootfs $id"
	# /proc, /sys and /dev are provided by the container runtime; a test run of
	# nginx through chroot may have left logs and a pid file: none belong in the image.
	tar -C "$ROOTFS" --numeric-owner \
		--exclude='./proc/*' --exclude='./sys/*' --exclude='./dev/*' \
		--exclude='./var/log/nginx/*' --exclude=./run/nginx.pid \
		-c . |
		docker import --change "LABEL szd.rootfs-id=$id" - "$BASE_IMAGE" >/dev/null ||
		die "docker import of $ROOTFS as $BASE_IMAGE failed"
	BASE_CHANGED=1
}

build_image() {
	local tag=$1 dockerfile=$2 context=$3 log started=$SECONDS
	shift 3
	log="$CACHE/build-${tag//[:\/]/-}.log"
	docker build --tag "$tag" --file "$dockerfile" "$@" "$context" >"$log" 2>&1 ||
		die_log "$log" "docker build of $tag failed"
	say "image $tag: ready in $((SECONDS - started))s ($(docker image inspect --format '{{.Id}}' "$tag" | cut -c8-19))"
}

# --- registry --------------------------------------------------------------------

registry_address() {
	if ! ip -4 -o addr show dev lo | grep -q " $REGISTRY_HOST/32 "; then
		say "registry: adding $REGISTRY_HOST/32 to the loopback interface"
		ip addr add "$REGISTRY_HOST/32" dev lo || die "ip addr add $REGISTRY_HOST/32 dev lo failed"
	fi
	printf '%s:%s\n' "$REGISTRY_HOST" "$REGISTRY_PORT"
}

# Up when it answers /v2/ with its TLS certificate and asks for the credentials.
registry_up() {
	[ "$(curl --silent --max-time 2 --cacert "$REGISTRY_DIR/ca.crt" --output /dev/null --write-out '%{http_code}' \
		"https://$1/v2/" 2>/dev/null)" = 401 ]
}

REGISTRY_DONE=0
cmd_registry() {
	[ "$REGISTRY_DONE" = 0 ] || return 0
	cmd_docker
	command -v docker-registry >/dev/null || apt_install docker-registry
	command -v htpasswd >/dev/null || apt_install apache2-utils
	local address config
	address="$(registry_address)"
	lock
	mkdir -p "$REGISTRY_DIR/storage"
	if [ "$(cat "$REGISTRY_DIR/address" 2>/dev/null)" != "$address" ] || [ ! -s "$REGISTRY_DIR/server.crt" ]; then
		registry_stop
		make_registry_certificates "${address%:*}"
	fi
	if [ ! -s "$REGISTRY_DIR/password" ]; then
		registry_stop
		(umask 077 && openssl rand -hex 24 >"$REGISTRY_DIR/password")
		htpasswd -Bbn "$REGISTRY_USER" "$(cat "$REGISTRY_DIR/password")" >"$REGISTRY_DIR/htpasswd"
	fi
	# Every dockerd on this machine trusts it (read at each pull: no restart needed).
	install -D -m 0644 "$REGISTRY_DIR/ca.crt" "/etc/docker/certs.d/$address/ca.crt"
	config="$(printf '%s\n' "version: 0.1" "log:" "  level: warn" "storage:" "  filesystem:" \
		"    rootdirectory: $REGISTRY_DIR/storage" "http:" "  addr: $address" "  tls:" \
		"    certificate: $REGISTRY_DIR/server.crt" "    key: $REGISTRY_DIR/server.key" \
		"auth:" "  htpasswd:" "    realm: szd-test-registry" "    path: $REGISTRY_DIR/htpasswd")"
	if [ "$config" != "$(cat "$REGISTRY_DIR/config.yml" 2>/dev/null)" ]; then
		registry_stop
		printf '%s\n' "$config" >"$REGISTRY_DIR/config.yml"
	fi
	if registry_up "$address"; then
		say "registry: running on $address"
	else
		start_registry "$address"
	fi
	printf '%s\n' "$address" >"$REGISTRY_DIR/address"
	unlock
	REGISTRY_DONE=1
}

# The Docker client's login for this script's pushes, kept in the cache, not in ~/.docker.
registry_docker() {
	DOCKER_CONFIG="$REGISTRY_DIR/client" docker "$@"
}


make_registry_certificates() {
	local host=$1 dir="$REGISTRY_DIR" log="$REGISTRY_DIR/openssl.log"
	say "registry: a CA and a server certificate for $host"
	openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=szd test registry CA" \
		-keyout "$dir/ca.key" -out "$dir/ca.crt" >"$log" 2>&1 || die_log "$log" "openssl: CA failed"
	openssl req -newkey rsa:2048 -nodes -subj "/CN=$host" -keyout "$dir/server.key" -out "$dir/server.csr" \
		>>"$log" 2>&1 || die_log "$log" "openssl: server key failed"
	printf 'subjectAltName=IP:%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$host" >"$dir/server.ext"
	openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial -days 3650 \
		-extfile "$dir/server.ext" -out "$dir/server.crt" >>"$log" 2>&1 ||
		die_log "$log" "openssl: server certificate failed"
}

start_registry() {
	local address=$1 log="$REGISTRY_DIR/registry.log" pid i
	say "registry: starting on $address (log: $log)"
	setsid nohup docker-registry serve "$REGISTRY_DIR/config.yml" >>"$log" 2>&1 </dev/null 9>&- &
	pid=$!
	# `clean` stops only a registry this script started.
	echo "$pid" >"$REGISTRY_DIR/registry.pid"
	for ((i = 0; i < 100; i++)); do
		registry_up "$address" && return 0
		kill -0 "$pid" 2>/dev/null || die_log "$log" "docker-registry exited during start-up"
		sleep 0.1
	done
	die_log "$log" "docker-registry did not answer on https://$address/v2/ within 10 s"
}

registry_stop() {
	if [ -s "$REGISTRY_DIR/registry.pid" ] && kill -0 "$(cat "$REGISTRY_DIR/registry.pid")" 2>/dev/null; then
		say "registry: stopping (pid $(cat "$REGISTRY_DIR/registry.pid"))"
		kill "$(cat "$REGISTRY_DIR/registry.pid")"
		rm -f "$REGISTRY_DIR/registry.pid"
	fi
}

# Push test images to the registry as <registry>/<repo>:<tag>, the names the e2e and cluster stacks use.
push_images() {
	local address image log="$CACHE/push.log"
	address="$(cat "$REGISTRY_DIR/address")"
	registry_docker login --username "$REGISTRY_USER" --password-stdin "$address" <"$REGISTRY_DIR/password" >"$log" 2>&1 ||
		die_log "$log" "docker login $address failed"
	for image in "$@"; do
		docker tag "$image" "$address/$image" >>"$log" 2>&1 || die_log "$log" "docker tag $image failed"
		registry_docker push "$address/$image" >>"$log" 2>&1 || die_log "$log" "docker push $address/$image failed"
	done
	say "registry: pushed $* to $address"
}

# --- cluster-image ---------------------------------------------------------------

node_rootfs_ok() {
	[ -x "$NODE_ROOTFS/usr/sbin/dockerd" ] && [ -x "$NODE_ROOTFS/usr/bin/docker" ] &&
		[ -x "$NODE_ROOTFS/usr/bin/tini" ] && [ -s "$NODE_ROOTFS/$ROOTFS_ID_FILE" ]
}

# The load balancer the edges' drain is tested behind (tests/support/load_balancer.py):
# in front of two edges on loopback (test-nginx-live) and of the cluster's nodes.
cmd_load_balancer() {
	command -v haproxy >/dev/null || apt_install haproxy
}

# What the tests run on this machine besides the above: iptables drops the
# connects to one loopback address (tests/support/dropped_connects.py), as to a
# task whose node died; BusyBox's ash runs the edge's command as the default
# edgeImage (nginx:*-alpine) would (tests/support/edge_command.py).
cmd_test_tools() {
	local missing=()
	command -v iptables >/dev/null || missing+=(iptables)
	command -v busybox >/dev/null || missing+=(busybox)
	[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
}

# The node image of tests/cluster: a Debian sid root filesystem with Docker
# Engine, cached in $NODE_ROOTFS, imported as $NODE_IMAGE with the entry point
# that starts dockerd (tests/fixtures/images/node/entrypoint.sh).
cmd_cluster_image() {
	cmd_docker
	cmd_load_balancer
	lock node-image
	if node_rootfs_ok; then
		say "node rootfs: cached ($NODE_ROOTFS)"
	else
		build_node_rootfs
	fi
	import_node
	unlock
}

build_node_rootfs() {
	local tmp="$CACHE/node-rootfs.partial" log="$CACHE/debootstrap-node.log" started=$SECONDS
	remove_tree "$tmp"
	say "node rootfs: debootstrap sid with $NODE_PACKAGES (about a minute; log: $log)"
	debootstrap_sid "$tmp" "$NODE_PACKAGES" "$log"
	chroot "$tmp" dockerd --version >/dev/null 2>&1 || die "dockerd does not run in the new node rootfs $tmp"
	rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/lib/apt/lists/*_Packages
	printf '%s-%s\n' "$(date -u +%Y%m%dT%H%M%SZ)" "$$" >"$tmp/$ROOTFS_ID_FILE"
	remove_tree "$NODE_ROOTFS"
	mv "$tmp" "$NODE_ROOTFS"
	say "node rootfs: built in $((SECONDS - started))s ($(du -sh "$NODE_ROOTFS" | cut -f1))"
}

import_node() {
	local id
	# The image's id: the rootfs and the entry point it was imported with.
	id="$(cat "$NODE_ROOTFS/$ROOTFS_ID_FILE")-$(sha256sum "$NODE_ENTRY_SRC" | cut -c1-12)"
	if image_label_is "$NODE_IMAGE" szd.node-id "$id"; then
		say "image $NODE_IMAGE: up to date ($id)"
		return 0
	fi
	say "image $NODE_IMAGE: importing node rootfs $id"
	install -m 0755 "$NODE_ENTRY_SRC" "$NODE_ROOTFS/$NODE_ENTRY"
	# tini as PID 1 reaps what dockerd leaves; /var/lib/docker on a volume (overlay2
	# does not work on the container's own overlay filesystem).
	tar -C "$NODE_ROOTFS" --numeric-owner \
		--exclude='./proc/*' --exclude='./sys/*' --exclude='./dev/*' --exclude='./run/*' \
		-c . |
		docker import \
			--change "LABEL szd.node-id=$id" \
			--change 'VOLUME /var/lib/docker' \
			--change "ENTRYPOINT [\"/usr/bin/tini\", \"--\", \"/$NODE_ENTRY\"]" \
			- "$NODE_IMAGE" >/dev/null ||
		die "docker import of $NODE_ROOTFS as $NODE_IMAGE failed"
	# The image it replaces, if any, is an untagged leftover now.
	docker image prune --force --filter label=szd.node-id >/dev/null || true
	say "image $NODE_IMAGE: ready ($(docker image inspect --format '{{.Size}}' "$NODE_IMAGE" | numfmt --to=iec))"
}

# --- load-tools --------------------------------------------------------------------

cmd_load_tools() {
	local tool missing=()
	for tool in "${LOAD_TOOLS[@]}"; do
		command -v "$tool" >/dev/null || missing+=("$tool")
	done
	if [ "${#missing[@]}" -gt 0 ]; then
		apt_install "${missing[@]}"
	fi
	for tool in "${LOAD_TOOLS[@]}"; do
		command -v "$tool" >/dev/null || die "$tool installed but not on PATH"
	done
	say "load tools: installed (${LOAD_TOOLS[*]})"
}

# --- clean ---------------------------------------------------------------------------

# Undo what the other commands did to this machine, except the apt packages
# (docker.io, debootstrap, debian-archive-keyring, haproxy), which `apt-get remove` takes.
# A swarm or a dockerd that was there before is left alone.
cmd_clean() {
	if docker info >/dev/null 2>&1; then
		# What the e2e tests and the benchmark deploy (its load generator too): their names start with these.
		local prefix ids
		# What an interrupted cluster test left: its node containers, their volumes, its network.
		ids="$(docker ps -aq --filter "label=$CLUSTER_LABEL")"
		# shellcheck disable=SC2086
		[ -z "$ids" ] || docker rm --force --volumes $ids >/dev/null || true
		ids="$(docker volume ls -q --filter "label=$CLUSTER_LABEL")"
		# shellcheck disable=SC2086
		[ -z "$ids" ] || docker volume rm --force $ids >/dev/null || true
		docker network rm "$CLUSTER_NETWORK" >/dev/null 2>&1 || true
		for prefix in szde2e- szdbench; do
			ids="$(docker service ls -q --filter "name=$prefix")"
			# shellcheck disable=SC2086 # a list of ids
			[ -z "$ids" ] || docker service rm $ids >/dev/null || true
			ids="$(docker config ls -q --filter "name=$prefix")"
			# shellcheck disable=SC2086
			[ -z "$ids" ] || docker config rm $ids >/dev/null 2>&1 || true
			ids="$(docker network ls -q --filter "name=$prefix")"
			# shellcheck disable=SC2086
			[ -z "$ids" ] || docker network rm $ids >/dev/null 2>&1 || true
		done
		if [ -e "$CACHE/swarm-initialised" ] && [ "$(docker info --format '{{.Swarm.LocalNodeState}}')" = active ]; then
			say "swarm: leave --force"
			docker swarm leave --force >/dev/null || die "docker swarm leave failed"
		fi
		say "images: removing $BASE_IMAGE, $NGINX_REPO:*, $APP_REPO:*, $NODE_IMAGE"
		docker image rm --force "$BASE_IMAGE" "${NGINX_VARIANTS[@]/#/$NGINX_REPO:}" "${APP_VERSIONS[@]/#/$APP_REPO:}" \
			"$NODE_IMAGE" >/dev/null 2>&1 || true
		# Their names on the registry (push_images, and tags the e2e tests pushed).
		ids="$(docker images --format '{{.Repository}}:{{.Tag}}' | grep "^$REGISTRY_HOST:$REGISTRY_PORT/" || true)"
		# shellcheck disable=SC2086
		[ -z "$ids" ] || docker image rm --force $ids >/dev/null 2>&1 || true
		docker image prune --force --filter label=szd.node-id >/dev/null || true
		docker image prune --force --filter label=szd.rootfs-id >/dev/null || true
	fi
	registry_stop
	rm -rf "/etc/docker/certs.d/$REGISTRY_HOST:$REGISTRY_PORT"
	ip addr del "$REGISTRY_HOST/32" dev lo 2>/dev/null || true
	if [ -s "$CACHE/dockerd.pid" ] && kill -0 "$(cat "$CACHE/dockerd.pid")" 2>/dev/null; then
		say "dockerd: stopping (pid $(cat "$CACHE/dockerd.pid"), started by this script)"
		kill "$(cat "$CACHE/dockerd.pid")"
		local i
		for ((i = 0; i < 30; i++)); do
			kill -0 "$(cat "$CACHE/dockerd.pid")" 2>/dev/null || break
			sleep 1
		done
		kill -0 "$(cat "$CACHE/dockerd.pid")" 2>/dev/null && die "dockerd (pid $(cat "$CACHE/dockerd.pid")) still runs after 30 s"
		restore_host_net
	fi
	say "cache: removing $CACHE"
	remove_tree "$CACHE"
}

# --- nginx-bin -------------------------------------------------------------------

cmd_nginx_bin() {
	cmd_rootfs
	# Shell-quoted, so callers can shlex.split() it even if the path has spaces.
	printf 'chroot %q nginx\n' "$ROOTFS"
}

# What the single-node suites need.
cmd_swarm() {
	cmd_docker
	cmd_rootfs
	cmd_registry
	cmd_images
}

usage() {
	cat >&2 <<EOF
usage: $0 COMMAND
  docker     install Docker Engine if missing, start dockerd, init a single-node swarm
  rootfs     debootstrap a Debian sid rootfs with nginx >= $MIN_NGINX into $ROOTFS
  images     import the rootfs as $BASE_IMAGE; build $NGINX_REPO:{${NGINX_VARIANTS[*]}} and $APP_REPO:{${APP_VERSIONS[*]}},
             push them to the registry
  cluster-image
             debootstrap a Debian sid rootfs with Docker Engine into $NODE_ROOTFS, import it as
             $NODE_IMAGE (the nodes of the multi-node tests, tests/cluster); and load-balancer
  registry   install and start the test registry (HTTPS, on $REGISTRY_HOST:$REGISTRY_PORT), trusted by this dockerd
  registry-info
             print the registry's address, its CA certificate's path, its user and its password file (for the tests)
  nginx-bin  print the command that runs the rootfs's nginx via chroot
  load-balancer
             install HAProxy if missing: the load balancer the edges are tested behind
  test-tools install iptables and BusyBox if missing: the tests drop connects to one loopback
             address, and run the edge's command in BusyBox's ash as well as in dash
  load-tools install the benchmark's load generators (${LOAD_TOOLS[*]}) if missing; not part of all
  swarm      docker, rootfs, registry, images: what the single-node suites need
  all        swarm, cluster-image
  clean      undo them: remove the test services and images, leave the swarm,
             stop the registry and a dockerd this script started, remove $CACHE
EOF
	exit 2
}

[ $# -eq 1 ] || usage
case "$1" in
docker) cmd_docker ;;
rootfs) cmd_rootfs ;;
images) cmd_images ;;
cluster-image) cmd_cluster_image ;;
nginx-bin) cmd_nginx_bin ;;
registry) cmd_registry ;;
registry-info)
	cmd_registry
	printf '%s %q %s %q\n' "$(cat "$REGISTRY_DIR/address")" "$REGISTRY_DIR/ca.crt" "$REGISTRY_USER" "$REGISTRY_DIR/password"
	;;
load-tools) cmd_load_tools ;;
load-balancer) cmd_load_balancer ;;
test-tools) cmd_test_tools ;;
swarm) cmd_swarm ;;
all)
	cmd_swarm
	cmd_cluster_image
	;;
clean) cmd_clean ;;
*) usage ;;
esac
