# TAP helpers for the end-to-end shell tests (sourced, not run).
#   run ARGS...        run stackd ARGS, keep output in $out and status in $rc
#   check NAME CMD...  one TAP line; on failure the status and output follow
#   has TEXT           does $out contain TEXT?
n=0
out=
rc=0

run() { out=$("$stackd" "$@" 2>&1); rc=$?; }
has() { grep -qF -- "$1" <<<"$out"; }
check() {
	local name=$1; shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name"
		printf '# exit %s, output:\n' "$rc"
		printf '%s\n' "$out" | sed 's/^/#   /'
	fi
}
