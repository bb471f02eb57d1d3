# TAP helpers for the end-to-end shell tests (sourced, not run).
#   run ARGS...        run stackd ARGS, keep output in $out and status in $rc
#   check NAME CMD...  one TAP line; on failure the status and output follow
#   has TEXT           does $out contain TEXT?
#   within SECS CMD... poll (every 0.1 s) until CMD succeeds, for SECS seconds
#   py EXPR            a Python expression over the JSON on stdin (as j)
#   config_head OWNER PORT  a stackd.yaml's start: engine $DOCKER_HOST as
#                      "local", source "s" (directory src), the status on
#                      PORT, lease off, interval 2s
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
within() { # wall-clock seconds: a slow CMD must not stretch the wait
	local end=$((SECONDS + $1)); shift
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.1
	done
}
# An --until for docker events that takes in this second's events too:
# the engine's bound is whole seconds, and the last event is often this
# second's (it then waits out the rest of it).
events_until() { echo $(($(date +%s) + 1)); }
py() { python3 -c "import json,sys; j=json.load(sys.stdin); sys.exit(0 if ($1) else 1)"; }
config_head() {
	cat <<YAML
engines:
  - {name: local, host: "$DOCKER_HOST"}
sources:
  - name: s
    dir: {path: src, debounce: 100ms}
owner: $1
state_dir: state
interval: 2s
status: {listen: "127.0.0.1:$2"}
lease: {enabled: false}
YAML
}
