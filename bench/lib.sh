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
