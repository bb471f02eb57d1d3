#!/usr/bin/env bash
# Throwaway swarm engines for stackd's end-to-end tests.
#
#   swarm.sh start DIR [N]   start N (1 or 2) single-node swarms under the new
#                            directory DIR and print the endpoints as shell
#                            assignments (also in DIR/env)
#   swarm.sh cluster DIR M [W]  start one swarm of M managers and W workers
#                            (engines 1..M+W, engine 1 the first manager)
#   swarm.sh stop DIR        stop what `start DIR` started, unmount, remove DIR
#   swarm.sh kill DIR N [SIG]  stop engine N with SIG (default KILL), keeping its state
#   swarm.sh restart DIR N   start engine N again on its state; waits until it is
#                            back in its swarm (a manager: until it lists nodes)
#
# With start, engine 1 listens on unix://DIR/e1/sock and engine 2 on TCP with TLS
# client certificates made here by openssl (DIR/certs); both are single-node
# managers.  Cluster engines listen on unix://DIR/eN/sock.  Every engine holds
# the offline image local/busybox:1.  Swarm, data path and TCP ports are picked
# free on a loopback address of their own, so a machine that already runs a
# swarm (2377, 4789) runs the tests too.  Only the pids written by this script
# are ever signalled.
set -euo pipefail

IMAGE=local/busybox:1
# STACKD_DOCKERD_ARGS: more dockerd options for engine 1 (the pinning
# conformance gives it a registry mirror).  STACKD_E1_ADDR and
# STACKD_E1_DATA_PORT pin engine 1's swarm address and data path port
# (`make run` does, so that its demo engine keeps one address).

