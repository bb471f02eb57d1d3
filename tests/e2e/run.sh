#!/usr/bin/env bash
# End-to-end: the `stackd run` daemon against both harness engines (unix
# socket and TCP+TLS), driven through its config file, its source
# directory, the docker CLI and its status server.  Prints TAP.
set -uo pipefail
stackd=$1
. "$(dirname "$0")/tap.sh"
: "${STACKD_TEST_ENGINE1:?} ${STACKD_TEST_ENGINE2:?} ${STACKD_TEST_CERTS:?}"
d=$(mktemp -d /tmp/stackd-run.XXXXXX)
url=http://127.0.0.1:19090
pid=
secret_value=run-e2e-$$-s3cr3t

e1() { DOCKER_HOST=$STACKD_TEST_ENGINE1 docker "$@"; }
e2() { DOCKER_HOST=$STACKD_TEST_ENGINE2 DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=$STACKD_TEST_CERTS docker "$@"; }

cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	for e in e1 e2; do
		$e stack rm shared one1 two2 >/dev/null 2>&1
		for _ in $(seq 1 60); do
			[ -z "$($e service ls -q --filter label=com.stackd.owner=e2e-run)$($e network ls -q --filter label=com.stackd.owner=e2e-run)" ] && break
			sleep 0.5
		done
		$e secret ls -q --filter label=com.stackd.owner=e2e-run | xargs -r $e secret rm >/dev/null 2>&1
		$e config ls -q --filter label=com.stackd.owner=e2e-run | xargs -r $e config rm >/dev/null 2>&1
	done
	rm -rf "$d"
}
trap cleanup EXIT

api() { curl -s -H "Authorization: Bearer $(cat "$d/token")" "$url$1"; }
stack_is() { api "/api/v1/stacks/$1" | py "j['state'] == '$2' and sorted(j['engines']) == sorted('$3'.split())"; }
replicas() { $1 service inspect --format '{{.Spec.Mode.Replicated.Replicas}}' "$2" 2>/dev/null; }

mkdir -p "$d/src/shared"
printf '%s' "$secret_value" >"$d/src/shared/token.txt"
printf 'level=1\n' >"$d/src/shared/app.conf"
cat >"$d/src/shared/compose.yaml" <<'EOF'
services:
  app:
    image: local/busybox:1
    environment:
      MODE: ${MODE}
    stop_grace_period: 1s
    secrets: [token]
    configs: [{source: conf, target: /etc/app.conf}]
    deploy:
      replicas: 1
secrets:
  token:
    file: ./token.txt
configs:
  conf:
    file: ./app.conf
EOF
printf 'MODE: blue\n' >"$d/src/shared/vars.yaml"
printf 'services:\n  x:\n    image: local/busybox:1\n    deploy:\n      replicas: 0\n' >"$d/src/one1.yml"
printf 'services:\n  y:\n    image: local/busybox:1\n    deploy:\n      replicas: 0\n' >"$d/src/two2.yml"
printf 'tok-%s\n' "$$" >"$d/token"
cat >"$d/stackd.yaml" <<EOF
engines:
  - name: local
    host: $STACKD_TEST_ENGINE1
  - name: remote
    host: $STACKD_TEST_ENGINE2
    tls:
      cert_dir: $STACKD_TEST_CERTS
sources:
  - name: stacks
    dir:
      path: src
      debounce: 100ms
stacks:
  engines:
    one1: [local]
    two2: [remote]
owner: e2e-run
interval: 30s
status:
  listen: 127.0.0.1:19090
  token_file: token
log:
  format: json
EOF

"$stackd" run -c "$d/stackd.yaml" >"$d/log" 2>&1 &
pid=$!
out=$(cat "$d/log")
check "run -c: ready once the source is read and both engines reached" \
	within 20 eval '[ "$(curl -s -o /dev/null -w "%{http_code}" $url/readyz)" = 200 ]'

check "a stack on both engines and one on each converge" within 30 eval \
	'stack_is shared synced "local remote" && stack_is one1 synced local && stack_is two2 synced remote'
out=$( (e1 service ls; e2 service ls) 2>&1)
check "the engines hold what the config targets, and only that" eval \
	'{ [ "$(replicas e1 shared_app)" = 1 ] && [ "$(replicas e2 shared_app)" = 1 ] && e1 service inspect one1_x && ! e2 service inspect one1_x && e2 service inspect two2_y && ! e1 service inspect two2_y; } >/dev/null 2>&1'

out=$(api /api/v1/status)
check "/api/v1/status: version, both engines reachable, the source revision" eval \
	'py "j[\"ready\"] and len(j[\"engines\"]) == 2 and all(e[\"reachable\"] and e[\"api_version\"] for e in j[\"engines\"]) and len(j[\"sources\"][0][\"revision\"]) == 64 and j[\"sources\"][0][\"stacks\"] == 3" <<<"$out"'
out=$(api /api/v1/stacks/shared)
check "/api/v1/stacks/NAME: per engine, each service running/desired" within 20 eval \
	'api /api/v1/stacks/shared | py "all(s[\"running\"] == 1 and s[\"desired\"] == 1 and s[\"image\"] == \"local/busybox:1\" for e in j[\"engines\"].values() for s in e[\"services\"])"'
