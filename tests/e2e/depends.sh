#!/usr/bin/env bash
# Order between stacks on a real engine: app depends on db (stacks.list),
# web on app (x-stackd in its file). Each is first created only after
# what it depends on turned healthy, as the engine's own events time
# them; a cycle and an unknown name fail those stacks alone, in the
# daemon and in validate. Prints TAP; DOCKER_HOST = engine 1.
set -uo pipefail
stackd=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
d=$(mktemp -d /tmp/stackd-depends.XXXXXX)
pid=
cleanup() {
	[ -z "$pid" ] || { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
	"$stackd" apply --dir "$d/empty" --allow-empty --owner e2e-depends >/dev/null 2>&1
	[ -n "${KEEP:-}" ] || rm -rf "$d"
}
trap cleanup EXIT
port=$(python3 "$here/../harness/freeport.py" 127.0.0.1)
url=http://127.0.0.1:$port
mkdir -p "$d/empty" "$d/src"/{db,app,web,loop1,loop2,ghost}
stack() { # NAME [x-stackd depends_on] [service lines...]
	local s=$1 deps=$2; shift 2
	{ [ -z "$deps" ] || printf 'x-stackd: {depends_on: [%s]}\n' "$deps"
	  printf 'services:\n  x:\n    image: local/busybox:1\n'
	  printf '    %s\n' "${@:-command: [sleep, \"3600\"]}"; } >"$d/src/$s/compose.yaml"
}
# Healthy 4 s after it starts.
stack db "" 'command: [sh, -c, "sleep 4; : >/up; exec sleep 3600"]' \
	'healthcheck: {test: [CMD, sh, -c, "[ -e /up ]"], interval: 1s, start_period: 60s}'
stack app ""
stack web app
stack loop1 loop2
stack loop2 loop1
stack ghost nope
{ config_head e2e-depends "$port"; cat <<YAML
stacks:
  resolve_image: never
  list:
    - {name: db, files: [db/compose.yaml]}
    - {name: app, files: [app/compose.yaml], depends_on: [db]}
    - {name: web, files: [web/compose.yaml]}
    - {name: loop1, files: [loop1/compose.yaml]}
    - {name: loop2, files: [loop2/compose.yaml]}
    - {name: ghost, files: [ghost/compose.yaml]}
YAML
} >"$d/stackd.yaml"

run validate -c "$d/stackd.yaml"
check "validate: the cycle and the unknown name are errors (exit 1)" eval \
	'[ $rc = 1 ] && has "stack loop1: depends_on cycle: loop1 -> loop2 -> loop1" && has "stack ghost: depends_on names nope"'
check "... and the ordered stacks are fine" eval '! has "stack app: depends" && ! has "stack web: depends"'

t0=$(date +%s)
"$stackd" run -c "$d/stackd.yaml" >"$d/log" 2>&1 &
pid=$!
api() { curl -s "$url/api/v1/stacks/$1"; }
check "app waits for db, saying so, and is not on the engine" within 10 eval \
	'api app | py "j[\"state\"] == \"progressing\" and j[\"engines\"][\"local\"][\"health_reason\"].startswith(\"waiting for db (\")" && ! docker service inspect app_x >/dev/null 2>&1'
out=$(api app)
check "... its pending changes are shown" eval \
	'py "\"create service app_x\" in j[\"engines\"][\"local\"][\"pending_changes\"]" <<<"$out"'
out=$(api web)
check "web waits for app" eval \
	'py "j[\"engines\"][\"local\"][\"health_reason\"].startswith(\"waiting for app (\")" <<<"$out"'
all_up() {
	local s
	for s in db app web; do
		api "$s" | py "j['state'] == 'synced' and j['health'] == 'healthy'" || return 1
	done
}
check "all three are synced and healthy in the end" within 60 all_up

# The engine's events: when each became healthy, when each was created.
docker events --since "$t0" --until "$(events_until)" --format \
	'{{.TimeNano}}|{{.Type}}|{{.Action}}|{{index .Actor.Attributes "name"}}' >"$d/events"
at() { # TYPE ACTION NAME-PREFIX: the first such event's time, ns
	awk -F'|' -v t="$1" -v a="$2" -v n="$3" '$2 == t && $3 == a && index($4, n) == 1 { print $1; exit }' "$d/events"
}
db_ok=$(at container "health_status: healthy" db_x.)
ordering="db healthy $db_ok, app created $(at service create app_x), web created $(at service create web_x)
$(grep -E "create|start|healthy" "$d/events")"
out=$ordering
check "the engine's events: app created after db turned healthy" eval \
	'[ -n "$db_ok" ] && [ "$(at service create app_x)" -gt "$db_ok" ]'
check "... and web after app turned healthy (app has no healthcheck: running)" eval \
	'[ "$(at service create web_x)" -gt "$(at container start app_x.)" ]'

out=$(api loop1; api ghost; api db)
check "the cycle fails both of its stacks, with the path" eval \
	'api loop1 | py "j[\"state\"] == \"failed\" and \"depends_on cycle: loop1 -> loop2 -> loop1\" in j[\"engines\"][\"local\"][\"error\"]" && api loop2 | py "j[\"state\"] == \"failed\""'
check "the unknown name fails its stack" eval \
	'api ghost | py "j[\"state\"] == \"failed\" and \"depends_on names nope\" in j[\"engines\"][\"local\"][\"error\"]"'
check "... and none of them was written" eval \
	'! docker service inspect loop1_x loop2_x ghost_x >/dev/null 2>&1'

# Once written, a stack is not held back by its dependency's trouble:
# what runs keeps running, and a change of its own still waits.
printf 'services:\n  x:\n    image: local/busybox:1\n    command: [sleep, "3601"]\n' >"$d/src/app/compose.yaml"
docker service update --quiet --detach --env-add HAND=1 db_x >/dev/null
check "db rolling (stackd undoes the hand change): not healthy for a while" within 20 eval \
	'api db | py "j[\"health\"] != \"healthy\""'
out=$(api app)
check "... app, synced, is not touched meanwhile" eval \
	'py "j[\"state\"] == \"synced\" or \"waiting for db\" in j[\"engines\"][\"local\"].get(\"health_reason\", \"\")" <<<"$out"'
check "... and its own change waits, then goes through once db is healthy" within 60 eval \
	'[ "$(docker service inspect --format "{{json .Spec.TaskTemplate.ContainerSpec.Args}}" app_x)" = "[\"sleep\",\"3601\"]" ] && api db | py "j[\"health\"] == \"healthy\""'
t1=$(docker service inspect --format '{{.UpdatedAt}}' app_x)

# Out of the list together: removed dependents first (web, app, db).
mkdir -p "$d/src/keep"
stack keep ""
{ config_head e2e-depends "$port"; cat <<YAML
stacks:
  resolve_image: never
  prune_limit: 100
  list:
    - {name: keep, files: [keep/compose.yaml]}
YAML
} >"$d/stackd.yaml"
kill -HUP "$pid"
gone() { ! docker service inspect db_x app_x web_x >/dev/null 2>&1; }
check "SIGHUP with only keep listed: db, app and web are removed" within 30 gone
# The workers' memory of depends_on outlives the reload that drops them.
removed() { grep -oE "object=service/(db|app|web)_x msg=removed" "$d/log" | cut -d/ -f2 | cut -d' ' -f1 | tr '\n' ' '; }
# The engine forgets db_x a moment before the daemon logs that it did.
check "... dependents first: web, then app, then db" within 10 eval \
	'out="removed in the order: $(removed)"; [ "$(removed)" = "web_x app_x db_x " ]'
out="app updated $t1; db events: $(docker events --since "$t0" --until "$(events_until)" --filter container="$(docker ps -q --filter name=db_x | head -1)" --format '{{.Time}} {{.Action}}' | tail -3 | tr '\n' ' ')"
sed "s/^/# /" <<<"$(head -1 <<<"$ordering")
$out" >&2
echo "1..$n"
