#!/usr/bin/env bash
# Run stackd's whole test suite: unit tests, then end-to-end tests against
# throwaway swarm engines started (and always stopped) by the harness.
#
#   tests/run.sh BUILD_DIR
#
# Ends with one line "N passed, N failed" and exits non-zero on any failure.
# Nothing is skipped: an engine that cannot start fails the run.
set -uo pipefail

build=${1:?usage: tests/run.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
passed=0
failed=0
harness_dir=

count() { # name, then the command; its TAP output is counted
	local name=$1 out rc p f
	shift
	echo "== $name"
	out=$(CMOCKA_MESSAGE_OUTPUT=TAP "$@" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	p=$(grep -cE '^ok ' <<<"$out")
	f=$(grep -cE '^not ok ' <<<"$out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		# A crash or an abort before any verdict still counts.
		echo "not ok - $name exited with status $rc"
		f=1
	fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name ran no test"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
}

cleanup() {
	if [ -n "$harness_dir" ]; then
		"$here/harness/swarm.sh" stop "$harness_dir" || true
		rm -rf "$harness_dir.state"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for t in "$build"/tests/unit/test_*; do
	[ -x "$t" ] && count "unit: $(basename "$t")" "$t"
done

# Interpolation against the CLI's own reading (`docker stack config`,
# offline): no engine needed.
count "interpolation: interp_fuzz.py (1000 random values vs docker stack config)" \
    "$here/conformance/interp_fuzz.py" "$build/stackd" 1000 1
count "merging: merge_fuzz.py (100 generated pairs vs docker stack config)" \
    "$here/conformance/merge_fuzz.py" "$build/stackd" 100 1

harness_dir=$(mktemp -d /tmp/stackd-e2e.XXXXXX)
# Daemons started without a state directory keep their git caches and
# sync history here, not in the machine's /var/lib/stackd.
export STATE_DIRECTORY=$harness_dir.state
mkdir -p "$STATE_DIRECTORY"
echo "== starting swarm engines in $harness_dir"
if "$here/harness/swarm.sh" start "$harness_dir" 2 >"$harness_dir.env" 2>"$harness_dir.log"; then
	set -a
	# shellcheck disable=SC1090
	. "$harness_dir.env"
	set +a
	for t in "$build"/tests/e2e/test_*; do
		[ -x "$t" ] && count "e2e: $(basename "$t")" "$t"
	done
	count "e2e: cli.sh" "$here/e2e/cli.sh" "$build/stackd"
	DOCKER_HOST=$STACKD_TEST_ENGINE1 count "e2e: reconcile.sh" \
	    "$here/e2e/reconcile.sh" "$build/stackd"
	DOCKER_HOST=$STACKD_TEST_ENGINE1 count "e2e: badinput.sh (bad-input matrix)" \
	    "$here/e2e/badinput.sh" "$build/stackd"
	count "e2e: run.sh (daemon, both engines)" "$here/e2e/run.sh" "$build/stackd"
	count "e2e: git.sh (git source over smart HTTP, webhooks)" \
	    "$here/e2e/git.sh" "$build/stackd"
	count "e2e: git_ssh.sh (git source over ssh, known_hosts)" \
	    "$here/e2e/git_ssh.sh" "$build/stackd"
	DOCKER_HOST=$STACKD_TEST_ENGINE1 count "e2e: sources.sh (several sources in one daemon)" \
	    "$here/e2e/sources.sh" "$build/stackd"
	count "e2e: plan_config.sh (plan -c / apply -c over both engines)" \
	    "$here/e2e/plan_config.sh" "$build/stackd"
	# Conversion against `docker stack deploy` on engine 1.
	DOCKER_HOST=$STACKD_TEST_ENGINE1 count "conformance" \
	    "$here/conformance/run.sh" "$build"
	count "conformance: the corpus with pinned images (pinned.sh, own engine and mirror)" \
	    "$here/conformance/pinned.sh" "$build"
	DOCKER_HOST=$STACKD_TEST_ENGINE1 count "conformance: 25 generated files (fuzz.sh, seed 1)" \
	    "$here/conformance/fuzz.sh" "$build" 25 1
	DOCKER_HOST=$STACKD_TEST_ENGINE1 count "e2e: images.sh (digests pinned, against local registries)" \
	    "$here/e2e/images.sh" "$build/stackd"
	count "e2e: sops.sh (SOPS files in a git source, age identities)" \
	    "$here/e2e/sops.sh" "$build/stackd"
	DOCKER_HOST=$STACKD_TEST_ENGINE1 count "e2e: events.sh (the event-fed informer, its stream lost on purpose)" \
	    "$here/e2e/events.sh" "$build/stackd"
	DOCKER_HOST=$STACKD_TEST_ENGINE1 count "e2e: stacklist.sh (stacks listed in the config)" \
	    "$here/e2e/stacklist.sh" "$build/stackd"
	DOCKER_HOST=$STACKD_TEST_ENGINE1 count "e2e: health.sh (health, suspend, Prometheus scraping)" \
	    "$here/e2e/health.sh" "$build/stackd"
	DOCKER_HOST=$STACKD_TEST_ENGINE1 count "e2e: history.sh (the sync history, across a restart)" \
	    "$here/e2e/history.sh" "$build/stackd"
	DOCKER_HOST=$STACKD_TEST_ENGINE1 count "e2e: depends.sh (order between stacks, by the engine's events)" \
	    "$here/e2e/depends.sh" "$build/stackd"
	DOCKER_HOST=$STACKD_TEST_ENGINE1 count "e2e: hooks.sh (pre-sync and post-sync jobs, by the engine's events)" \
	    "$here/e2e/hooks.sh" "$build/stackd"
	DOCKER_HOST=$STACKD_TEST_ENGINE1 count "e2e: sandbox.sh (the status process: confined, restarted)" \
	    "$here/e2e/sandbox.sh" "$build/stackd"
	DOCKER_HOST=$STACKD_TEST_ENGINE1 count "e2e: page.sh (the status page in headless Chromium)" \
	    "$here/e2e/page.sh" "$build/stackd"
	DOCKER_HOST=$STACKD_TEST_ENGINE1 count "e2e: image.sh (stackd as a swarm service)" \
	    "$here/e2e/image.sh" "$build/stackd"
	# Last: it kills and restarts the engines.
	count "e2e: faults.sh (engines killed, concurrent writer, signals)" \
	    "$here/e2e/faults.sh" "$build/stackd"
	# A swarm of its own: three managers and a worker.
	count "e2e: ha.sh (managers failing over, the writer's lease)" \
	    "$here/e2e/ha.sh" "$build/stackd"
else
	cat "$harness_dir.log"
	for l in "$harness_dir"/e*/log; do [ -f "$l" ] && tail -20 "$l"; done
	echo "not ok - the swarm engines did not start; no end-to-end test ran"
	failed=$((failed + 1))
fi
rm -f "$harness_dir.env" "$harness_dir.log"

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
