# Shared by the daemon benchmarks (sourced, not run).

# N cycles of engine INDEX of the daemon whose status is on PORT, as they
# happen: one line "cycle_seconds observe_seconds" per cycle.
cycle_rows() { # PORT INDEX N
	local port=$1 idx=$2 want=$3 n=0 seen c
	engine_field() {
		curl -s "http://127.0.0.1:$port/api/v1/status" | python3 -c "
import json, sys
e = json.load(sys.stdin)['engines'][$idx]
print(*[e[k] for k in sys.argv[1:]])" "$@" 2>/dev/null
	}
	seen=$(engine_field cycles)
	while [ $n -lt "$want" ]; do
		read -r c cyc obs < <(engine_field cycles last_cycle_seconds last_observe_seconds)
		if [ -n "$c" ] && [ "$c" != "$seen" ]; then
			seen=$c
			echo "$cyc $obs"
			n=$((n + 1))
		fi
		sleep 0.05
	done
}

# N stacks b0..b(N-1) of 10 services (replicas 0) each under DIR.  In
# the first P (default 0), s0 runs one task that stays starting for an
# hour (its first healthcheck is an hour away): progressing, for good.
make_stacks() { # DIR N [P]
	local i s
	for i in $(seq 0 $(($2 - 1))); do
		mkdir -p "$1/b$i"
		{
			echo 'services:'
			for s in $(seq 0 9); do
				printf '  s%d:\n    image: local/busybox:1\n' "$s"
				printf '    environment: ["STACK=%d", "S=%d"]\n' "$i" "$s"
				if [ "$s" = 0 ] && [ "$i" -lt "${3:-0}" ]; then
					printf '    command: [sleep, "3600"]\n'
					printf '    healthcheck: {test: [CMD, true], interval: 1h}\n'
					printf '    deploy: {replicas: 1}\n'
				else
					printf '    deploy: {replicas: 0}\n'
				fi
			done
		} >"$1/b$i/compose.yaml"
	done
}

# Every stack of the daemon whose status is on PORT is synced, N of them;
# but P of them (default 0) written and progressing.
all_synced() { # PORT N [P]
	curl -s "http://127.0.0.1:$1/api/v1/stacks" |
		python3 -c "
import json,sys
j = json.load(sys.stdin)
moving = [s for s in j if s['health'] == 'progressing' and not s.get('pending_changes')]
sys.exit(0 if len(j) == $2 and len(moving) == ${3:-0} and all(s['state'] == 'synced' or s in moving for s in j) else 1)" 2>/dev/null
}

# The config of a daemon on stacks/ (relative) and the engine in
# DOCKER_HOST: interval 1s, lease off, images not resolved.
stacks_config() { # OWNER PORT
	cat <<Y
engines:
  - {name: e1, host: "$DOCKER_HOST"}
sources:
  - {name: s, dir: {path: stacks}}
owner: $1
interval: 1s
status: {listen: "127.0.0.1:$2"}
lease: {enabled: false}
stacks: {resolve_image: never}
Y
}
