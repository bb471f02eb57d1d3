#!/usr/bin/env bash
# The status page in a real browser: headless Chromium renders / of a
# running daemon (a synced stack and a failed one) under the page's own
# Content-Security-Policy, and the screenshot is kept in
# tests/artifacts/status-page.png.  Prints TAP; DOCKER_HOST = engine 1.
set -uo pipefail
stackd=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
art=$here/../artifacts
d=$(mktemp -d /tmp/stackd-page.XXXXXX)
url=http://127.0.0.1:19097
pid=
cleanup() {
	[ -z "$pid" ] || { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
	"$stackd" apply --dir "$d/empty" --allow-empty --owner e2e-page >/dev/null 2>&1
	rm -rf "$d"
}
trap cleanup EXIT
mkdir -p "$art" "$d/src/shop" "$d/empty"
printf 'services:\n  web:\n    image: local/busybox:1\n    deploy: {replicas: 1}\n  worker:\n    image: local/busybox:1\n    deploy: {replicas: 0}\n' \
	>"$d/src/shop/compose.yaml"
printf 'services:\n  api: [broken\n' >"$d/src/broken.yml"

"$stackd" run --dir "$d/src" --owner e2e-page --listen 127.0.0.1:19097 --state-dir "$d/state" >"$d/log" 2>&1 &
pid=$!
check "the daemon is up with one synced and one failed stack" within 30 eval \
	'curl -s $url/api/v1/stacks | py "sorted((s[\"name\"], s[\"state\"]) for s in j) == [(\"broken\", \"failed\"), (\"shop\", \"synced\")]"'

browser() {
	timeout 60 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
		--no-first-run --enable-logging=stderr --user-data-dir="$d/profile" "$@" 2>"$d/chromium.log"
}
out=$(browser --dump-dom "$url/")
check "Chromium renders the page: both stacks, the error text, the refresh" eval \
	'has ">shop<" && has ">broken<" && has "invalid YAML" && has "http-equiv=\"refresh\""'
rm -f "$art/status-page.png"
browser --window-size=1280,800 --screenshot="$art/status-page.png" "$url/" >/dev/null
out=$(python3 - "$art/status-page.png" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
w, h = struct.unpack(">II", data[16:24])
# Count the distinct rows of the image: a blank page has one.
pos, idat = 8, b""
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    if kind == b"IDAT":
        idat += data[pos + 8:pos + 8 + n]
    pos += 12 + n
raw = zlib.decompress(idat)
stride = len(raw) // h
rows = {raw[i * stride + 1:(i + 1) * stride] for i in range(h)}
print(w, h, len(rows))
PY
)
check "the screenshot (tests/artifacts/status-page.png) is 1280x800 and not blank" eval \
	'read -r w h rows <<<"$out" && [ "$w" = 1280 ] && [ "$h" = 800 ] && [ "$rows" -gt 20 ]'
out=$(cat "$d/chromium.log")
check "no Content-Security-Policy violation: the page needs nothing outside itself" eval \
	'! grep -qi "content security policy" "$d/chromium.log"'

# --- a stack's own page ---------------------------------------------------
out=$(browser --dump-dom "$url/")
check "the overview links each stack to its page" has 'href="/stacks/shop"'
check "shop's page: both services, health, running/desired, the history" eval \
	'out=$(browser --dump-dom "$url/stacks/shop"); has ">shop_web" && has ">shop_worker" && has ">1/1<" && has ">0/0<" && has ">healthy<" && has "<table class=\"history\">" && has "+ create service shop_web"'
# Suspended, with a change in the file: the page shows what a plan would.
kill "$pid"; wait "$pid" 2>/dev/null
printf 'services:\n  web:\n    image: local/busybox:1\n    deploy: {replicas: 1}\n    environment: {PASSWORD: hunter2}\n  worker:\n    image: local/busybox:1\n    deploy: {replicas: 0}\n' \
	>"$d/src/shop/compose.yaml"
cat >"$d/stackd.yaml" <<YAML
engines:
  - {name: default, host: "$DOCKER_HOST"}
sources:
  - {name: s, dir: {path: src}, suspend: true}
owner: e2e-page
state_dir: state
status: {listen: "127.0.0.1:19097"}
lease: {enabled: false}
YAML
"$stackd" run -c "$d/stackd.yaml" >>"$d/log" 2>&1 &
pid=$!
check "suspended with a change: the page lists it with its field, never the value" within 30 eval \
	'out=$(browser --dump-dom "$url/stacks/shop"); has "<ul class=\"pending\">" && has "~ update service shop_web" && has "TaskTemplate.ContainerSpec.Env" && ! has hunter2 && has ">suspended<"'
check "... and the history from before the restart" has "+ create service shop_web"
rm -f "$art/stack-page.png"
browser --window-size=1280,800 --screenshot="$art/stack-page.png" "$url/stacks/shop" >/dev/null
check "the stack page's screenshot (tests/artifacts/stack-page.png) is a PNG" eval \
	'python3 -c "import sys; d=open(sys.argv[1], \"rb\").read(); sys.exit(0 if len(d) > 5000 and d[:4] == b\"\\x89PNG\" else 1)" "$art/stack-page.png"'
check "no Content-Security-Policy violation on it either" eval \
	'! grep -qi "content security policy" "$d/chromium.log"'
out=$(curl -s -o /dev/null -w '%{http_code}' "$url/stacks/nope")
check "a stack nobody has: 404" [ "$out" = 404 ]
