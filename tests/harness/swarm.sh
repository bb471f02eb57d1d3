#!/usr/bin/env bash
# Throwaway swarm engines for stackd's end-to-end tests.
#
#   swarm.sh start DIR [N]   start N (1 or 2) engines under the new directory DIR and
#                            print the endpoints as shell assignments (also in DIR/env)
#   swarm.sh stop DIR        stop what `start DIR` started, unmount, remove DIR
#   swarm.sh kill DIR N [SIG]  stop engine N with SIG (default KILL), keeping its state
#   swarm.sh restart DIR N   start engine N again on its state; waits until it is a
#                            swarm manager again
#
# Engine 1 listens on unix://DIR/e1/sock. Engine 2 listens on tcp://127.0.0.2:2376 with
# TLS client certificates made here by openssl (DIR/certs). Both are single-node swarm
# managers holding the offline image local/busybox:1. Only the pids written by this
# script are ever signalled.
set -euo pipefail

IMAGE=local/busybox:1
E2_ADDR=127.0.0.2
# STACKD_DOCKERD_ARGS: more dockerd options for engine 1 (the pinning
# conformance gives it a registry mirror).
# Engine 1's swarm address: `make run` picks another one so that a demo
# engine and a test run can coexist on one machine.
E1_ADDR=${STACKD_E1_ADDR:-127.0.0.1}
E1_DATA_PORT=${STACKD_E1_DATA_PORT:-4789}
E2_PORT=2376

