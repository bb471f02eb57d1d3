#!/usr/bin/env bash
# Differential conformance on generated stack files: each file from
# gen_stack.py is deployed by `docker stack deploy --resolve-image never`
# and by `stackd apply` on the same engine, one after the other, and the
# inspected objects must be equal (compare.py).  Prints TAP, one line per
# file, every differing field under a failing one; a failing file is kept
# in DIVERGED_DIR (default: tests/conformance/diverged/).
#
#   tests/conformance/fuzz.sh BUILD_DIR N SEED
#
# The engine is DOCKER_HOST; without one, a throwaway engine of the
# harness is started (on FUZZ_ADDR, default 127.0.0.4, beside any other)
# and stopped again.
set -uo pipefail
build=$(cd "$1" && pwd)
n=$2
seed=$3
here=$(cd "$(dirname "$0")" && pwd)
stackd=$build/stackd
keep=${DIVERGED_DIR:-$here/diverged}
work=$(mktemp -d /tmp/stackd-cfuzz.XXXXXX)
engine=
cleanup() {
	if [ -n "${DOCKER_HOST:-}" ]; then remove fza; remove fzb; fi
	[ -z "$engine" ] || "$here/../harness/swarm.sh" stop "$engine" >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT
# shellcheck source=tests/conformance/lib.sh
. "$here/lib.sh"
if [ -z "${DOCKER_HOST:-}" ]; then
	engine=$work/engine
	addr=${FUZZ_ADDR:-127.0.0.4}
	STACKD_E1_ADDR=$addr STACKD_E1_DATA_PORT=$((4789 + ${addr##*.})) \
	    "$here/../harness/swarm.sh" start "$engine" 1 >"$work/env" 2>"$work/log" ||
	    { cat "$work/log"; echo "not ok - the engine did not start"; exit 1; }
	DOCKER_HOST=$(sed -n 's/^STACKD_TEST_ENGINE1=//p' "$work/env")
	export DOCKER_HOST
fi

bad=0 refused=0
for i in $(seq 1 "$n"); do
	s=$((seed + i - 1))
	dir=$work/$s
	python3 "$here/gen_stack.py" "$s" "$dir"
	# The CLI fills bare environment keys from its own environment:
	# give it none, as stackd has none without --env-inherit.
	out=$( (cd "$dir" && env -i PATH="$PATH" HOME="$HOME" DOCKER_HOST="$DOCKER_HOST" \
	    docker stack deploy --resolve-image never -c stack.yml fza) 2>&1 ); rca=$?
	[ $rca = 0 ] && python3 "$here/compare.py" snapshot fza "$dir/a.json"
	remove fza
	out+=$'\n'$( (cd "$dir" && "$stackd" apply -f stack.yml -s fzb) 2>&1 ); rcb=$?
	[ $rcb = 0 ] && python3 "$here/compare.py" snapshot fzb "$dir/b.json"
	remove fzb
	if [ $rca != 0 ] && [ $rcb != 0 ]; then
		refused=$((refused + 1))
		echo "ok $i - seed $s: both refuse it (a generator bug)"
		printf '%s\n' "$out" | sed 's/^/#   /'
		continue
	fi
	if [ $rca = 0 ] && [ $rcb = 0 ] &&
	    diff=$(python3 "$here/compare.py" diff "$dir/a.json" "$dir/b.json"); then
		echo "ok $i - seed $s: $(tail -1 <<<"$diff")"
		continue
	fi
	bad=$((bad + 1))
	echo "not ok $i - seed $s (docker stack deploy exit $rca, stackd exit $rcb)"
	[ $rca = 0 ] && [ $rcb = 0 ] && printf '%s\n' "$diff" | sed 's/^/#   /'
	[ $rca = 0 ] && [ $rcb = 0 ] || printf '%s\n' "$out" | sed 's/^/#   /'
	mkdir -p "$keep" && cp "$dir/stack.yml" "$keep/seed-$s.yml"
done
echo "1..$n"
echo "# $n generated files from seed $seed: $((n - bad - refused)) identical, $bad divergences, $refused refused by both"
[ $bad = 0 ]