out=$(api /api/v1/stacks)
check "/api/v1/stacks lists the three stacks" eval 'py "sorted(s[\"name\"] for s in j) == [\"one1\", \"shared\", \"two2\"]" <<<"$out"'

out=$(api /metrics)
check "/metrics is valid Prometheus text with the stackd_ series" eval \
	'python3 "$(dirname "$0")/promcheck.py" <<<"$out" && has "stackd_build_info{" && has "stackd_writes_total{engine=\"local\",action=\"create\",kind=\"secret\"} 1" && has "stackd_stacks{state=\"synced\"} 3"'
out=$(api /)
check "the HTML page lists the stacks" eval 'has "<!DOCTYPE html>" && has ">shared<" && has ">two2<" && has "stackd"'

codes=$(curl -s -o /dev/null -w '%{http_code} ' -X POST "$url/api/v1/status"
	curl -s -o /dev/null -w '%{http_code} ' "$url/api/v1/status"
	curl -s -o /dev/null -w '%{http_code} ' -H 'Authorization: Bearer wrong' "$url/metrics"
	curl -s -o /dev/null -w '%{http_code} ' "$url/healthz"
	curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(cat "$d/token")" "$url/api/v1/stacks/nope")
out=$codes
check "POST is 405, a missing or wrong token 401, /healthz open, unknown stack 404" \
	[ "$codes" = "405 401 401 200 404" ]

e1 service scale -d shared_app=3 >/dev/null 2>&1
e2 service update -d --env-add HAND=1 two2_y >/dev/null 2>&1
out=$(tail -5 "$d/log")
check "drift by hand is reverted within 5 s, via the engines' events" within 5 eval \
	'[ "$(replicas e1 shared_app)" = 1 ] && ! e2 service inspect --format "{{.Spec.TaskTemplate.ContainerSpec.Env}}" two2_y | grep -q HAND'
e1 service rm one1_x >/dev/null 2>&1
check "a managed service removed by hand is back within 5 s" within 5 e1 service inspect one1_x
out=$(api /metrics)
check "drift corrections are counted" eval 'grep -Eq "^stackd_drift_corrections_total\{engine=\"local\"\} [1-9]" <<<"$out"'

printf 'MODE: green\n' >"$d/src/shared/vars.yaml"
env_of() { $1 service inspect --format '{{.Spec.TaskTemplate.ContainerSpec.Env}}' shared_app 2>/dev/null; }
check "a changed vars file reaches both engines" within 10 eval \
	'env_of e1 | grep -q MODE=green && env_of e2 | grep -q MODE=green'

before=$(e2 service inspect --format '{{.Version.Index}}' two2_y)
printf 'services:\n  y: [broken\n' >"$d/src/two2.yml"
check "a broken file: its stack fails with the parse error, nothing of it is touched" within 10 eval \
	'api /api/v1/stacks/two2 | py "j[\"state\"] == \"failed\" and \"two2.yml\" in j[\"engines\"][\"remote\"][\"error\"]" && [ "$(e2 service inspect --format "{{.Version.Index}}" two2_y)" = "$before" ]'
out=$(api /api/v1/stacks/shared)
check "the other stacks stay synced (once the vars change has rolled out)" within 30 eval 'stack_is shared synced "local remote" && stack_is one1 synced local'
printf 'services:\n  y:\n    image: local/busybox:1\n    deploy:\n      replicas: 0\n' >"$d/src/two2.yml"
check "the fixed file is synced again" within 10 stack_is two2 synced remote

cp "$d/stackd.yaml" "$d/good.yaml"
printf 'bogus: 1\n' >>"$d/stackd.yaml"
kill -HUP "$pid"
out=$(cat "$d/log")
check "SIGHUP with a bad config: refused with file:line:col, the old one keeps running" within 5 eval \
	'grep -q "reload refused.*unknown key .*bogus.*stackd.yaml:[0-9]*:[0-9]*" "$d/log" && kill -0 $pid && stack_is shared synced "local remote"'
sed 's/interval: 30s/interval: 20s/' "$d/good.yaml" >"$d/stackd.yaml"
kill -HUP "$pid"
check "SIGHUP with a good config reloads it" within 5 eval 'grep -q "reloaded: 2 engines" "$d/log" && stack_is shared synced "local remote"'

out=$(cat "$d/log")
check "every log line is one JSON object with level and msg" eval \
	'python3 -c "import json,sys; [json.loads(l)[\"msg\"] and json.loads(l)[\"level\"] for l in sys.stdin]" <"$d/log"'
check "the secret's value appears in no log line, page or document" eval \
	'! grep -qF "$secret_value" "$d/log" && ! { api /; api /api/v1/stacks; api /api/v1/status; api /metrics; } | grep -qF "$secret_value"'

kill -TERM "$pid"
rc=0
within 15 eval '! kill -0 $pid' ; wait "$pid"; rc=$?
pid=
out=$(tail -3 "$d/log")
check "SIGTERM: the cycle in flight ends, then exit 0" [ "$rc" = 0 ]

echo "1..$n"