log() { printf 'swarm.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
harness=$(cd "$(dirname "$0")" && pwd)

# Engines run under reap.py, which reaps them at once; a zombie still
# counts as gone (kill -0 would say "alive"), and so does a stale pid file,
# which dockerd refuses while /proc/PID exists.
running() { # pid
	local st
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}
gone() { ! running "$1"; }

wait_for() { # seconds, command...
	local n=$(( $1 * 10 )); shift
	while ! "$@" >/dev/null 2>&1; do
		n=$((n - 1)); [ $n -gt 0 ] || return 1
		sleep 0.1
	done
}

make_certs() {
	local c=$1/certs
	mkdir -p "$c"
	(
	cd "$c"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=stackd-test-ca \
		-keyout ca-key.pem -out ca.pem 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj /CN=engine2 -keyout server-key.pem \
		-out server.csr 2>/dev/null
	printf 'subjectAltName=IP:%s,DNS:localhost\nextendedKeyUsage=serverAuth\n' "$E2_ADDR" >server.ext
	openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 \
		-extfile server.ext -out server.pem 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj /CN=stackd-client -keyout key.pem \
		-out client.csr 2>/dev/null
	printf 'extendedKeyUsage=clientAuth\n' >client.ext
	openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 \
		-extfile client.ext -out cert.pem 2>/dev/null
	# A second, unrelated CA: the "wrong CA" tests need one the engine never trusted.
	mkdir -p other
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other-ca \
		-keyout other/ca-key.pem -out other/ca.pem 2>/dev/null
	chmod 0600 ./*key.pem other/ca-key.pem
	)
}

make_image_rootfs() {
	local r=$1/rootfs busybox
	busybox=$(command -v busybox) || die "busybox not found (apt-get install busybox-static)"
	mkdir -p "$r/bin"
	cp "$busybox" "$r/bin/busybox"
	for l in sh sleep true cat ls; do ln -sf busybox "$r/bin/$l"; done
}

start_engine() { # dir n listen-args...
	local d=$1 n=$2; shift 2
	mkdir -p "$d/data" "$d/x"
	printf '%q ' "$@" >"$d/args"	# for restart
	# Nothing may reach a public registry: a dead proxy on loopback turns
	# every docker.io lookup into an immediate refusal, and Go never
	# proxies loopback, so registries on 127.0.0.0/8 are reached directly.
	HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 NO_PROXY=127.0.0.0/8,localhost \
	python3 "$harness/reap.py" dockerd --data-root "$d/data" --exec-root "$d/x" --pidfile "$d/pid" \
		--bridge=none --iptables=false --ip6tables=false "$@" >"$d/log" 2>&1 &
	echo $! >"$d/launcher.pid"
	log "engine $n: dockerd pid $! ($d/log)"
}

start() {
	local dir=$1 count=${2:-2}
	[ -e "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ] && die "$dir exists and is not empty; refusing to reuse it"
	mkdir -p "$dir"
	command -v dockerd >/dev/null || die "dockerd not found (apt-get install docker.io)"
	make_image_rootfs "$dir"

	local e1=$dir/e1
	# shellcheck disable=SC2086 # STACKD_DOCKERD_ARGS: words for dockerd
	start_engine "$e1" 1 -H "unix://$e1/sock" ${STACKD_DOCKERD_ARGS:-}
	local h1=unix://$e1/sock
	local h2= certs=
	if [ "$count" -ge 2 ]; then
		make_certs "$dir"
		certs=$dir/certs
		local e2=$dir/e2
		start_engine "$e2" 2 -H "tcp://$E2_ADDR:$E2_PORT" --tlsverify \
			--tlscacert "$certs/ca.pem" --tlscert "$certs/server.pem" --tlskey "$certs/server-key.pem"
		h2=tcp://$E2_ADDR:$E2_PORT
	fi

	init_engine 1 "$h1" "" "$E1_ADDR" "--listen-addr $E1_ADDR:2377 --data-path-port $E1_DATA_PORT"
	[ -z "$h2" ] || init_engine 2 "$h2" "$certs" "$E2_ADDR:2378" "--listen-addr $E2_ADDR:2378 --data-path-port 4790"

	{
		printf 'STACKD_TEST_DIR=%q\n' "$dir"
		printf 'STACKD_TEST_ENGINE1=%q\n' "$h1"
		printf 'STACKD_TEST_ENGINE2=%q\n' "$h2"
		printf 'STACKD_TEST_CERTS=%q\n' "$certs"
		printf 'STACKD_TEST_IMAGE=%q\n' "$IMAGE"
	} | tee "$dir/env"
}

docker_at() { # host certs args...
	local h=$1 c=$2; shift 2
	if [ -n "$c" ]; then
		DOCKER_HOST=$h DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=$c docker "$@"
	else
		DOCKER_HOST=$h DOCKER_TLS_VERIFY= docker "$@"
	fi
}

init_engine() { # n host certs advertise extra-args
	local n=$1 h=$2 c=$3 adv=$4 extra=$5
	wait_for 60 docker_at "$h" "$c" version || die "engine $n did not come up; see its log"
	# shellcheck disable=SC2086
	docker_at "$h" "$c" swarm init --advertise-addr "$adv" $extra >/dev/null \
		|| die "engine $n: swarm init failed"
	tar -C "$STACKD_ROOTFS" -c . | docker_at "$h" "$c" import \
		-c 'CMD ["/bin/sleep","86400"]' - "$IMAGE" >/dev/null || die "engine $n: image import failed"
	log "engine $n: swarm manager at $h"
}

stop_engine() { # dir
	local d=$1 pid=
	[ -f "$d/pid" ] && pid=$(cat "$d/pid")
	[ -n "$pid" ] || { [ -f "$d/launcher.pid" ] && pid=$(cat "$d/launcher.pid"); }
	if [ -n "$pid" ] && running "$pid"; then
		kill -TERM "$pid" 2>/dev/null || true
		# dockerd may take a while to stop running tasks; then insist.
		wait_for 40 gone "$pid" || { kill -KILL "$pid" 2>/dev/null || true; wait_for 10 gone "$pid" || true; }
	fi
}

stop() {
	local dir=$1
	[ -d "$dir" ] || return 0
	local e
	for e in "$dir"/e1 "$dir"/e2; do [ -d "$e" ] && stop_engine "$e"; done
	# Unmount whatever the engines left behind (netns, overlay, shm), deepest first.
	local m
	while read -r m; do umount -l "$m" 2>/dev/null || true; done < <(
		awk -v d="$dir" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r)
	rm -rf "$dir"
}

# Engine N's dir, host and certs, from what start wrote.
engine_of() { # dir n
	[ -f "$1/env" ] || die "$1: not started by swarm.sh"
	# shellcheck disable=SC1091
	. "$1/env"
	ed=$1/e$2
	[ -d "$ed" ] || die "no engine $2 under $1"
	if [ "$2" = 1 ]; then eh=$STACKD_TEST_ENGINE1; ec=; else eh=$STACKD_TEST_ENGINE2; ec=$STACKD_TEST_CERTS; fi
}

kill_engine() { # dir n [signal]
	local ed eh ec pid
	engine_of "$1" "$2"
	pid=$(cat "$ed/pid" 2>/dev/null || cat "$ed/launcher.pid")
	kill -"${3:-KILL}" "$pid" 2>/dev/null || true
	wait_for 60 gone "$pid" || die "engine $2 (pid $pid) did not exit"
	log "engine $2: stopped (SIG${3:-KILL})"
}

restart_engine() { # dir n
	local ed eh ec args
	engine_of "$1" "$2"
	args=$(cat "$ed/args")
	# dockerd refuses a pid file whose process still shows in /proc.
	if [ -f "$ed/pid" ] && ! running "$(cat "$ed/pid")"; then rm -f "$ed/pid"; fi
	# shellcheck disable=SC2086
	eval start_engine "$ed" "$2" $args
	wait_for 60 docker_at "$eh" "$ec" node ls || die "engine $2 did not come back; see $ed/log"
	log "engine $2: swarm manager again at $eh"
}

case "${1:-}" in
kill)
	[ $# -ge 3 ] || die "usage: swarm.sh kill DIR N [SIGNAL]"
	kill_engine "$2" "$3" "${4:-KILL}" ;;
restart)
	[ $# -ge 3 ] || die "usage: swarm.sh restart DIR N"
	restart_engine "$2" "$3" ;;
start)
	[ $# -ge 2 ] || die "usage: swarm.sh start DIR [N]"
	STACKD_ROOTFS=$2/rootfs
	start "$2" "${3:-2}" ;;
stop)
	[ $# -ge 2 ] || die "usage: swarm.sh stop DIR"
	stop "$2" ;;
*)
	die "usage: swarm.sh start DIR [N] | stop DIR | kill DIR N [SIG] | restart DIR N" ;;
esac