log() { printf 'swarm.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
harness=$(cd "$(dirname "$0")" && pwd)

# A loopback address no socket listens on yet (127.0.0.16-250).
pick_addr() {
	local x used
	used=$(ss -Hlntu | awk '{print $5}')
	for _ in $(seq 200); do
		x=127.0.0.$((RANDOM % 235 + 16))
		grep -q "^${x//./\\.}:" <<<"$used" || { echo "$x"; return; }
	done
	die "no free loopback address in 127.0.0.16-250"
}
free_port() { python3 "$harness/freeport.py" "$1"; }

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

make_certs() { # dir server-address
	local c=$1/certs ip=$2
	mkdir -p "$c"
	(
	cd "$c"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=stackd-test-ca \
		-keyout ca-key.pem -out ca.pem 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj /CN=engine2 -keyout server-key.pem \
		-out server.csr 2>/dev/null
	printf 'subjectAltName=IP:%s,DNS:localhost\nextendedKeyUsage=serverAuth\n' "$ip" >server.ext
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

# What kill, restart and stop need to know of engine dir d later.
note_engine() { # dir host certs role
	printf '%s\n' "$2" >"$1/host"
	printf '%s\n' "$3" >"$1/certs"
	printf '%s\n' "$4" >"$1/role"
}

start() {
	local dir=$1 count=${2:-2}
	[ -e "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ] && die "$dir exists and is not empty; refusing to reuse it"
	mkdir -p "$dir"
	command -v dockerd >/dev/null || die "dockerd not found (apt-get install docker.io)"
	make_image_rootfs "$dir"

	local e1=$dir/e1 a1 p1 d1
	a1=${STACKD_E1_ADDR:-$(pick_addr)}
	p1=$(free_port "$a1")
	d1=${STACKD_E1_DATA_PORT:-$(free_port "$a1")}
	# shellcheck disable=SC2086 # STACKD_DOCKERD_ARGS: words for dockerd
	start_engine "$e1" 1 -H "unix://$e1/sock" ${STACKD_DOCKERD_ARGS:-}
	local h1=unix://$e1/sock
	note_engine "$e1" "$h1" "" manager
	local h2= certs=
	if [ "$count" -ge 2 ]; then
		local e2=$dir/e2 a2 p2 api2
		a2=$(pick_addr); api2=$(free_port "$a2"); p2=$(free_port "$a2")
		make_certs "$dir" "$a2"
		certs=$dir/certs
		start_engine "$e2" 2 -H "tcp://$a2:$api2" --tlsverify \
			--tlscacert "$certs/ca.pem" --tlscert "$certs/server.pem" --tlskey "$certs/server-key.pem"
		h2=tcp://$a2:$api2
		note_engine "$e2" "$h2" "$certs" manager
	fi

	init_engine 1 "$h1" "" "$a1:$p1" "--listen-addr $a1:$p1 --data-path-port $d1"
	[ -z "$h2" ] || init_engine 2 "$h2" "$certs" "$a2:$p2" "--listen-addr $a2:$p2 --data-path-port $(free_port "$a2")"

	{
		printf 'STACKD_TEST_DIR=%q\n' "$dir"
		printf 'STACKD_TEST_ENGINE1=%q\n' "$h1"
		printf 'STACKD_TEST_ENGINE2=%q\n' "$h2"
		printf 'STACKD_TEST_CERTS=%q\n' "$certs"
		printf 'STACKD_TEST_IMAGE=%q\n' "$IMAGE"
	} | tee "$dir/env"
}

# One swarm over several engines on one machine: each its own data root
# and loopback address, joined with the manager or the worker token.
cluster() {
	local dir=$1 managers=$2 workers=${3:-0} n total addr port h token hosts=
	[ "$managers" -ge 1 ] || die "a cluster needs a manager"
	[ -e "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ] && die "$dir exists and is not empty; refusing to reuse it"
	mkdir -p "$dir"
	command -v dockerd >/dev/null || die "dockerd not found (apt-get install docker.io)"
	make_image_rootfs "$dir"
	total=$((managers + workers))
	for n in $(seq "$total"); do
		start_engine "$dir/e$n" "$n" -H "unix://$dir/e$n/sock"
	done
	for n in $(seq "$total"); do
		h=unix://$dir/e$n/sock
		addr=$(pick_addr); port=$(free_port "$addr")
		wait_for 60 docker_at "$h" "" version || die "engine $n did not come up; see its log"
		if [ "$n" = 1 ]; then
			docker_at "$h" "" swarm init --advertise-addr "$addr:$port" \
				--listen-addr "$addr:$port" --data-path-port "$(free_port "$addr")" >/dev/null \
				|| die "engine 1: swarm init failed"
		else
			token=$(docker_at "unix://$dir/e1/sock" "" swarm join-token -q \
				"$([ "$n" -le "$managers" ] && echo manager || echo worker)")
			docker_at "$h" "" swarm join --token "$token" --advertise-addr "$addr:$port" \
				--listen-addr "$addr:$port" "$(cat "$dir/e1/swarm")" >/dev/null \
				|| die "engine $n: swarm join failed"
		fi
		[ "$n" = 1 ] && printf '%s\n' "$addr:$port" >"$dir/e1/swarm"
		import_image "$n" "$h" ""
		note_engine "$dir/e$n" "$h" "" "$([ "$n" -le "$managers" ] && echo manager || echo worker)"
		[ "$n" -le "$managers" ] && hosts="$hosts${hosts:+ }$h"
		log "engine $n: $(cat "$dir/e$n/role") at $h, swarm address $addr:$port"
	done
	{
		printf 'STACKD_TEST_DIR=%q\n' "$dir"
		printf 'STACKD_TEST_MANAGERS=%q\n' "$hosts"
		for n in $(seq "$total"); do printf 'STACKD_TEST_ENGINE%s=%q\n' "$n" "unix://$dir/e$n/sock"; done
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

import_image() { # n host certs
	tar -C "$STACKD_ROOTFS" -c . | docker_at "$2" "$3" import \
		-c 'CMD ["/bin/sleep","86400"]' - "$IMAGE" >/dev/null || die "engine $1: image import failed"
}

init_engine() { # n host certs advertise extra-args
	local n=$1 h=$2 c=$3 adv=$4 extra=$5
	wait_for 60 docker_at "$h" "$c" version || die "engine $n did not come up; see its log"
	# shellcheck disable=SC2086
	docker_at "$h" "$c" swarm init --advertise-addr "$adv" $extra >/dev/null \
		|| die "engine $n: swarm init failed"
	import_image "$n" "$h" "$c"
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
	for e in "$dir"/e[0-9]*; do [ -d "$e" ] && stop_engine "$e"; done
	# Unmount whatever the engines left behind (netns, overlay, shm), deepest first.
	local m
	while read -r m; do umount -l "$m" 2>/dev/null || true; done < <(
		awk -v d="$dir" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r)
	rm -rf "$dir"
}

# Engine N's dir, host and certs, from what start wrote.
engine_of() { # dir n
	ed=$1/e$2
	[ -f "$ed/host" ] || die "no engine $2 under $1 (not started by swarm.sh?)"
	eh=$(cat "$ed/host"); ec=$(cat "$ed/certs")
}

kill_engine() { # dir n [signal]
	local ed eh ec pid
	engine_of "$1" "$2"
	pid=$(cat "$ed/pid" 2>/dev/null || cat "$ed/launcher.pid")
	kill -"${3:-KILL}" "$pid" 2>/dev/null || true
	wait_for 60 gone "$pid" || die "engine $2 (pid $pid) did not exit"
	log "engine $2: stopped (SIG${3:-KILL})"
}

worker_active() { # host
	[ "$(docker_at "$1" "" info --format '{{.Swarm.LocalNodeState}}')" = active ]
}

restart_engine() { # dir n
	local ed eh ec args
	engine_of "$1" "$2"
	args=$(cat "$ed/args")
	# dockerd refuses a pid file whose process still shows in /proc.
	if [ -f "$ed/pid" ] && ! running "$(cat "$ed/pid")"; then rm -f "$ed/pid"; fi
	# shellcheck disable=SC2086
	eval start_engine "$ed" "$2" $args
	if [ "$(cat "$ed/role")" = manager ]; then
		wait_for 60 docker_at "$eh" "$ec" node ls || die "engine $2 did not come back; see $ed/log"
	else
		wait_for 60 worker_active "$eh" || die "engine $2 did not rejoin; see $ed/log"
	fi
	log "engine $2: $(cat "$ed/role") again at $eh"
}

case "${1:-}" in
kill)
	[ $# -ge 3 ] || die "usage: swarm.sh kill DIR N [SIGNAL]"
	kill_engine "$2" "$3" "${4:-KILL}" ;;
restart)
	[ $# -ge 3 ] || die "usage: swarm.sh restart DIR N"
	restart_engine "$2" "$3" ;;
cluster)
	[ $# -ge 3 ] || die "usage: swarm.sh cluster DIR MANAGERS [WORKERS]"
	STACKD_ROOTFS=$2/rootfs
	cluster "$2" "$3" "${4:-0}" ;;
start)
	[ $# -ge 2 ] || die "usage: swarm.sh start DIR [N]"
	STACKD_ROOTFS=$2/rootfs
	start "$2" "${3:-2}" ;;
stop)
	[ $# -ge 2 ] || die "usage: swarm.sh stop DIR"
	stop "$2" ;;
*)
	die "usage: swarm.sh start DIR [N] | cluster DIR M [W] | stop DIR | kill DIR N [SIG] | restart DIR N" ;;
esac
