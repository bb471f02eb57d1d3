#!/usr/bin/env bash
# The image-pinning benchmark: 100 stacks x 10 services using 50 distinct
# images on a local registry, on a throwaway engine.  Needs root (dockerd).
#
#   bench/images.sh BUILD_DIR   (prints a markdown section)
set -euo pipefail
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
stacks=${STACKS:-100}
images=${IMAGES:-50}
dir=$(mktemp -d /tmp/stackd-bench-img.XXXXXX)
trap '"$here/../tests/harness/registry.sh" stop "$dir/reg" >/dev/null 2>&1 || true
"$here/../tests/harness/swarm.sh" stop "$dir/engine" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
"$here/../tests/harness/swarm.sh" start "$dir/engine" 1 >/dev/null 2>&1
export DOCKER_HOST=unix://$dir/engine/e1/sock DOCKER_CONFIG=$dir/docker
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$here/../tests/harness/registry.sh" start "$dir/reg" "$port" 2>/dev/null
reg=127.0.0.1:$port

root=$dir/engine/rootfs
for k in $(seq 0 $((images - 1))); do
	echo "$k" >"$root/VERSION"
	tar -C "$root" -c . | docker import -c 'CMD ["/bin/sleep","86400"]' - "$reg/img$k:1" >/dev/null
	docker push "$reg/img$k:1" >/dev/null
done
mkdir -p "$dir/files"
for i in $(seq 0 $((stacks - 1))); do
	{
		echo 'services:'
		for s in $(seq 0 9); do
			printf '  s%d:\n    image: %s/img%d:1\n' "$s" "$reg" $(( (i * 10 + s) % images ))
			printf '    deploy: {replicas: 0}\n'
		done
	} >"$dir/files/stack-$i.yml"
done

echo "## Images: $stacks stacks x 10 services, $images images on a local registry"
echo
echo "\`bench/images.sh\` on $(nproc) cores, $(uname -m), $(date -u +%Y-%m-%d), Docker $(docker version --format '{{.Server.Version}}'),"
echo "docker-registry $(dpkg-query -W -f '${Version}' docker-registry) on loopback.  Each pass loads every stack,"
echo "observes the engine once, looks the images up (resolved/failed: lookups made),"
echo "plans and applies; the registry is stopped before the last three passes."
echo
BENCH_REGISTRY_STOP="$here/../tests/harness/registry.sh kill $dir/reg" \
	"$build/bench/bench_images" im $(for i in $(seq 0 $((stacks - 1))); do echo "$dir/files/stack-$i.yml"; done)
