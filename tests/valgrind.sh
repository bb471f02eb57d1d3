#!/usr/bin/env bash
# The end-to-end suite with every stackd process under valgrind's memcheck
# (`make valgrind`): each script's stackd is a wrapper that runs the real
# binary under valgrind, and a run fails on any memory error or definite
# or indirect leak (libgit2 1.5's own ssh leak is suppressed), as well as
# on any failed check.  image.sh is left out: it copies the binary into an
# image.  Prints "N passed, N failed" like tests/run.sh.
#
#   tests/valgrind.sh BUILD_DIR
set -uo pipefail
build=$(cd "${1:?usage: tests/valgrind.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
d=$(mktemp -d /tmp/stackd-valgrind.XXXXXX)
harness=$d/engines
passed=0
failed=0
cleanup() { "$here/harness/swarm.sh" stop "$harness" >/dev/null 2>&1; rm -rf "$d"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
command -v valgrind >/dev/null || { echo "valgrind not found (apt-get install valgrind)"; exit 1; }

mkdir -p "$d/bin" "$d/logs"
cat >"$d/bin/stackd" <<WRAP
#!/bin/sh
exec valgrind --quiet --error-exitcode=99 --leak-check=full \\
	--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \\
	--suppressions=$here/e2e/valgrind-libgit2-ssh.supp \\
	--log-file=$d/logs/%p.log "$build/stackd" "\$@"
WRAP
chmod +x "$d/bin/stackd"

"$here/harness/swarm.sh" start "$harness" 2 >"$d/env" 2>"$d/harness.log" || {
	cat "$d/harness.log"; echo "0 passed, 1 failed"; exit 1; }
set -a
# shellcheck disable=SC1091
. "$d/env"
set +a

for t in cli reconcile badinput run git git_ssh page faults; do
	rm -f "$d/logs/"*.log
	echo "== valgrind: $t.sh"
	out=$(DOCKER_HOST=$STACKD_TEST_ENGINE1 "$here/e2e/$t.sh" "$d/bin/stackd" 2>&1)
	printf '%s\n' "$out" | grep -E '^(not )?ok '
	p=$(grep -cE '^ok ' <<<"$out")
	f=$(grep -cE '^not ok ' <<<"$out")
	for l in "$d/logs/"*.log; do
		[ -s "$l" ] || continue
		echo "not ok - $t.sh: valgrind reported (stackd pid $(basename "$l" .log)):"
		sed 's/^/#   /' "$l" | head -40
		f=$((f + 1))
	done
	passed=$((passed + p))
	failed=$((failed + f))
done
echo
echo "$passed passed, $failed failed (under valgrind)"
[ "$failed" -eq 0 ]
