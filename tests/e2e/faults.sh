#!/usr/bin/env bash
# Fault injection against the harness engines: dockerd killed in the
# middle of an apply, a concurrent writer racing stackd's updates, an
# engine gone for several cycles under the daemon and back, SIGHUP storms
# and a config file deleted under a running daemon.  Kills and restarts
# the harness engines (swarm.sh kill/restart), so tests/run.sh runs it
# last.  Prints TAP.
set -uo pipefail
stackd=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
: "${STACKD_TEST_DIR:?} ${STACKD_TEST_ENGINE1:?} ${STACKD_TEST_ENGINE2:?} ${STACKD_TEST_CERTS:?}"
swarm=$here/../harness/swarm.sh
d=$(mktemp -d /tmp/stackd-faults.XXXXXX)
url=http://127.0.0.1:19092
pid=
bumper=
receiver=
proxy=

e1() { DOCKER_HOST=$STACKD_TEST_ENGINE1 docker "$@"; }
e2() { DOCKER_HOST=$STACKD_TEST_ENGINE2 DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=$STACKD_TEST_CERTS docker "$@"; }
api() { curl -s "$url$1"; }
up() { e1 version >/dev/null 2>&1 || "$swarm" restart "$STACKD_TEST_DIR" 1 2>/dev/null
	e2 version >/dev/null 2>&1 || "$swarm" restart "$STACKD_TEST_DIR" 2 2>/dev/null; }

