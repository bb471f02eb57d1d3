#!/usr/bin/env bash
# Image pinning against real registries (Debian's docker-registry on
# loopback, one open and one with basic auth): stackd writes what
# `docker stack deploy` writes by default, finds a new push under the same
# tag, never unpins a running service when the registry is down, and reads
# credentials from the docker config.  Prints TAP; DOCKER_HOST = engine 1.
set -uo pipefail
stackd=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
d=$(mktemp -d /tmp/stackd-images.XXXXXX)
pid=
export DOCKER_CONFIG=$d/docker
mkdir -p "$DOCKER_CONFIG" "$d/src" "$d/empty"
cleanup() {
	[ -z "$pid" ] || { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
	"$stackd" apply --dir "$d/empty" --allow-empty --owner e2e-img >/dev/null 2>&1
	docker stack rm clia >/dev/null 2>&1
	"$here/../harness/registry.sh" stop "$d/reg" 2>/dev/null
	"$here/../harness/registry.sh" stop "$d/auth" 2>/dev/null
	rm -rf "$d"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
p1=$(free_port); p2=$(free_port)
"$here/../harness/registry.sh" start "$d/reg" "$p1" 2>>"$d/harness.log" &&
"$here/../harness/registry.sh" start "$d/auth" "$p2" alice s3cret 2>>"$d/harness.log" ||
	{ echo "not ok 1 - the registries start: $(tail -1 "$d/harness.log")"; echo "1..1"; exit 1; }
r=127.0.0.1:$p1
a=127.0.0.1:$p2

# A new image (the harness's busybox with another /VERSION) under tag.
push() { # ref version
	local root=$d/rootfs
	if [ ! -d "$root" ]; then
		mkdir -p "$root/bin"; cp "$(command -v busybox)" "$root/bin/busybox"
		for l in sh sleep true cat; do ln -sf busybox "$root/bin/$l"; done
	fi
	echo "$2" >"$root/VERSION"
	tar -C "$root" -c . | docker import -c 'CMD ["/bin/sleep","86400"]' - "$1" >/dev/null &&
		docker push "$1" 2>&1 | sed -n 's/.*digest: \(sha256:[0-9a-f]*\).*/\1/p'
}
image() { docker service inspect --format '{{.Spec.TaskTemplate.ContainerSpec.Image}}' "$1" 2>/dev/null; }
placement() { docker service inspect --format '{{json .Spec.TaskTemplate.Placement}}' "$1" 2>/dev/null; }
version() { docker service inspect --format '{{.Version.Index}}' "$1" 2>/dev/null; }

dg1=$(push "$r/app:1" v1)
printf 'services:\n  app:\n    image: %s/app:1\n    deploy: {replicas: 1}\n  local:\n    image: local/busybox:1\n    deploy: {replicas: 0}\n' "$r" >"$d/src/imga.yml"
run apply -f "$d/src/imga.yml" -s imga --owner e2e-img
check "apply pins the pushed digest" eval '[ "$(image imga_app)" = "$r/app:1@$dg1" ]'
check "and writes the image's platforms" eval '[ "$(placement imga_app)" = "{\"Platforms\":[{\"Architecture\":\"amd64\",\"OS\":\"linux\"}]}" ]'
check "an image in no registry stays unpinned, with the CLI's warning" eval \
	'[ "$(image imga_local)" = "local/busybox:1" ] && has "image local/busybox:1 could not be accessed on a registry to record its digest"'
(cd "$d/src" && docker stack deploy -c imga.yml clia >/dev/null 2>&1)
out="stackd: $(image imga_app) $(placement imga_app)
cli:    $(image clia_app) $(placement clia_app)"
check "the same as docker stack deploy's default (--resolve-image always)" eval \
	'[ "$(image imga_app) $(placement imga_app)" = "$(image clia_app) $(placement clia_app)" ]'
run render -f "$d/src/imga.yml" -s imga --resolve-image always
check "render --resolve-image always prints the pin apply writes" eval 'has "\"$r/app:1@$dg1\"" && has "\"Platforms\""'
run render -f "$d/src/imga.yml" -s imga
check "render alone stays offline: the tag as written" eval 'has "\"$r/app:1\"" && ! has "@sha256"'
v=$(version imga_app)
run plan -f "$d/src/imga.yml" -s imga --owner e2e-img
check "nothing pushed: in sync" eval '[ $rc = 0 ] && has "in sync"'
run apply -f "$d/src/imga.yml" -s imga --owner e2e-img
check "and apply writes nothing" eval '[ "$(version imga_app)" = "$v" ]'

dg2=$(push "$r/app:1" v2)
for m in changed never; do
	run plan -f "$d/src/imga.yml" -s imga --owner e2e-img --resolve-image $m
	check "a new push, --resolve-image $m: the running pin is kept (as the CLI)" eval '[ $rc = 0 ]'
done
run plan -f "$d/src/imga.yml" -s imga --owner e2e-img
check "a new push, always: one update to the new digest" eval \
	'[ $rc = 2 ] && has "update service imga_app" && has "$dg2" && ! has "imga_local"'

# The daemon finds a push under the same tag without any source change.
"$stackd" run --dir "$d/src" --owner e2e-img --interval 1h --image-poll 1s \
	--listen 127.0.0.1:19097 >"$d/log" 2>&1 &
pid=$!
check "the daemon rolls out a new push under the same tag (image_poll 1s)" within 20 eval \
	'[ "$(image imga_app)" = "$r/app:1@$dg2" ]'
dg4=$(push "$r/app:1" v3)
check "and the next one" within 20 eval '[ "$(image imga_app)" = "$r/app:1@$dg4" ]'
out=$(cat "$d/log")
check "the log says the image moved" eval 'has "image $r/app:1 moved ${dg2:0:19} -> ${dg4:0:19}"'
check "the new task runs the new content" within 30 eval \
	'[ "$(docker ps -q --filter label=com.docker.swarm.service.name=imga_app | head -1 | xargs -r -I{} docker exec {} cat /VERSION)" = v3 ]'

# The registry goes away: nothing is unpinned, nothing written.
# (The engine bumps the version itself as the rollout completes: the
# daemon's own "updated:" lines are what counts.)
sleep 2
writes=$(grep -c 'msg="updated:' "$d/log")
"$here/../harness/registry.sh" kill "$d/reg" 2>/dev/null
sleep 4
out=$(cat "$d/log")
check "registry down: the running pin stays and no write is made" eval \
	'[ "$(grep -c "msg=\"updated:" "$d/log")" = "$writes" ] && [ "$(image imga_app)" = "$r/app:1@$dg4" ]'
check "and the log says why" eval 'has "image $r/app:1 could not be looked up" && has "connection refused"'
svc_status() { curl -s http://127.0.0.1:19097/api/v1/stacks/imga | python3 -c 'import json,sys; j=json.load(sys.stdin); print(json.dumps([s for s in j["engines"]["default"]["services"] if s["name"] == "imga_app"][0]))'; }
out=$(svc_status)
check "status says why, per service, with the digest it runs" eval \
	'py "\"connection refused\" in j[\"resolution\"][\"error\"] and j[\"resolution\"][\"digest\"] == \"$dg4\" and j[\"resolution\"][\"reference\"] == \"$r/app:1\"" <<<"$out"'
out=$(curl -s http://127.0.0.1:19097/)
check "the page shows the short digest and a warning mark" eval \
	'has "<code>@${dg4:7:12}</code>" && has "&#9888; lookup failed"'
out=$(curl -s http://127.0.0.1:19097/metrics)
check "metrics count the failed lookups (and parse)" eval 'python3 "$here/promcheck.py" <<<"$out" && grep -Eq "^stackd_image_resolutions_total\{engine=\"default\",result=\"failed\"\} [1-9]" <<<"$out"'
kill "$pid"; wait "$pid" 2>/dev/null; pid=

# The registry's notifications: a push is rolled out at once, long before
# the next look (image_poll 10m).
printf 'reg-%s-hook\n' "$$" >"$d/regsecret"
"$stackd" run --dir "$d/src" --owner e2e-img --interval 1h --image-poll 10m \
	--registry-webhook-secret-file "$d/regsecret" --listen 127.0.0.1:19097 >"$d/log2" 2>&1 &
pid=$!
"$here/../harness/registry.sh" notify "$d/reg" http://127.0.0.1:19097/api/v1/webhook/registry \
	"$(cat "$d/regsecret")" 2>>"$d/harness.log"
within 20 eval 'curl -sf http://127.0.0.1:19097/readyz'
sleep 1
out=$(curl -s -o /dev/null -w '%{http_code}' -X POST -d '{"events":[]}' http://127.0.0.1:19097/api/v1/webhook/registry)
check "the registry webhook refuses a request without the token" eval '[ "$out" = 401 ]'
t0=$(date +%s.%N)
dg5=$(push "$r/app:1" v4)
check "registry webhook: a push is rolled out within seconds" within 10 eval \
	'[ "$(image imga_app)" = "$r/app:1@$dg5" ]'
echo "# webhook push to rolled out: $(python3 -c "import time; print(round(time.time() - $t0, 2))") s (the push itself included)"
kill "$pid"; wait "$pid" 2>/dev/null; pid=

# Basic auth: credentials from the docker config, as --with-registry-auth.
echo s3cret | docker login -u alice --password-stdin "$a" >/dev/null 2>&1
dg3=$(push "$a/priv:1" p1)
printf 'services:\n  app:\n    image: %s/priv:1\n    deploy: {replicas: 0}\n' "$a" >"$d/src/imgb.yml"
run apply -f "$d/src/imgb.yml" -s imgb --owner e2e-img
check "a registry with basic auth: pinned with config.json's credentials" eval \
	'[ -n "$dg3" ] && [ "$(image imgb_app)" = "$a/priv:1@$dg3" ]'
docker stack rm imgb >/dev/null 2>&1
within 10 eval '! docker service inspect imgb_app >/dev/null 2>&1'
DOCKER_CONFIG=$d/empty run apply -f "$d/src/imgb.yml" -s imgb --owner e2e-img
check "without credentials: created unpinned, saying why" eval \
	'[ "$(image imgb_app)" = "$a/priv:1" ] && has "no basic auth credentials"'
echo "1..$n"
