#!/usr/bin/env bash
# Run stackd's fuzz targets (built by `make fuzz`).
#
#   fuzz/run.sh BIN_DIR SECONDS [TARGET]...
#
# FUZZ_RUNS=N also stops a target after N executions (whichever first).
# For each target: every input under fuzz/regress/TARGET/ is run once (a
# fixed finding must stay fixed), then libFuzzer runs for SECONDS from a
# working corpus under BIN_DIR/corpus/TARGET, seeded from fuzz/seeds/ and
# the test inputs in tests/ and examples/.  A crash, a leak, a sanitizer
# report or a timeout fails the run; the input is kept under
# BIN_DIR/findings/TARGET.  One summary line per target at the end.
set -uo pipefail

bin=${1:?usage: fuzz/run.sh BIN_DIR SECONDS [TARGET]...}
secs=${2:?usage: fuzz/run.sh BIN_DIR SECONDS [TARGET]...}
shift 2
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(yaml compose interp vars config engine events webhook status registry sops split)
failed=0
summary=()

# Seed files from the repository, by target.
seeds() {
	case $1 in
	yaml|compose)
		ls "$root"/tests/conformance/corpus/*.y*ml "$root"/tests/conformance/cases/*.yml \
			"$root"/examples/*.yml "$root"/examples/*/*.yaml 2>/dev/null ;;
	vars)
		ls "$root"/tests/conformance/cases/*.env "$root"/examples/*/vars.yaml 2>/dev/null ;;
	config)
		ls "$root"/examples/*/stackd.yaml 2>/dev/null ;;
	esac
	[ -d "$here/seeds/$1" ] && ls "$here/seeds/$1"/*
}

# interpolation.tsv: the first column of each case is an input.
interp_seeds() {
	local dir=$1 n=0
	cut -f1 "$root/tests/data/interpolation.tsv" | grep -v '^#' | while IFS= read -r line; do
		n=$((n + 1))
		printf '%s' "$line" >"$dir/tsv-$n"
	done
}

dict_of() {
	case $1 in
	yaml|compose) echo "$here/compose.dict" ;;
	*) [ -f "$here/$1.dict" ] && echo "$here/$1.dict" ;;
	esac
}

for t in "${targets[@]}"; do
	exe=$bin/fuzz_$t
	corpus=$bin/corpus/$t
	findings=$bin/findings/$t
	log=$bin/fuzz_$t.log
	mkdir -p "$corpus" "$findings"
	if [ -d "$here/regress/$t" ] && ls "$here/regress/$t"/* >/dev/null 2>&1; then
		if ! "$exe" "$here/regress/$t"/* >"$bin/regress_$t.log" 2>&1; then
			echo "fuzz: $t: a regression input fails again (see $bin/regress_$t.log)"
			failed=1
		fi
	fi
	while IFS= read -r f; do cp -f "$f" "$corpus/seed-$(basename "$f")"; done < <(seeds "$t")
	[ "$t" = interp ] && interp_seeds "$corpus"
	dict=$(dict_of "$t")
	echo "fuzz: $t for ${secs}s"
	"$exe" -max_total_time="$secs" ${FUZZ_RUNS:+-runs="$FUZZ_RUNS"} -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-print_final_stats=1 -artifact_prefix="$findings/" \
		${dict:+-dict="$dict"} "$corpus" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1)
	if [ $rc -ne 0 ]; then
		failed=1
		summary+=("$t: FAILED (exit $rc): $(grep -m1 -E 'ERROR|runtime error|Timeout|leak' "$log"); input in $findings")
	else
		summary+=("$t: ok, ${execs:-?} executions (${rate:-?}/s), ${cov:-cov: ?}, corpus $(ls "$corpus" | wc -l)")
	fi
done
printf 'fuzz: %s\n' "${summary[@]}"
exit $failed
