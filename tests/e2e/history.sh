#!/usr/bin/env bash
# The sync history on a real engine: each write or failure of a stack is
# one entry, newest first, with its trigger (revision, drift), the
# objects and fields changed, the error; a failure repeated every cycle
# stays one entry; the state directory keeps it across a restart, bounded
# at 50; `stackd history` prints it from the running daemon. Prints TAP;
# DOCKER_HOST = engine 1.
set -uo pipefail
stackd=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
d=$(mktemp -d /tmp/stackd-history.XXXXXX)
pid=
cleanup() {
	[ -z "$pid" ] || { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
	"$stackd" apply --dir "$d/empty" --allow-empty --owner e2e-history >/dev/null 2>&1
	[ -n "${KEEP:-}" ] || rm -rf "$d"
}
trap cleanup EXIT
port=$(python3 "$here/../harness/freeport.py" 127.0.0.1)
url=http://127.0.0.1:$port
mkdir -p "$d/empty" "$d/src/hist"
stack() { # the value of env FOO
	printf 'services:\n  x:\n    image: local/busybox:1\n    command: [sleep, "3600"]\n    environment: {FOO: "%s"}\n' "$1" >"$d/src/hist/compose.yaml"
}
stack one
{ config_head e2e-history "$port"; cat <<YAML
stacks:
  resolve_image: never
YAML
} >"$d/stackd.yaml"
start() {
	"$stackd" run -c "$d/stackd.yaml" >>"$d/log" 2>&1 &
	pid=$!
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null; pid=; }
hist() { curl -s "$url/api/v1/stacks/hist/history"; }
# py over the newest entries on engine local: h[0] is the newest.
hpy() { hist | py "(lambda h: $1)(j['engines']['local'])"; }

start
check "the first sync: one entry, a new revision that created the service" within 30 \
	hpy '[e["trigger"] for e in h] == ["revision"] and h[0]["result"] == "synced" and {"action": "create", "kind": "service", "name": "hist_x"} in h[0]["changes"]'
out=$(hist)
rev1=$(hist | python3 -c 'import json,sys; print(json.load(sys.stdin)["engines"]["local"][0]["revision"])')
check "... with its revision, source and times" hpy \
	'h[0]["revision"] == "'"$rev1"'" and len(h[0]["revision"]) == 64 and h[0]["source"] == "s" and h[0]["started"] <= h[0]["finished"] and h[0]["duration_seconds"] >= 0'

stack two
check "a new revision: the update, its field path, never the value" within 30 \
	hpy 'len(h) == 2 and h[0]["trigger"] == "revision" and h[0]["changes"][0]["action"] == "update" and h[0]["changes"][0]["fields"] == ["TaskTemplate.ContainerSpec.Env"]'
out=$(hist)
check "... and no value of the environment appears" eval '! has "FOO=two" && ! has "FOO=one"'

docker service update --quiet --detach --env-add HAND=1 hist_x >/dev/null
check "a hand change repaired: trigger drift, the change marked drift" within 30 \
	hpy 'len(h) == 3 and h[0]["trigger"] == "drift" and h[0]["changes"][0].get("drift") is True'

printf 'services: [broken\n' >"$d/src/hist/compose.yaml"
check "a broken push: a failed entry with the error" within 30 \
	hpy 'len(h) == 4 and h[0]["result"] == "failed" and "compose.yaml" in h[0]["error"] and h[0]["changes"] == []'
sleep 7	# three more cycles of the same error
check "... seen again every cycle, still one entry" hpy 'len(h) == 4 and h[0]["attempts"] == 1'

run history -c "$d/stackd.yaml" hist
check "stackd history prints one line per operation, newest first" eval \
	'[ $rc = 0 ] && [ "$(grep -c "^local " <<<"$out")" = 4 ] && [ "$(sed -n 2p <<<"$out" | awk "{print \$4, \$5}")" = "$(printf "%.12s" "$(hist | python3 -c "import json,sys; print(json.load(sys.stdin)[\"engines\"][\"local\"][0][\"revision\"])")") failed" ] && has "updated service/hist_x (drift) [Env]" && has "created service/hist_x"'
run history --url "$url" --json hist
check "... --json is the document served" eval '[ $rc = 0 ] && py "len(j[\"engines\"][\"local\"]) == 4" <<<"$out"'
run history -c "$d/stackd.yaml" nope
check "... a stack no engine has: exit 1, said so" eval '[ $rc = 1 ] && has "nope: no such stack"'

# Restart with the file holding 50 entries already: one more sync keeps 50.
stop
f=$d/state/history/local/hist.json
check "the history is a file in the state directory" py 'len(j) == 4' <"$f"
python3 - "$f" <<'PY'
import json, sys
h = json.load(open(sys.argv[1]))
old = dict(h[-1], trigger="interval", finished="2026-01-01T00:00:00Z")
json.dump(h + [old] * 46, open(sys.argv[1], "w"))
PY
stack three
start
check "after a restart: the history is back, bounded at 50, the new sync first" within 30 \
	hpy 'len(h) == 50 and h[0]["result"] == "synced" and h[0]["trigger"] == "revision" and h[1]["result"] == "failed" and h[4]["trigger"] == "revision"'
check "... and the file too" eval 'py "len(j) == 50 and j[0][\"result\"] == \"synced\"" <"$f"'
echo "1..$n"
