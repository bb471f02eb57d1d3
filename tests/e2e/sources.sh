#!/usr/bin/env bash
# Several sources in one daemon: each watched on its own, their stacks
# deployed together; a stack leaving one source is removed, the other
# source's stacks untouched; a stack name two sources hold fails in both
# and removes nothing.  Prints TAP; DOCKER_HOST = engine 1.
set -uo pipefail
stackd=$1
. "$(dirname "$0")/tap.sh"
d=$(mktemp -d /tmp/stackd-sources.XXXXXX)
url=http://127.0.0.1:19093
pid=
cleanup() {
	[ -z "$pid" ] || { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
	"$stackd" apply --dir "$d/empty" --allow-empty --owner e2e-sources >/dev/null 2>&1
	rm -rf "$d"
}
trap cleanup EXIT
mkdir -p "$d/apps/web" "$d/infra/db" "$d/infra/mq" "$d/empty"
svc() { # the stack's one service, replicas 0
	printf 'services:\n  app:\n    image: local/busybox:1\n    environment: {FROM: "%s"}\n    deploy: {replicas: 0}\n' "$1"
}
svc apps >"$d/apps/web/compose.yaml"
svc infra >"$d/infra/db/compose.yaml"
svc infra >"$d/infra/mq/compose.yaml"
cat >"$d/stackd.yaml" <<YAML
engines:
  - {name: local, host: "$DOCKER_HOST"}
sources:
  - name: apps
    dir: {path: apps, debounce: 100ms}
  - name: infra
    dir: {path: infra, debounce: 100ms}
owner: e2e-sources
interval: 30s
status: {listen: "127.0.0.1:19093"}
YAML
api() { curl -s "$url$1"; }
version() { docker service inspect --format '{{.Version.Index}}' "$1" 2>/dev/null; }
from() { docker service inspect --format '{{json .Spec.TaskTemplate.ContainerSpec.Env}}' "$1" 2>/dev/null; }

run validate -c "$d/stackd.yaml"
check "validate: the stacks of both sources" eval \
	'[ $rc = 0 ] && has "stack web: ok" && has "stack db: ok" && has "stack mq: ok"'

"$stackd" run -c "$d/stackd.yaml" >"$d/log" 2>&1 &
pid=$!
all_up() { [ "$(from web_app)" = '["FROM=apps"]' ] && [ "$(from db_app)" = '["FROM=infra"]' ] && [ "$(from mq_app)" = '["FROM=infra"]' ]; }
out=
check "the stacks of both sources are deployed" within 30 all_up
sources_ok() { out=$(api /api/v1/status); py '[s["name"] for s in j["sources"]] == ["apps", "infra"] and [s["stacks"] for s in j["sources"]] == [1, 2] and all(s["revision"] for s in j["sources"])' <<<"$out"; }
check "status: both sources, each with its stacks and revision" within 10 sources_ok
out=$(api /api/v1/stacks/db)
check "status: a stack names its source" eval 'py "j[\"engines\"][\"local\"][\"source\"] == \"infra\"" <<<"$out"'
out=$(api /metrics)
check "/metrics: one family, a sample per source" eval \
	'[ "$(grep -c "^# TYPE stackd_source_snapshots_total" <<<"$out")" = 1 ] && grep -q "stackd_source_snapshots_total{source=\"apps\"}" <<<"$out" && grep -q "stackd_source_snapshots_total{source=\"infra\"}" <<<"$out"'

web=$(version web_app)
rm -rf "$d/infra/mq"
out=$(tail -5 "$d/log")
check "a stack leaving one source is removed; the other source's stack is untouched" within 20 eval \
	'! docker service inspect mq_app >/dev/null 2>&1 && [ "$(version web_app)" = "$web" ] && [ "$(version db_app)" != "" ]'

db=$(version db_app)
mkdir -p "$d/infra/web"
svc infra >"$d/infra/web/compose.yaml"
rm -rf "$d/infra/db"
web_failed() { out=$(api /api/v1/stacks/web); py 'j["state"] == "failed" and "stack web is in sources apps and infra" in j["engines"]["local"]["error"]' <<<"$out"; }
check "a stack in two sources fails, naming both" within 20 web_failed
out="web $(version web_app) $(from web_app), db $(version db_app)"
check "... its service is untouched, and nothing is removed meanwhile (db left infra)" eval \
	'[ "$(version web_app)" = "$web" ] && [ "$(from web_app)" = "[\"FROM=apps\"]" ] && [ "$(version db_app)" = "$db" ]'
run validate -c "$d/stackd.yaml"
check "validate: the stack in two sources is an error" eval \
	'[ $rc = 1 ] && has "stack web is in sources apps and infra"'
rm -rf "$d/infra/web"
web_synced() { out=$(api /api/v1/stacks/web); py 'j["state"] == "synced"' <<<"$out"; }
check "the duplicate gone: web is synced again and db, gone from infra, is removed" within 20 eval \
	'web_synced && ! docker service inspect db_app >/dev/null 2>&1'

kill "$pid"; wait "$pid"; rc=$?; pid=
check "SIGTERM: exit 0" eval '[ $rc = 0 ]'
run plan -c "$d/stackd.yaml"
check "plan -c over both sources: in sync" eval '[ $rc = 0 ] && has "stack web: in sync"'

echo "1..$n"
