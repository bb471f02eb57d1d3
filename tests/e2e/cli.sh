#!/usr/bin/env bash
# End-to-end tests of the stackd command line against the harness engines.
# Prints TAP ("ok N - name" / "not ok N - name"); run by tests/run.sh.
set -uo pipefail
stackd=$1
. "$(dirname "$0")/tap.sh"
c=$STACKD_TEST_CERTS
tls=(--tlscacert "$c/ca.pem" --tlscert "$c/cert.pem" --tlskey "$c/key.pem")

run version
check "version prints stackd and library versions" \
	eval '[ $rc = 0 ] && has "stackd 0.1.0" && has "libgit2 " && has "libyaml " && has "cJSON " && has "libcurl " && has "OpenSSL " && has "libmicrohttpd "'

run ping -H "$STACKD_TEST_ENGINE1"
check "ping engine 1 over its unix socket" \
	eval '[ $rc = 0 ] && has "API version  1.41" && has "swarm        active, manager"'

run ping -H "$STACKD_TEST_ENGINE2" "${tls[@]}"
check "ping engine 2 over TLS with client certificates" \
	eval '[ $rc = 0 ] && has "engine $STACKD_TEST_ENGINE2" && has "active, manager"'

out=$(DOCKER_HOST=$STACKD_TEST_ENGINE2 DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=$c "$stackd" ping 2>&1); rc=$?
check "ping honours DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH" \
	eval '[ $rc = 0 ] && has "engine $STACKD_TEST_ENGINE2"'

run ping -H "$STACKD_TEST_ENGINE2" --tlscacert "$c/other/ca.pem" --tlscert "$c/cert.pem" --tlskey "$c/key.pem"
check "ping with the wrong CA fails clearly" \
	eval '[ $rc = 1 ] && has "certificate was not accepted"'

run ping -H ssh://admin@node1
check "ssh:// is refused as not supported" eval '[ $rc = 1 ] && has "ssh:// is not supported"'

run ping -H tcp://127.0.0.3:2376 --timeout 2
check "a closed port is reported as unreachable" eval '[ $rc = 1 ] && has "cannot connect"'

run frobnicate
check "an unknown command fails with usage" eval '[ $rc = 1 ] && has "unknown command" && has "usage: stackd"'

run ping --help
check "ping --help documents the engine options" eval '[ $rc = 0 ] && has "--tlscacert"'

# render: the objects a stack becomes; secret data never printed
r=$(mktemp -d)
planted="planted-secret-$RANDOM$RANDOM"
printf '%s' "$planted" >"$r/pw.txt"
cat >"$r/stack.yml" <<'YAML'
services:
  web:
    image: local/busybox:${TAG:-1}
    secrets: [pw]
secrets:
  pw:
    file: ./pw.txt
YAML
run render -f "$r/stack.yml" -s demo --var TAG=2
check "render prints the Engine API objects of a stack" \
	eval '[ $rc = 0 ] && has "\"Name\":	\"demo_web\"" && has "local/busybox:2" && has "\"SecretName\":	\"demo_pw\""'
check "render redacts secret data (length and sha256 only)" \
	eval 'has "<redacted, ${#planted} bytes, sha256:$(printf %s "$planted" | sha256sum | cut -c1-64)>" && ! has "$planted" && ! has "$(printf %s "$planted" | base64)"'
printf 'services:\n  web:\n    image: x\n    deploy:\n      replicas: three\n' >"$r/bad.yml"
run render -f "$r/bad.yml" -s demo
check "render reports a bad value with key path and position" \
	eval '[ $rc = 1 ] && has "services.web.deploy.replicas: expected an integer, got \"three\" ($r/bad.yml:5:17)"'
run render -f "$r/stack.yml" -s "bad/name"
check "render refuses an invalid stack name" eval '[ $rc = 1 ] && has "invalid stack name"'
run render -f "$r/stack.yml" -s demo --strict-vars
check "--strict-vars accepts variables that have defaults" eval '[ $rc = 0 ] && has "demo_web"'
printf 'services:\n  web:\n    image: x${TAG}\n    build: .\n' >"$r/warn.yml"
run render -f "$r/warn.yml" -s demo
check "render warns about ignored keys and unset variables" \
	eval '[ $rc = 0 ] && has "warning: services.web: ignoring unsupported option build" && has "The \"TAG\" variable is not set"'
run render -f "$r/warn.yml" -s demo --strict-vars
check "--strict-vars fails on an unset variable" eval '[ $rc = 1 ] && has "variables not set (strict variables): TAG"'
mkdir -p "$r/src/web"
cp "$r/stack.yml" "$r/src/web/compose.yaml"
cp "$r"/*.txt "$r/src/web/" 2>/dev/null
printf 'services:\n  a: [x\n' >"$r/src/broken.yml"
printf 'sources:\n  - dir: {path: src}\nstacks: {env_inherit: maybe}\n' >"$r/stackd.yaml"
run validate -c "$r/stackd.yaml"
check "validate: a bad config value names key, file, line and column" \
	eval '[ $rc = 1 ] && has "stacks: env_inherit must be true or false ($r/stackd.yaml:3:"'
sed -i 's/maybe/false/' "$r/stackd.yaml"
run validate -c "$r/stackd.yaml"
check "validate: loads every stack, names the broken one and fails" \
	eval '[ $rc = 1 ] && has "stack web: ok" && has "stack broken: invalid YAML" && has "broken.yml:3:1"'
rm "$r/src/broken.yml"
run validate -c "$r/stackd.yaml"
check "validate: exit 0 when all is well" eval '[ $rc = 0 ] && has "config $r/stackd.yaml: ok"'
printf 'engines:\n  - {name: e, host: "unix:///nonexistent"}\nsources:\n  - dir: {path: src}\nstacks:\n  engines: {wbe: [e]}\n' \
	>"$r/stackd.yaml"
run validate -c "$r/stackd.yaml"
check "validate: stacks.engines naming a stack the source lacks is a warning" eval \
	'[ $rc = 0 ] && has "warning: stacks.engines names stack wbe, which no source holds"'
rm -rf "$r"

echo "1..$n"
