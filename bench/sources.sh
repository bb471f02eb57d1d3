#!/usr/bin/env bash
# Source benchmarks (called by `make bench`): a watched directory's edit ->
# snapshot latency, and a git source of 1 000 stacks served over file://
# and over smart HTTP (tests/harness/git_http.py on 127.0.0.1:19290).
# Prints Markdown.
set -euo pipefail
build=${1:?usage: bench/sources.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
d=$(mktemp -d /tmp/stackd-bench-src.XXXXXX)
srv=
cleanup() { [ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$d"; }
trap cleanup EXIT
GIT="git -c user.name=Bench -c user.email=bench@example.org -c init.defaultBranch=main"

mkdir -p "$d/dir/web" "$d/work"
for i in $(seq 1 1000); do
	mkdir -p "$d/work/s$i"
	printf 'services:\n  app:\n    image: local/busybox:1\n    environment: {N: "%d"}\n' "$i" >"$d/work/s$i/compose.yaml"
	printf 'MODE: one\n' >"$d/work/s$i/vars.yaml"
done
$GIT init -q --bare "$d/repos/ops.git"
(cd "$d/work" && $GIT init -q && $GIT add -A && $GIT commit -qm "1000 stacks" &&
    $GIT push -q "$d/repos/ops.git" main)
printf 'bench\n' >"$d/token"
python3 "$here/../tests/harness/git_http.py" "$d/repos" 127.0.0.1 19290 bench "$d/token" 2>/dev/null &
srv=$!
sleep 1

echo "## Sources"
echo
echo "Directory source: an editor-style save (write + rename) of a compose"
echo "file, until \`sources_dir_next\` delivers the new snapshot; 100 edits."
echo
echo "| Debounce | Delivered | p50 | p95 | max |"
echo "|---|---|---|---|---|"
"$build/bench/bench_sources" dir "$d/dir" 100
echo
echo "Git source, 1 000 stacks (2 000 files) in one repository. A poll with no"
echo "new commit is one ref negotiation: no pack (Received counts pack bytes),"
echo "no snapshot. The HTTP server is a Python CGI bridge that starts"
echo "\`git http-backend\` per request (2 per idle poll: the 401 that asks for"
echo "credentials, then the refs), so its poll time is mostly the server's."
echo
echo "| Case | Stacks | Wall time | Received | Peak RSS |"
echo "|---|---|---|---|---|"
echo "| **file://** | | | | |"
"$build/bench/bench_sources" git "file://$d/repos/ops.git" "$d/cache-file"
echo "| **smart HTTP (basic auth)** | | | | |"
"$build/bench/bench_sources" git "http://127.0.0.1:19290/ops.git" "$d/cache-http" "$d/token" bench
