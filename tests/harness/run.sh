#!/usr/bin/env bash
# `make run`: run stackd against the engine in DOCKER_HOST if one answers,
# otherwise against a throwaway single-node swarm started (and removed on
# exit) by swarm.sh.
#
#   tests/harness/run.sh STACKD EXAMPLES_DIR
set -uo pipefail
stackd=$1
examples=$2
here=$(cd "$(dirname "$0")" && pwd)
dir=

cleanup() { [ -z "$dir" ] || "$here/swarm.sh" stop "$dir"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

if "$stackd" ping >/dev/null 2>&1; then
	echo "run: using the engine at ${DOCKER_HOST:-unix:///var/run/docker.sock}"
else
	[ "$(id -u)" = 0 ] || { echo "run: no engine answers and starting one needs root" >&2; exit 1; }
	dir=$(mktemp -d /tmp/stackd-run.XXXXXX)
	echo "run: no engine reachable; starting a throwaway swarm engine in $dir"
	"$here/swarm.sh" start "$dir" 1 >/dev/null || exit 1
	export DOCKER_HOST="unix://$dir/e1/sock"
	unset DOCKER_TLS_VERIFY DOCKER_CERT_PATH
fi

"$stackd" ping || exit 1
# The controller (`stackd run`) watches the examples with the status page up.
if "$stackd" --help | grep -q '^  run '; then
	"$stackd" run --dir "$examples" --listen 127.0.0.1:9090
else
	echo "run: this build has no 'stackd run' yet; the engine check above is what it can do"
fi