cleanup() {
	[ -z "$bumper" ] || kill "$bumper" 2>/dev/null
	[ -z "$receiver" ] || kill "$receiver" 2>/dev/null
	[ -z "$proxy" ] || kill "$proxy" 2>/dev/null
	[ -z "$pid" ] || { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
	up
	local gone=(apply --dir "$d/empty" --allow-empty --prune-secrets --owner e2e-faults)
	DOCKER_HOST=$STACKD_TEST_ENGINE1 "$stackd" "${gone[@]}" >/dev/null 2>&1
	DOCKER_HOST=$STACKD_TEST_ENGINE2 DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=$STACKD_TEST_CERTS \
		"$stackd" "${gone[@]}" >/dev/null 2>&1
	rm -rf "$d"
}
trap cleanup EXIT
mkdir -p "$d/empty" "$d/big" "$d/race" "$d/src/both"
o=(--owner e2e-faults)

# --- dockerd SIGKILLed in the middle of an apply of 50 services ---------
{
	echo "services:"
	for i in $(seq -w 1 50); do
		printf '  s%s:\n    image: local/busybox:1\n    deploy: {replicas: 0}\n' "$i"
	done
} >"$d/big/compose.yaml"
count_big() { e1 service ls -q --filter label=com.docker.stack.namespace=big | wc -l; }
# The engine is SIGKILLed when the 21st service create reaches it (by
# tests/harness/killproxy.py, between stackd and the engine's socket): a
# poll loop racing the apply lost on fast machines, where the apply was
# done before the poll saw its first services.
sock=${STACKD_TEST_ENGINE1#unix://}
python3 "$here/../harness/killproxy.py" "$d/proxy.sock" "$sock" "$STACKD_TEST_DIR/e1/pid" \
	'/services/create ' 21 >"$d/proxy.out" 2>&1 &
proxy=$!
within 10 grep -q ready "$d/proxy.out"
DOCKER_HOST=unix://$d/proxy.sock "$stackd" apply -s big -f "$d/big/compose.yaml" "${o[@]}" >"$d/apply.out" 2>&1
rc=$?
kill "$proxy" 2>/dev/null; wait "$proxy" 2>/dev/null; proxy=
out=$(cat "$d/apply.out")
check "dockerd killed mid-apply: apply fails with the engine's error" eval \
	'[ $rc = 1 ] && grep -q "create service big_s21: engine unix://.*: POST .*/services/create: " <<<"$out"'
"$swarm" restart "$STACKD_TEST_DIR" 1 2>/dev/null
out="$(count_big) of 50 services created"
check "the kill came at the 21st create: 20 services exist" eval '[ "$(count_big)" = 20 ]'
out=$(DOCKER_HOST=$STACKD_TEST_ENGINE1 "$stackd" apply -s big -f "$d/big/compose.yaml" "${o[@]}" 2>&1); rc=$?
check "after the restart, apply converges" eval '[ $rc = 0 ]'
names=$(e1 service ls --format '{{.Name}}' --filter label=com.docker.stack.namespace=big | sort)
out=$names
check "... with all 50 services, none twice, none lost" eval \
	'[ "$(wc -l <<<"$names")" = 50 ] && [ "$(uniq <<<"$names" | wc -l)" = 50 ]'
out=$(DOCKER_HOST=$STACKD_TEST_ENGINE1 "$stackd" plan -s big -f "$d/big/compose.yaml" "${o[@]}" 2>&1); rc=$?
check "... and plan finds it in sync" eval '[ $rc = 0 ]'

# --- a concurrent writer bumping a service's version during an update ---
gen_race() { # value
	echo "services:"
	for i in $(seq -w 1 15); do
		printf '  s%s:\n    image: local/busybox:1\n    environment: {V: "%s"}\n    deploy: {replicas: 0}\n' "$i" "$1"
	done
}
gen_race one >"$d/race/compose.yaml"
DOCKER_HOST=$STACKD_TEST_ENGINE1 "$stackd" apply -s race -f "$d/race/compose.yaml" "${o[@]}" >/dev/null 2>&1
gen_race two >"$d/race/compose.yaml"
# The proxy makes the write itself, right before it forwards stackd's
# first update, so the race is won every time (a writer on a timer lost
# it whenever the whole apply fit between two of its writes).
python3 "$here/../harness/killproxy.py" "$d/bump.sock" "${STACKD_TEST_ENGINE1#unix://}" \
	"$STACKD_TEST_DIR/e1/pid" '/update?version=' 1 bump >"$d/bump.out" 2>&1 &
bumper=$!
within 10 grep -q ready "$d/bump.out"
out=$(DOCKER_HOST=unix://$d/bump.sock "$stackd" apply -s race -f "$d/race/compose.yaml" "${o[@]}" 2>&1); rc=$?
kill "$bumper"; wait "$bumper" 2>/dev/null; bumper=
check "a concurrent writer bumping versions: apply retries and converges" eval \
	'[ $rc = 0 ] && grep -Eq "[1-9][0-9]* retried after a concurrent write" <<<"$out" && [ "$(e1 service inspect --format "{{json .Spec.TaskTemplate.ContainerSpec.Env}}" race_s01)" = "[\"V=two\"]" ] && grep -q "bumped race_s01" "$d/bump.out"'

# --- the daemon: engine 2 gone for several cycles, then back ------------
printf 'services:\n  app:\n    image: local/busybox:1\n    environment: {MODE: "${MODE}"}\n    deploy: {replicas: 0}\n' \
	>"$d/src/both/compose.yaml"
printf 'MODE: one\n' >"$d/src/both/vars.yaml"
cat >"$d/stackd.yaml" <<EOF
engines:
  - name: local
    host: $STACKD_TEST_ENGINE1
  - name: remote
    host: $STACKD_TEST_ENGINE2
    tls:
      cert_dir: $STACKD_TEST_CERTS
sources:
  - name: stacks
    dir:
      path: src
      debounce: 100ms
owner: e2e-faults
interval: 5s
status:
  listen: 127.0.0.1:19092
notify:
  url: http://127.0.0.1:19096/hook
  timeout: 2s
EOF
# The notification receiver: refuses its first delivery with a 503 (the
# notifier must try again), then records every body it accepts.
python3 - "$d/notes" <<'PY' &
import http.server, sys
seen = [0]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        seen[0] += 1
        if seen[0] == 1:
            self.send_response(503); self.end_headers(); return
        with open(sys.argv[1], "ab") as f:
            f.write(body + b"\n")
        self.send_response(204); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", 19096), H).serve_forever()
PY
receiver=$!
notes() { cat "$d/notes" 2>/dev/null; }
note_is() { # event engine
	notes | python3 -c "import json,sys; sys.exit(0 if any(json.loads(l)['event'] == '$1' and json.loads(l)['engine'] == '$2' and json.loads(l)['stack'] == 'both' for l in sys.stdin) else 1)"
}
"$stackd" run -c "$d/stackd.yaml" >"$d/log" 2>&1 &
pid=$!
mode() { "$1" service inspect --format '{{json .Spec.TaskTemplate.ContainerSpec.Env}}' both_app 2>/dev/null; }
engine_is() { api /api/v1/status | py "[e['reachable'] for e in j['engines'] if e['name'] == '$1'] == [$2]"; }
check "the daemon converges on both engines" within 30 eval \
	'[ "$(mode e1)" = "[\"MODE=one\"]" ] && [ "$(mode e2)" = "[\"MODE=one\"]" ]'
"$swarm" kill "$STACKD_TEST_DIR" 2 KILL 2>/dev/null
out=$(api /api/v1/status)
check "engine 2 killed: status shows it unreachable, with the error" within 20 eval \
	'engine_is remote False && api /api/v1/status | py "[e for e in j[\"engines\"] if e[\"name\"] == \"remote\"][0][\"error\"]"'
printf 'MODE: two\n' >"$d/src/both/vars.yaml"
check "... engine 1 keeps converging meanwhile" within 15 eval '[ "$(mode e1)" = "[\"MODE=two\"]" ]'
sleep 12	# several cycles (interval 5 s) against the dead engine
out=$(api /api/v1/stacks/both)
check "... the stack is failed on engine 2 only, and the daemon lives" eval \
	'kill -0 $pid && py "j[\"engines\"][\"local\"][\"state\"] == \"synced\" and j[\"engines\"][\"remote\"][\"state\"] == \"failed\"" <<<"$out"'
out=$(notes)
check "... notified: stack.failed on remote (after a 503 and a retry), none for local" within 20 eval \
	'note_is stack.failed remote && ! notes | grep -q "\"engine\":\"local\"" && grep -q "trying again in 1 s" "$d/log"'
"$swarm" restart "$STACKD_TEST_DIR" 2 2>/dev/null
out=$(api /api/v1/stacks/both)
check "engine 2 back: reconciled at once, the change made meanwhile arrives" within 20 eval \
	'[ "$(mode e2)" = "[\"MODE=two\"]" ] && engine_is remote True'
out=$(notes)
check "... notified: stack.synced on remote, with the previous state" within 20 eval \
	'note_is stack.synced remote && notes | tail -1 | py "j[\"previous\"] == \"failed\" and j[\"owner\"] == \"e2e-faults\" and j[\"error\"] is None"'
out=$(curl -s "$url/metrics")
check "... and counted: stackd_notifications_total{result=\"sent\"} 2" eval \
	'grep -q "^stackd_notifications_total{result=\"sent\"} 2$" <<<"$out"'

# --- SIGHUP storm; the config file deleted under the daemon -------------
for _ in $(seq 1 50); do kill -HUP "$pid"; done
sleep 2
printf 'MODE: three\n' >"$d/src/both/vars.yaml"
out=$(tail -5 "$d/log")
check "50 SIGHUPs at once: the daemon lives and keeps converging" within 20 eval \
	'kill -0 $pid && [ "$(mode e1)" = "[\"MODE=three\"]" ] && [ "$(mode e2)" = "[\"MODE=three\"]" ]'
mv "$d/stackd.yaml" "$d/stackd.yaml.gone"
kill -HUP "$pid"
printf 'MODE: four\n' >"$d/src/both/vars.yaml"
out=$(tail -5 "$d/log")
check "config deleted + SIGHUP: reload refused, the old config keeps running" within 20 eval \
	'kill -0 $pid && grep -q "reload refused" "$d/log" && [ "$(mode e1)" = "[\"MODE=four\"]" ]'
kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
check "SIGTERM after all that: exit 0" eval '[ $rc = 0 ]'
