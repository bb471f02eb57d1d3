#!/usr/bin/env bash
# plan -c / apply -c: one pass over every engine of a stackd.yaml, with its
# stacks, targets and policies, as the daemon would do it.  Proven by
# running the daemon afterwards: it finds nothing to write.  Prints TAP.
set -uo pipefail
stackd=$1
. "$(dirname "$0")/tap.sh"
: "${STACKD_TEST_ENGINE1:?} ${STACKD_TEST_ENGINE2:?} ${STACKD_TEST_CERTS:?}"
d=$(mktemp -d /tmp/stackd-plancfg.XXXXXX)
pid=
e1() { DOCKER_HOST=$STACKD_TEST_ENGINE1 docker "$@"; }
e2() { DOCKER_HOST=$STACKD_TEST_ENGINE2 DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=$STACKD_TEST_CERTS docker "$@"; }
cleanup() {
	[ -z "$pid" ] || { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
	rm -rf "$d/src"/*
	"$stackd" apply -c "$d/stackd.yaml" --allow-empty >/dev/null 2>&1
	rm -rf "$d"
}
trap cleanup EXIT
mkdir -p "$d/src/both" "$d/src/far"
printf 'services:\n  app:\n    image: local/busybox:1\n    environment: {WHERE: both}\n    deploy: {replicas: 0}\n' \
	>"$d/src/both/compose.yaml"
printf 'services:\n  app:\n    image: local/busybox:1\n    deploy: {replicas: 0}\n' >"$d/src/far/compose.yaml"
config() { # engine 2's host
	cat >"$d/stackd.yaml" <<YAML
engines:
  - {name: local, host: "$STACKD_TEST_ENGINE1"}
  - name: remote
    host: "$1"
    tls: {cert_dir: "$STACKD_TEST_CERTS"}
sources:
  - dir: {path: src}
owner: e2e-plancfg
status: {listen: "127.0.0.1:19099"}
stacks:
  engines: {far: [remote]}
YAML
}
config "$STACKD_TEST_ENGINE2"
versions() { { e1 service ls -q --filter label=com.stackd.owner=e2e-plancfg; } | sort |
	xargs -r env DOCKER_HOST="$STACKD_TEST_ENGINE1" docker service inspect --format '{{.ID}} {{.Version.Index}}'
	e2 service ls -q --filter label=com.stackd.owner=e2e-plancfg | sort |
	xargs -r env DOCKER_HOST="$STACKD_TEST_ENGINE2" DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH="$STACKD_TEST_CERTS" \
	    docker service inspect --format '{{.ID}} {{.Version.Index}}'; }

run plan -c "$d/stackd.yaml"
check "plan -c: each engine with the stacks meant for it, exit 2" eval \
	'[ $rc = 2 ] && [ "$(grep -c "^engine " <<<"$out")" = 2 ] && [ "$(grep -c "+ create service both_app" <<<"$out")" = 2 ] && [ "$(grep -c "+ create service far_app" <<<"$out")" = 1 ] && sed -n "/^engine remote/,\$p" <<<"$out" | grep -q far_app'
out=$("$stackd" plan -c "$d/stackd.yaml" --json 2>&1); rc=$?
check "plan -c --json: every plan names its engine" eval \
	'[ $rc = 2 ] && py "sorted((p[\"engine\"], p[\"stack\"]) for p in j) == [(\"local\", \"both\"), (\"remote\", \"both\"), (\"remote\", \"far\")]" <<<"$out"'
run apply -c "$d/stackd.yaml"
check "apply -c: both engines converge" eval \
	'[ $rc = 0 ] && e1 service inspect both_app >/dev/null && e2 service inspect both_app >/dev/null && e2 service inspect far_app >/dev/null && ! e1 service inspect far_app >/dev/null 2>&1'
before=$(versions)
run plan -c "$d/stackd.yaml"
check "plan -c again: in sync everywhere, exit 0" eval '[ $rc = 0 ] && [ "$(grep -c ": in sync" <<<"$out")" = 3 ]'

"$stackd" run -c "$d/stackd.yaml" >"$d/log" 2>&1 &
pid=$!
synced() { curl -s http://127.0.0.1:19099/api/v1/stacks | py 'all(s["state"] == "synced" for s in j) and len(j) == 2'; }
within 30 synced
out=$(tail -5 "$d/log")
check "the daemon on the same config finds nothing to write" eval \
	'synced && [ "$(versions)" = "$before" ]'
kill "$pid"; wait "$pid" 2>/dev/null; pid=

config tcp://127.0.0.3:2376
sed -i 's/WHERE: both/WHERE: changed/' "$d/src/both/compose.yaml"
run plan -c "$d/stackd.yaml"
check "an engine that cannot be reached: exit 1, the other engine's plan still shown" eval \
	'[ $rc = 1 ] && has "cannot connect" && grep -A3 "^engine local" <<<"$out" | grep -q "~ update service both_app"'
config "$STACKD_TEST_ENGINE2"

echo "1..$n"
