#!/usr/bin/env bash
# stackd at ten times the usual scale.  Prints markdown sections; needs
# root (dockerd).
#
#   bench/scale.sh BUILD_DIR [one|fleet]
#
# one:   1000 stacks x 10 services (replicas 0) on one engine.  The
#        engine's own create throughput first (the objects stackd writes,
#        issued one after the other on one connection by a minimal
#        client), then stackd's cold apply --dir, its no-op apply, the
#        daemon's no-op cycle (event-fed, and listing every cycle), one
#        service changed, peak RSS; and a sample of the docker stack
#        deploy loop, extrapolated.
# fleet: 8 engines (real dockerd each) of 100 stacks x 10 services on one
#        daemon: each engine's cycle, stackd's CPU per cycle, RSS; then
#        the same with engine 8 replaced by a socket that never answers.
set -euo pipefail
build=$(cd "$1" && pwd)
what=${2:-one fleet}
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d /tmp/stackd-scale.XXXXXX)
pid= hang= engines=
cleanup() {
	local p e
	for p in $pid $hang; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null || true; done
	for e in $engines; do "$here/../tests/harness/swarm.sh" stop "$e" >/dev/null 2>&1 || true; done
	rm -rf "$dir"
}
trap cleanup EXIT
. "$here/lib.sh"
port=$(python3 "$here/../tests/harness/freeport.py" 127.0.0.1)

engine_start() { # DIR: one single-node swarm
	"$here/../tests/harness/swarm.sh" start "$1" 1 >/dev/null 2>&1
	engines="$engines $1"
}
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
# COMMAND...: run it, print "wall_s peak_rss_mib"
timed() {
	/usr/bin/time -f '%e %M' -o "$dir/time" "$@" >/dev/null 2>"$dir/err" ||
		{ cat "$dir/err" >&2; return 1; }
	awk '{ printf "%.1f %.1f", $1, $2 / 1024 }' "$dir/time"
}
status_field() { # EXPR over the status document (j)
	curl -s "http://127.0.0.1:$port/api/v1/status" |
		python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"
}
rss_of() { awk '/^VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
cpu_of() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }	# ticks
# The median cycle and observe of engine IDX over N cycles (DIGITS after
# the point, default 3).
medians() { # IDX N [DIGITS]
	cycle_rows "$port" "$1" "$2" | python3 -c "
import statistics, sys
rows = [tuple(map(float, l.split())) for l in sys.stdin if l.strip()]
print('%.${3:-3}f %.${3:-3}f' % (statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows)))"
}
daemon() { # CONFIG: start stackd run, wait until every stack of every engine is synced
	"$build/stackd" run -c "$1" >"$dir/daemon.log" 2>&1 &
	pid=$!
	for _ in $(seq 1 3000); do
		status_field "all(e['reachable'] or e['host'].endswith('hang.sock') for e in j['engines'])" 2>/dev/null | grep -q True &&
			curl -s "http://127.0.0.1:$port/api/v1/stacks" | python3 -c "
import json, sys
j = json.load(sys.stdin)
ok = all(st.get('state') == 'synced' for s in j for n, st in s['engines'].items() if n != 'hang')
sys.exit(0 if j and ok else 1)" 2>/dev/null && break
		sleep 0.2
	done
}
stop_daemon() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=; }
config() { # ENGINES_YAML [RESYNC]
	cat >"$dir/stackd.yaml" <<EOF
engines:
$1
sources:
  - name: s
    dir: {path: $dir/stacks}
interval: 1s
owner: bench-scale
stacks: {resolve_image: never}
lease: {enabled: false}
status: {listen: 127.0.0.1:$port}
EOF
	[ -z "${2:-}" ] || echo "resync: $2" >>"$dir/stackd.yaml"
}

