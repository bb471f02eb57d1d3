#!/usr/bin/env bash
# stacks.list: the daemon deploys exactly the stacks the config lists,
# each from its own compose files (merged in order) and vars files, and a
# SIGHUP with another list takes effect without any change to the source.
# Prints TAP; DOCKER_HOST = engine 1.
set -uo pipefail
stackd=$1
. "$(dirname "$0")/tap.sh"
d=$(mktemp -d /tmp/stackd-list.XXXXXX)
pid=
cleanup() {
	[ -z "$pid" ] || { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
	"$stackd" apply --dir "$d/empty" --allow-empty --owner e2e-list >/dev/null 2>&1
	rm -rf "$d"
}
trap cleanup EXIT
mkdir -p "$d/src/web" "$d/src/other" "$d/empty"
printf 'services:\n  app:\n    image: local/busybox:1\n    environment: {TIER: "${TIER}"}\n' >"$d/src/web/base.yaml"
printf 'services:\n  app:\n    deploy: {replicas: 0}\n' >"$d/src/web/prod.yaml"
printf 'TIER: prod\n' >"$d/src/web/prod.vars.yaml"
printf 'services:\n  x:\n    image: local/busybox:1\n    deploy: {replicas: 0}\n' >"$d/src/other/compose.yaml"
config() { # the stacks.list entries
	cat >"$d/stackd.yaml" <<YAML
engines:
  - {name: local, host: "$DOCKER_HOST"}
sources:
  - name: s
    dir: {path: src, debounce: 100ms}
owner: e2e-list
interval: 30s
status: {listen: "127.0.0.1:19098"}
stacks:
  list:
$1
YAML
}
config '    - {name: web, files: [web/base.yaml, web/prod.yaml], vars: [web/prod.vars.yaml]}'
"$stackd" run -c "$d/stackd.yaml" >"$d/log" 2>&1 &
pid=$!
spec() { docker service inspect --format '{{.Spec.Mode.Replicated.Replicas}} {{json .Spec.TaskTemplate.ContainerSpec.Env}}' "$1" 2>/dev/null; }
out=$(spec web_app)
check "a listed stack is deployed from its files merged in order and its vars" within 30 eval \
	'[ "$(spec web_app)" = "0 [\"TIER=prod\"]" ]'
sleep 1
out=$(docker service ls --format '{{.Name}}')
check "a stack directory the list does not name is left alone" eval '! grep -q "^other_" <<<"$out"'
count() { curl -s http://127.0.0.1:19098/api/v1/status | py "j['sources'][0]['stacks'] == $1"; }
check "status counts the listed stacks (1), not the discovered ones (2)" within 5 count 1
config '    - {name: web, files: [web/base.yaml, web/prod.yaml], vars: [web/prod.vars.yaml]}
    - {name: other, files: [other/compose.yaml]}'
kill -HUP "$pid"
out=$(tail -3 "$d/log")
check "SIGHUP with a longer list: the new stack arrives with no change to the source" within 20 \
	eval 'docker service inspect other_x >/dev/null 2>&1 && count 2'
config '    - {name: other, files: [other/compose.yaml]}'
kill -HUP "$pid"
check "SIGHUP with web left out of the list: it is removed" within 20 eval \
	'! docker service inspect web_app >/dev/null 2>&1 && docker service inspect other_x >/dev/null 2>&1'

# Per-stack policies: other keeps what leaves its file (prune: false) and
# leaves the replica count of a service without deploy.replicas alone
# (keep_replicas: true).
printf 'services:\n  x:\n    image: local/busybox:1\n    deploy: {replicas: 0}\n  y:\n    image: local/busybox:1\n    environment: {V: one}\n' \
	>"$d/src/other/compose.yaml"
config '    - {name: other, files: [other/compose.yaml], prune: false, keep_replicas: true}'
out=$("$stackd" validate -c "$d/stackd.yaml" 2>&1)
check "validate names each stack's policies" eval \
	'grep -qx "stack other: ok, 2 services (keep_replicas, prune: false)" <<<"$out"'
kill -HUP "$pid"
env_of() { docker service inspect --format '{{json .Spec.TaskTemplate.ContainerSpec.Env}}' "$1" 2>/dev/null; }
check "SIGHUP with policies for other: its new service arrives" within 20 eval \
	'[ "$(env_of other_y)" = "[\"V=one\"]" ]'
docker service scale -d other_y=0 >/dev/null
sleep 3
out=$(docker service inspect --format '{{.Spec.Mode.Replicated.Replicas}}' other_y)
check "keep_replicas: true - a hand-made scale of a service without deploy.replicas stays" \
	eval '[ "$out" = 0 ]'
printf 'services:\n  y:\n    image: local/busybox:1\n    environment: {V: two}\n' >"$d/src/other/compose.yaml"
out=$(tail -3 "$d/log")
check "prune: false - x left the file and stays, while y's change is applied" within 20 eval \
	'[ "$(env_of other_y)" = "[\"V=two\"]" ] && docker service inspect other_x >/dev/null 2>&1'
other() { out=$(curl -s http://127.0.0.1:19098/api/v1/stacks/other); py "$1" <<<"$out"; }
check "... the stack is synced, and its status notes what it kept" within 15 other \
	'j["state"] == "synced" and "service other_x: not in the files any more; kept" in j["engines"]["local"]["notes"][0]'
