#!/usr/bin/env bash
# A throwaway Docker distribution registry (Debian's docker-registry) on
# loopback, for the image-pinning tests.
#
#   registry.sh start DIR PORT [USER PASS]  serve DIR/data on 127.0.0.1:PORT (with
#                                           basic auth when USER and PASS are given);
#                                           waits until /v2/ answers
#   registry.sh kill DIR                    stop it, keeping its data
#   registry.sh notify DIR URL TOKEN        (re)start it on its data, sending push
#                                           events to URL with a bearer TOKEN
#   registry.sh stop DIR                    stop what `start DIR` started, remove DIR
#
# Loopback registries need no --insecure-registry: the engine allows
# 127.0.0.0/8 over plain http.  Only the pid written here is signalled.
set -euo pipefail

log() { printf 'registry.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

running() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

config() { # dir port user notify-url token
	local d=$1 port=$2 user=$3 url=$4 token=$5
	{
		printf 'version: 0.1\nlog: {level: warn}\n'
		printf 'storage: {filesystem: {rootdirectory: %s/data}, delete: {enabled: true}}\n' "$d"
		printf 'http: {addr: "127.0.0.1:%s"}\n' "$port"
		[ -z "$user" ] || printf 'auth: {htpasswd: {realm: stackd-test, path: %s/htpasswd}}\n' "$d"
		if [ -n "$url" ]; then
			printf 'notifications:\n  endpoints:\n    - name: stackd\n'
			printf '      url: %s\n      timeout: 2s\n      threshold: 3\n      backoff: 1s\n' "$url"
			printf '      headers: {Authorization: ["Bearer %s"]}\n' "$token"
		fi
	} >"$d/config.yml"
}

serve() { # dir port
	local d=$1 port=$2
	docker-registry serve "$d/config.yml" >>"$d/log" 2>&1 &
	echo $! >"$d/pid"
	for _ in $(seq 100); do
		curl -s -o /dev/null "http://127.0.0.1:$port/v2/" && { log "serving 127.0.0.1:$port (pid $(cat "$d/pid"))"; return 0; }
		running "$(cat "$d/pid")" || break
		sleep 0.1
	done
	die "the registry on port $port did not come up; see $d/log"
}

stop_pid() { # dir
	local pid
	pid=$(cat "$1/pid" 2>/dev/null || true)
	if running "$pid"; then
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 50); do running "$pid" || return 0; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
	fi
}

case "${1:-}" in
start)
	[ $# -ge 3 ] || die "usage: registry.sh start DIR PORT [USER PASS]"
	command -v docker-registry >/dev/null || die "docker-registry not found (apt-get install docker-registry)"
	d=$2 port=$3 user=${4:-} pass=${5:-}
	mkdir -p "$d/data"
	printf '%s\n' "$port" >"$d/port"
	if [ -n "$user" ]; then
		htpasswd -Bbn "$user" "$pass" >"$d/htpasswd" 2>/dev/null || die "htpasswd failed (apt-get install apache2-utils)"
		printf '%s\n' "$user" >"$d/user"
	fi
	config "$d" "$port" "$user" "" ""
	serve "$d" "$port"
	;;
kill)
	[ $# -eq 2 ] || die "usage: registry.sh kill DIR"
	stop_pid "$2"
	;;
notify)
	[ $# -eq 4 ] || die "usage: registry.sh notify DIR URL TOKEN"
	d=$2
	stop_pid "$d"
	config "$d" "$(cat "$d/port")" "$(cat "$d/user" 2>/dev/null || true)" "$3" "$4"
	serve "$d" "$(cat "$d/port")"
	;;
stop)
	[ $# -eq 2 ] || die "usage: registry.sh stop DIR"
	[ -d "$2" ] || exit 0
	stop_pid "$2"
	rm -rf "$2"
	;;
*)
	die "usage: registry.sh start|kill|notify|stop DIR ..."
	;;
esac
