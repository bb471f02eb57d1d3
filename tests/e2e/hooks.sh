#!/usr/bin/env bash
# x-stackd-hook jobs on a real engine. A pre-sync job writes the marker
# of its revision into a volume and the app starts only where that marker
# is (so an app written first would fail); the engine's events show the
# job finished before the app was written. A post-sync job runs once the
# stack is healthy. Hooks are no drift and do not run again for the same
# files, across a restart. A failing pre-sync job and one past
# hook_timeout block the update, with the task's error. Prints TAP;
# DOCKER_HOST = engine 1.
set -uo pipefail
stackd=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
d=$(mktemp -d /tmp/stackd-hooks.XXXXXX)
pid=
cleanup() {
	[ -z "$pid" ] || { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
	"$stackd" apply --dir "$d/empty" --allow-empty --owner e2e-hooks >/dev/null 2>&1
	for _ in 1 2 3 4 5 6 7 8 9 10; do docker volume rm h_data >/dev/null 2>&1 && break; sleep 1; done
	[ -n "${KEEP:-}" ] || rm -rf "$d"
}
trap cleanup EXIT
port=$(python3 "$here/../harness/freeport.py" 127.0.0.1)
url=http://127.0.0.1:$port
mkdir -p "$d/empty" "$d/src/h"
stack() { # VERSION MIGRATE-COMMAND
	cat >"$d/src/h/compose.yaml" <<YAML
services:
  app:
    image: local/busybox:1
    command: [sh, -c, "[ -e /data/$1 ] && exec sleep 3600"]
    volumes: [data:/data]
  migrate:
    image: local/busybox:1
    command: [sh, -c, "$2"]
    volumes: [data:/data]
    deploy: {mode: replicated-job}
    x-stackd-hook: pre-sync
  announce:
    image: local/busybox:1
    command: [sh, -c, ": >/data/announced-$1"]
    volumes: [data:/data]
    deploy: {mode: replicated-job}
    x-stackd-hook: post-sync
volumes:
  data: {}
YAML
}
{ config_head e2e-hooks "$port"; cat <<YAML
stacks:
  resolve_image: never
  hook_timeout: 8s
YAML
} >"$d/stackd.yaml"
api() { curl -s "$url/api/v1/stacks/h"; }
local_is() { api | py "(lambda e: $1)(j['engines']['local'])"; }
spec() { docker service inspect --format "$2" "$1" 2>/dev/null; }

# A hook that is no job is refused, naming the key.
stack v1 ": >/data/v1"
python3 - "$d/src/h/compose.yaml" <<'PY'
import sys
p = sys.argv[1]; s = open(p).read()
open(p + ".bad", "w").write(s.replace("    deploy: {mode: replicated-job}\n    x-stackd-hook: post-sync", "    x-stackd-hook: post-sync"))
PY
mkdir -p "$d/bad/h" && mv "$d/src/h/compose.yaml.bad" "$d/bad/h/compose.yaml"
run validate --dir "$d/bad"
check "validate: a hook that is no job is an error naming its key" eval \
	'[ $rc = 1 ] && has "services.announce.x-stackd-hook" && has "replicated-job"'

t0=$(date +%s)
"$stackd" run -c "$d/stackd.yaml" >"$d/log" 2>&1 &
pid=$!
check "v1: synced and healthy, after its pre-sync and post-sync hooks" within 90 eval \
	'local_is "e[\"state\"] == \"synced\" and e[\"health\"] == \"healthy\"" && [ "$(spec h_announce "{{index .Spec.Labels \"com.stackd.hook-key\"}}")" = "$(spec h_migrate "{{index .Spec.Labels \"com.stackd.hook-key\"}}")" ]'
out=$(api)
docker events --since "$t0" --until "$(events_until)" --format \
	'{{.TimeNano}}|{{.Type}}|{{.Action}}|{{index .Actor.Attributes "name"}}' >"$d/events"
at() { awk -F'|' -v t="$1" -v a="$2" -v n="$3" '$2 == t && $3 == a && index($4, n) == 1 { print $1; exit }' "$d/events"; }
out="migrate died $(at container die h_migrate.), app created $(at service create h_app), app started $(at container start h_app.), announce created $(at service create h_announce)"
check "the engine's events: the app was created after the migration finished" eval \
	'[ -n "$(at service create h_app)" ] && [ "$(at service create h_app)" -gt "$(at container die h_migrate.)" ]'
check "... and the post-sync job after the app started" eval \
	'[ -n "$(at service create h_announce)" ] && [ "$(at service create h_announce)" -gt "$(at container start h_app.)" ]'
out=$(api)
check "the status shows the hooks, marked, apart from the stack's health" eval \
	'py "sorted((s[\"name\"], s.get(\"hook\")) for s in j[\"engines\"][\"local\"][\"services\"]) == [(\"h_announce\", \"post-sync\"), (\"h_app\", None), (\"h_migrate\", \"pre-sync\")]" <<<"$out"'

v_migrate=$(spec h_migrate '{{.Version.Index}}')
v_announce=$(spec h_announce '{{.Version.Index}}')
sleep 7	# three cycles
check "finished jobs are no drift: neither hook written again" eval \
	'[ "$(spec h_migrate "{{.Version.Index}}")" = "$v_migrate" ] && [ "$(spec h_announce "{{.Version.Index}}")" = "$v_announce" ]'

# v2: the migration fails; the app keeps running v1.
stack v2 "exit 3"
check "v2, the pre-sync job fails: the stack fails with the task's error and exit code" within 60 eval \
	'local_is "e[\"state\"] == \"failed\" and \"pre-sync hook h_migrate failed: failed: task: non-zero exit (3)\" in e[\"error\"]"'
out=$(spec h_app '{{json .Spec.TaskTemplate.ContainerSpec.Args}}')
check "... and nothing else was written: the app still checks for v1" has '/data/v1'

# v3: the migration hangs past hook_timeout (8s).
stack v3 "exec sleep 3600"
check "v3, the pre-sync job runs past hook_timeout: failed, said so" within 60 eval \
	'local_is "\"pre-sync hook h_migrate failed: did not finish within 8s\" in e.get(\"error\", \"\")"'
out=$(spec h_app '{{json .Spec.TaskTemplate.ContainerSpec.Args}}')
check "... the app untouched" has '/data/v1'

# v4: fixed; restarting the daemon then runs nothing again.
stack v4 ": >/data/v4"
check "v4: the migration runs, then the app is updated, then announce" within 90 eval \
	'local_is "e[\"state\"] == \"synced\" and e[\"health\"] == \"healthy\"" && spec h_app "{{json .Spec.TaskTemplate.ContainerSpec.Args}}" | grep -q /data/v4 && [ "$(spec h_announce "{{index .Spec.Labels \"com.stackd.hook-key\"}}")" = "$(spec h_migrate "{{index .Spec.Labels \"com.stackd.hook-key\"}}")" ]'
v_migrate=$(spec h_migrate '{{.Version.Index}}')
v_announce=$(spec h_announce '{{.Version.Index}}')
kill "$pid"; wait "$pid" 2>/dev/null
"$stackd" run -c "$d/stackd.yaml" >>"$d/log" 2>&1 &
pid=$!
check "after a restart: synced, and no hook ran again" within 30 eval \
	'local_is "e[\"state\"] == \"synced\"" && [ "$(spec h_migrate "{{.Version.Index}}")" = "$v_migrate" ] && [ "$(spec h_announce "{{.Version.Index}}")" = "$v_announce" ]'

# The one-shot apply has no next cycle: it waits for the migration, then
# writes the app; from nothing, the stack's network is made once, for
# the job.
kill "$pid"; wait "$pid" 2>/dev/null; pid=
"$stackd" apply --dir "$d/empty" --allow-empty --owner e2e-hooks >/dev/null 2>&1
# A removed swarm network stays listed for a while.
for _ in $(seq 40); do docker network inspect h_default >/dev/null 2>&1 || break; sleep 0.5; done
stack v5 ": >/data/v5"
t0=$(date +%s)
run apply -c "$d/stackd.yaml"
docker events --since "$t0" --until "$(events_until)" --format \
	'{{.TimeNano}}|{{.Type}}|{{.Action}}|{{index .Actor.Attributes "name"}}' >"$d/events"
out="rc $rc: $out; migrate died $(at container die h_migrate.), app created $(at service create h_app)"
check "stackd apply: the network made, the pre-sync job run to completion, then the app" eval \
	'[ $rc = 0 ] && has "1 pre-sync hook run to completion" && [ -n "$(at service create h_app)" ] && [ "$(at service create h_app)" -gt "$(at container die h_migrate.)" ]'
echo "1..$n"
