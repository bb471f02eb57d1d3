#!/usr/bin/env bash
# The status server's process, as the kernel sees it: another user than
# root, no new privileges, a seccomp filter, no descriptor but its own
# and none of the daemon's environment.  What it must not do is tried
# from inside it (gdb calls the functions in the running process): open
# for writing and socket are refused, connect and exec kill it; so does
# a message to the daemon of a type or size the daemon never takes.  The
# daemon starts it again each time, and its cycles go on meanwhile.
# Prints TAP; DOCKER_HOST = engine 1; run as root.
set -uo pipefail
stackd=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
d=$(mktemp -d /tmp/stackd-sandbox.XXXXXX)
chmod 755 "$d"
pid=
cleanup() {
	[ -z "$pid" ] || { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
	"$stackd" apply --dir "$d/empty" --allow-empty --owner e2e-sandbox >/dev/null 2>&1
	[ -n "${KEEP:-}" ] || rm -rf "$d"
}
trap cleanup EXIT
port=$(python3 "$here/../harness/freeport.py" 127.0.0.1)
url=http://127.0.0.1:$port
mkdir -p "$d/empty" "$d/src"
printf 'services:\n  x:\n    image: local/busybox:1\n    deploy: {replicas: 0}\n' >"$d/src/box.yml"
config() {
	{ config_head e2e-sandbox "$port"; printf 'stacks: {resolve_image: never}\n'; } |
	    sed "s/^status: {listen: \(.*\)}/status: {listen: \1, user: $1}/" >"$d/stackd.yaml"
}
start() {
	: >"$d/log"
	SANDBOX_E2E_MARK=daemon-only "$stackd" run -c "$d/stackd.yaml" "$@" >>"$d/log" 2>&1 &
	pid=$!
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null; pid=; }
status() { curl -s "$url/api/v1/status"; }
sb() { status | py "(lambda s: $1)(j['sandbox'])"; }
child() { status | python3 -c 'import json,sys; print(json.load(sys.stdin)["sandbox"].get("pid", ""))'; }
starts() { status | python3 -c 'import json,sys; print(json.load(sys.stdin)["sandbox"]["starts"])'; }
cycles() { status | python3 -c 'import json,sys; print(json.load(sys.stdin)["engines"][0]["cycles"])'; }
field() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
# Call a C expression inside process $1; print its value.  gdb may
# crash when the process dies under it: no core file of it.
call() {
	(ulimit -c 0; cd "$d" && timeout 60 gdb -nx -batch -p "$1" -ex "print $2" 2>/dev/null) |
	    sed -n 's/^\$1 = //p'
}
# The process after $1 answers: a new pid, confined, the page served.
replaced() {
	local p
	p=$(child) && [ -n "$p" ] && [ "$p" != "$1" ] &&
	    sb 's["seccomp"] and s["no_new_privs"]' &&
	    [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/")" = 200 ]
}

config nobody
start
check "the daemon serves its status" within 30 eval 'sb "s.get(\"pid\", 0) > 0 and s[\"seccomp\"]"'
cpid=$(child)
out=$(cat "/proc/$cpid/status" 2>&1)
check "the status process runs as nobody, not root" \
	[ "$(field "$cpid" Uid)" = "$(id -u nobody)" ]
check "... with NoNewPrivs 1 and Seccomp 2 (a filter)" eval \
	'[ "$(field "$cpid" NoNewPrivs)" = 1 ] && [ "$(field "$cpid" Seccomp)" = 2 ]'
out=$(status)
check "/api/v1/status says so, with nothing missing" \
	sb 's["enabled"] and s["user"] and s["no_new_privs"] and s["seccomp"] and "missing" not in s and s["starts"] == 1'
out=$(ls -l "/proc/$cpid/fd" 2>&1)
socks() { ls -l "/proc/$1/fd" | grep -c 'socket:'; }
check "its descriptors: stdio, the listening socket, the socketpair (no engine's)" eval \
	'[ "$(ls "/proc/$cpid/fd" | sort -n | tr "\n" " ")" = "0 1 2 3 4 " ] && [ "$(socks "$cpid")" = 2 ]'
check "... while the daemon holds the engine's" eval '[ "$(socks "$pid")" -gt 2 ]'
out=$(tr '\0' '\n' <"/proc/$cpid/environ")
check "its environment has none of the daemon's" eval \
	'! has SANDBOX_E2E_MARK && ! has DOCKER_HOST && ! has PATH='

out=$(call "$cpid" '(int)open("'"$d"'/written", 0101, 0644)')
check "open for writing inside it: refused, nothing written" eval \
	'[ "$out" = -1 ] && [ ! -e "$d/written" ] && kill -0 "$cpid"'
out=$(call "$cpid" '(int)*(int *)__errno_location()')
check "... with EACCES" [ "$out" = 13 ]
out=$(call "$cpid" '(int)socket(2, 1, 0)')
check "socket inside it: refused, the process goes on" eval \
	'[ "$out" = -1 ] && kill -0 "$cpid"'

c0=$(cycles); t0=$SECONDS
call "$cpid" '((int (*)(int, void *, int))connect)(3, 0, 0)' >/dev/null
check "connect inside it: killed by SIGSYS" within 10 eval \
	'grep -q "status process $cpid ended (killed by SIGSYS" "$d/log"'
check "... and another one serves within 5 s" within 5 replaced "$cpid"
cpid=$(child)
call "$cpid" '(int)execve("/bin/true", 0, 0)' >/dev/null
check "execve inside it: killed, replaced" within 10 eval \
	'grep -q "status process $cpid ended (killed by SIGSYS" "$d/log" && replaced "$cpid"'
cpid=$(child)
k0=$(date +%s%N)
kill -KILL "$cpid"
check "SIGKILL: the daemon starts another, the page answers within 5 s" \
	within 5 replaced "$cpid"
echo "# SIGKILL of the status process -> the page answers again: $(( ($(date +%s%N) - k0) / 1000000 )) ms" >&2
cpid=$(child)
# A header of a type the daemon never takes from it, then one of a
# webhook message of a megabyte: refused before anything is read.
call "$cpid" '(long)write(4, "\007\0\0\0\0\0\0\0", 8)' >/dev/null
check "a message of an unknown type to the daemon: the process is killed" within 10 eval \
	'grep -q "status process $cpid ended (killed: it sent a message of unknown type 7" "$d/log" && replaced "$cpid"'
cpid=$(child)
call "$cpid" '(long)write(4, "\021\0\0\0\0\0\020\0", 8)' >/dev/null
check "... and one past its size: killed too" within 10 eval \
	'grep -q "status process $cpid ended (killed: it sent a message of type 17 and" "$d/log" && replaced "$cpid"'
out=$(status)
check "the status counts the starts and says how the last one ended" \
	sb 's["starts"] == 6 and s["last_exit"].startswith("killed: it sent a message of type 17")'
elapsed=$((SECONDS - t0)); c1=$(cycles)
out="cycles $c0 -> $c1 in ${elapsed}s (interval 2s)"
check "the daemon's cycles went on meanwhile: none skipped" \
	[ $((c1 - c0)) -ge $((elapsed / 2 - 1)) ]
echo "# $out" >&2
stop

# --no-sandbox: unconfined, and loud about it.
start --no-sandbox
check "--no-sandbox: the status says it is off" within 30 \
	sb 's.get("pid", 0) > 0 and not s["enabled"] and not s["seccomp"]'
cpid=$(child)
check "... the process is root, without a filter" eval \
	'[ "$(field "$cpid" Uid)" = 0 ] && [ "$(field "$cpid" Seccomp)" = 0 ]'
check "... and the log warns" grep -q 'warn msg="--no-sandbox: the status server runs as uid 0' "$d/log"
stop

config no-such-user-here
run run -c "$d/stackd.yaml"
check "status.user that does not exist: the daemon refuses to start" eval \
	'[ "$rc" = 1 ] && has "status.user no-such-user-here: no such user"'
echo "1..$n"
