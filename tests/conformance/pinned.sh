#!/usr/bin/env bash
# Conformance with pinned images: every case of cases.tsv deployed by
# `docker stack deploy --resolve-image always --with-registry-auth` (the
# CLI's default resolution) and by stackd's default, on a throwaway engine
# whose registry mirror (a local docker-registry) holds each docker.io
# image the cases name.  The inspected specs must be equal, Image
# (name:tag@sha256:...) and Placement.Platforms included.  Prints TAP.
#
#   tests/conformance/pinned.sh BUILD_DIR
#
# The engine listens on PINNED_ADDR (default 127.0.0.5), beside any other.
set -uo pipefail
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/stackd-pinned.XXXXXX)
cleanup() {
	"$here/../harness/swarm.sh" stop "$work/engine" >/dev/null 2>&1
	"$here/../harness/registry.sh" stop "$work/mirror" >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
if ! "$here/../harness/registry.sh" start "$work/mirror" "$port" 2>"$work/log" ||
	! STACKD_DOCKERD_ARGS="--registry-mirror http://127.0.0.1:$port" \
		STACKD_E1_ADDR=${PINNED_ADDR:-127.0.0.5} STACKD_E1_DATA_PORT=${PINNED_DATA_PORT:-4797} \
		"$here/../harness/swarm.sh" start "$work/engine" 1 >"$work/env" 2>>"$work/log"; then
	echo "not ok 1 - a registry mirror and an engine using it start"
	sed 's/^/#   /' "$work/log"
	echo "1..1"
	exit 1
fi
# shellcheck disable=SC1091
. "$work/env"
export DOCKER_HOST=$STACKD_TEST_ENGINE1 DOCKER_CONFIG=$work/docker STACKD_TEST_IMAGE
mkdir -p "$DOCKER_CONFIG"
CONFORMANCE_RESOLVE=always CONFORMANCE_MIRROR=127.0.0.1:$port "$here/run.sh" "$build"