one() {
	local stacks=${STACKS:-1000} sock t0 t1 t1b min cold noop rows_ev rows_ls rss cli changed
	engine_start "$dir/one"
	sock=$dir/one/e1/sock
	export DOCKER_HOST=unix://$sock
	make_stacks "$dir/stacks" "$stacks"
	mkdir -p "$dir/empty"

	# The engine's own throughput: what stackd would write, by a client
	# that does nothing else (bodies from `stackd render`).
	for i in $(seq 0 $((stacks - 1))); do
		"$build/stackd" render -f "$dir/stacks/b$i/compose.yaml" -s "b$i" >"$dir/render-$i.json"
	done
	min=$(python3 "$here/scale_client.py" "$sock" "$dir" "$stacks" create)
	python3 "$here/scale_client.py" "$sock" "$dir" "$stacks" remove >/dev/null

	cold=$(timed "$build/stackd" apply --dir "$dir/stacks" --owner bench-scale --resolve-image never)
	noop=$(timed "$build/stackd" apply --dir "$dir/stacks" --owner bench-scale --resolve-image never)

	config "  - {name: e1, host: \"$DOCKER_HOST\"}" 1ms
	daemon "$dir/stackd.yaml"
	rows_ls=$(medians 0 10)
	stop_daemon
	config "  - {name: e1, host: \"$DOCKER_HOST\"}"
	daemon "$dir/stackd.yaml"
	sleep 3
	rows_ev=$(medians 0 10)
	# One service changed: from the file's write to the engine's update.
	t0=$(date +%s.%N)
	sed -i 's/"S=5"/"S=5", "CHANGED=1"/' "$dir/stacks/b$((stacks / 2))/compose.yaml"
	for _ in $(seq 1 600); do
		docker service inspect -f "{{json .Spec.TaskTemplate.ContainerSpec.Env}}" "b$((stacks / 2))_s5" | grep -q CHANGED && break
		sleep 0.05
	done
	t1=$(date +%s.%N)
	changed=$(secs "$t0" "$t1")
	rss=$(rss_of "$pid")
	stop_daemon

	# The CLI loop, on a sample of 20 stacks (cold, then no-op).
	t0=$(date +%s.%N)
	for i in $(seq 0 19); do docker stack deploy --resolve-image never -c "$dir/stacks/b$i/compose.yaml" "cli$i" >/dev/null 2>&1; done
	t1b=$(date +%s.%N)
	for i in $(seq 0 19); do docker stack deploy --resolve-image never -c "$dir/stacks/b$i/compose.yaml" "cli$i" >/dev/null 2>&1; done
	cli="$(secs "$t0" "$t1b") $(secs "$t1b" "$(date +%s.%N)")"

	echo "## Scale: $stacks stacks x 10 services on one engine"
	echo
	echo "\`bench/scale.sh one\` on $(nproc) cores, $(uname -m), $(date -u +%Y-%m-%d), Docker $(docker version --format '{{.Server.Version}}')."
	echo "$((stacks * 10)) services and $stacks networks, replicas 0, resolve_image never."
	echo
	echo "| run | wall s | peak RSS MiB | note |"
	echo "|---|---:|---:|---|"
	set -- $min;  echo "| minimal client, the same creates one by one | $1 | | the engine's own throughput |"
	set -- $cold; echo "| stackd apply --dir, cold | $1 | $2 | |"
	set -- $noop; echo "| stackd apply --dir, no-op | $1 | $2 | 0 writes |"
	set -- $cli;  echo "| docker stack deploy loop, 20 stacks cold / no-op | $1 / $2 | | x$((stacks / 20)): $(awk -v a="$1" -v k="$((stacks / 20))" 'BEGIN{printf "%.0f", a*k}') / $(awk -v a="$2" -v k="$((stacks / 20))" 'BEGIN{printf "%.0f", a*k}') s for $stacks |"
	echo "| stackd run, one service changed: file written to engine updated | $changed | | |"
	echo
	echo "| stackd run, no-op cycle | median cycle s | median observe s | cycle / observe | peak RSS MiB |"
	echo "|---|---:|---:|---:|---:|"
	set -- $rows_ls; echo "| listing every cycle (resync 1ms) | $1 | $2 | $(awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}') | |"
	local ls_obs=$2
	set -- $rows_ev; echo "| event-fed (default) | $1 | $2 | $(awk -v a="$1" -v b="$ls_obs" 'BEGIN{printf "%.2f", a/b}') of the list calls | $rss |"
	echo
	for i in $(seq 0 19); do docker stack rm "cli$i" >/dev/null 2>&1; done
	"$build/stackd" apply --dir "$dir/empty" --allow-empty --owner bench-scale >/dev/null 2>&1 || true
	"$here/../tests/harness/swarm.sh" stop "$dir/one" >/dev/null 2>&1
	engines=
	rm -rf "$dir/stacks"
	unset DOCKER_HOST
}

fleet() {
	local yaml= i c0 cpu0 c1 cpu1 rows
	make_stacks "$dir/stacks" "${FLEET_STACKS:-100}"
	for i in $(seq 1 8); do
		engine_start "$dir/f$i"
		yaml="$yaml  - {name: e$i, host: \"unix://$dir/f$i/e1/sock\"}
"
	done
	for resync in "" 1ms; do
		config "$yaml" "$resync"
		daemon "$dir/stackd.yaml"
		sleep 3
		fleet_rows "8 healthy, $(mode_of "$resync")"
		stop_daemon
	done
	# Engine 8 wedged: accepts, reads, never answers.
	python3 "$here/../tests/harness/hangsock.py" "$dir/hang.sock" >"$dir/hang.out" 2>&1 &
	hang=$!
	for _ in $(seq 1 50); do grep -q ready "$dir/hang.out" && break; sleep 0.1; done
	for resync in "" 1ms; do
		config "${yaml%  - \{name: e8*}  - {name: hang, host: \"unix://$dir/hang.sock\"}" "$resync"
		daemon "$dir/stackd.yaml"
		sleep 3
		fleet_rows "7 healthy + 1 hung, $(mode_of "$resync")"
		stop_daemon
	done
}

mode_of() { [ -n "$1" ] && echo "listing every cycle" || echo "event-fed"; }

fleet_rows() { # LABEL
	local label=$1 i c0 c1 t0 t1 cpu0 cpu1 line=
	c0=$(status_field "sum(e['cycles'] for e in j['engines'])")
	cpu0=$(cpu_of "$pid")
	for i in $(seq 0 6); do line="$line $(medians "$i" 5 4 | cut -d' ' -f1)"; done
	c1=$(status_field "sum(e['cycles'] for e in j['engines'])")
	cpu1=$(cpu_of "$pid")
	FLEET="${FLEET:-}| $label |$(for v in $line; do printf ' %s |' "$v"; done) $(awk -v a="$cpu0" -v b="$cpu1" -v n="$((c1 - c0))" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.1f", (b - a) / hz / n * 1000}') | $(rss_of "$pid") |
"
}

case " $what " in *" one "*) one ;; esac
case " $what " in *" fleet "*)
	FLEET=
	fleet
	echo "## Fleet: 8 engines x ${FLEET_STACKS:-100} stacks x 10 services, one daemon"
	echo
	echo "\`bench/scale.sh fleet\` on $(nproc) cores, $(uname -m), $(date -u +%Y-%m-%d): 8 dockerd on this machine."
	echo "Median cycle (s) of engines 1-7 over 5 cycles each; stackd's CPU per cycle"
	echo "(user + system, all engines' cycles counted); peak RSS."
	echo
	echo "| engines | e1 | e2 | e3 | e4 | e5 | e6 | e7 | CPU ms / cycle | peak RSS MiB |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	printf '%s' "$FLEET"
	;;
esac
