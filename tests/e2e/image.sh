#!/usr/bin/env bash
# stackd as a swarm service: an image made with `docker import` from the
# built binary and the libraries it links (no registry here; the Dockerfile
# makes the same layout from Debian packages), deployed with
# contrib/swarm/stackd.yml by `docker stack deploy`, managing the engine
# it runs on through the mounted socket.  Prints TAP; DOCKER_HOST = engine 1.
set -uo pipefail
stackd=$1
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/tap.sh"
d=$(mktemp -d /tmp/stackd-image.XXXXXX)
image=local/stackd:e2e

cleanup() {
	docker stack rm stackd-e2e >/dev/null 2>&1
	# The task's container goes some time after the service.
	for _ in $(seq 1 60); do
		[ -z "$(docker ps -aq --filter label=com.docker.stack.namespace=stackd-e2e)" ] && break
		sleep 0.5
	done
	"$stackd" apply --dir "$d/empty" --allow-empty --owner swarm-stackd >/dev/null 2>&1
	docker config ls -q --filter label=com.docker.stack.namespace=stackd-e2e | xargs -r docker config rm >/dev/null 2>&1
	docker volume rm stackd-e2e_state >/dev/null 2>&1
	docker image rm "$image" >/dev/null 2>&1
	rm -rf "$d"
}
trap cleanup EXIT
mkdir -p "$d/rootfs/usr/bin" "$d/rootfs/bin" "$d/rootfs/tmp" "$d/empty" "$d/stacks/demo"

# The image: stackd, every library ldd lists (at the same paths), busybox
# for a shell and wget in the tests.
cp "$stackd" "$d/rootfs/usr/bin/stackd"
ldd "$stackd" | grep -oE '/[^ ]+' | while read -r lib; do
	mkdir -p "$d/rootfs$(dirname "$lib")"
	cp -L "$lib" "$d/rootfs$lib"
done
cp "$(command -v busybox)" "$d/rootfs/bin/busybox"
ln -s busybox "$d/rootfs/bin/sh"
[ -d /etc/ssl/certs ] && mkdir -p "$d/rootfs/etc/ssl" && cp -rL /etc/ssl/certs "$d/rootfs/etc/ssl/" 2>/dev/null
# nobody: the user the status process becomes (status.user), as in the
# Debian image the Dockerfile builds.
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' >"$d/rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$d/rootfs/etc/group"
tar -C "$d/rootfs" -c . | docker import -c 'ENTRYPOINT ["/usr/bin/stackd"]' \
	-c 'CMD ["run", "-c", "/etc/stackd/stackd.yaml"]' -c 'ENV STATE_DIRECTORY=/var/lib/stackd' \
	- "$image" >/dev/null
out=$(docker run --rm "$image" version 2>&1); rc=$?
check "the image runs stackd (docker run IMAGE version)" eval '[ $rc = 0 ] && has "stackd 0.1.0"'

printf 'services:\n  web:\n    image: local/busybox:1\n    deploy: {replicas: 1}\n' >"$d/stacks/demo/compose.yaml"
out=$(STACKD_IMAGE=$image STACKD_STACKS=$d/stacks STACKD_SOCKET=${DOCKER_HOST#unix://} \
	docker stack deploy --resolve-image never -c "$root/contrib/swarm/stackd.yml" stackd-e2e 2>&1); rc=$?
check "contrib/swarm/stackd.yml deploys with docker stack deploy" eval '[ $rc = 0 ]'

out=$(docker service ps --no-trunc stackd-e2e_stackd 2>&1)
check "the stackd service deploys the stacks of its directory on its own engine" \
	within 60 docker service inspect demo_web
out=$(docker service inspect --format '{{json .Spec.Labels}}' demo_web 2>&1)
check "... as owner swarm-stackd (its config, a swarm config)" eval 'has "\"com.stackd.owner\":\"swarm-stackd\""'

task() { docker ps -q --filter label=com.docker.swarm.service.name=stackd-e2e_stackd | head -1; }
status() { docker exec "$(task)" /bin/busybox wget -qO- http://127.0.0.1:9090/api/v1/status; }
check "its status server answers inside the task: ready, engine reachable" within 30 eval \
	'status | python3 -c "import json,sys; j=json.load(sys.stdin); sys.exit(0 if j[\"ready\"] and j[\"engines\"][0][\"reachable\"] else 1)"'
# The report comes a moment after the first documents.
check "... its status process confined in the container too (nobody, no_new_privs, seccomp)" within 10 eval \
	'status | python3 -c "import json,sys; s=json.load(sys.stdin)[\"sandbox\"]; sys.exit(0 if s[\"user\"] and s[\"no_new_privs\"] and s[\"seccomp\"] else 1)"'
out=$(status 2>&1)

printf 'services:\n  web:\n    image: local/busybox:1\n    deploy: {replicas: 0}\n' >"$d/stacks/demo/compose.yaml"
check "a change to the mounted directory reaches the engine" within 30 eval \
	'[ "$(docker service inspect --format "{{.Spec.Mode.Replicated.Replicas}}" demo_web)" = 0 ]'
