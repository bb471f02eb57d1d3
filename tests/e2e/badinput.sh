#!/usr/bin/env bash
# The bad-input matrix (tests/README.md): each broken stack file replaces
# a deployed, good one and `stackd apply` must exit 1 with an error that
# says what and where, and leave every object on the engine as it was
# (same IDs, same versions: nothing written, nothing pruned).
# Prints TAP; run by tests/run.sh with DOCKER_HOST = engine 1.
set -uo pipefail
stackd=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")	# it cd-s into the source
. "$(dirname "$0")/tap.sh"

d=$(mktemp -d /tmp/stackd-bad.XXXXXX)
http_pid=
cleanup() {
	[ -z "$http_pid" ] || kill "$http_pid" 2>/dev/null
	umount "$d/ro" "$d/full" 2>/dev/null
	"$stackd" apply --dir "$d/empty" --allow-empty --prune-secrets --owner e2e-bad >/dev/null 2>&1
	"$stackd" apply --dir "$d/empty" --allow-empty --owner e2e-guard >/dev/null 2>&1
	rm -rf "$d"
}
trap cleanup EXIT
mkdir -p "$d/src" "$d/empty" "$d/other"
cd "$d/src" || exit 1

cat >good.yml <<'YAML'
services:
  web:
    image: local/busybox:1
    deploy: {replicas: 1}
    networks: [front]
    secrets: [pw]
    configs: [{source: conf, target: /etc/app.conf}]
  worker:
    image: local/busybox:1
    deploy: {replicas: 0}
networks:
  front: {}
secrets:
  pw: {file: ./pw.txt}
configs:
  conf: {file: ./app.conf}
YAML
planted="planted-$RANDOM$RANDOM"
printf '%s\n' "$planted" >pw.txt
echo a=1 >app.conf

# Every object of the engine: kind, ID, version (networks have none).
state() {
	{
		docker service ls -q | xargs -r docker service inspect -f 'service {{.ID}} {{.Version.Index}}'
		docker secret ls -q | xargs -r docker secret inspect -f 'secret {{.ID}} {{.Version.Index}}'
		# The daemon's writer lease is its bookkeeping, not a deployment.
		docker config ls --format '{{.ID}} {{.Name}}' | awk '$2 !~ /^stackd-lease\./ {print $1}' |
			xargs -r docker config inspect -f 'config {{.ID}} {{.Version.Index}}'
		docker network ls -q --no-trunc --filter scope=swarm | sed 's/^/network /'
	} | sort
}

run apply -s bad -f good.yml --owner e2e-bad
check "the good stack deploys" eval '[ $rc = 0 ] && has "stack bad: 6 created"'
before=$(state)

# case NAME FILE WANT [apply options...]: exit 1, WANT in the output,
# engine unchanged, the planted secret never printed.
case_() {
	local name=$1 file=$2 want=$3
	shift 3
	run apply -s bad -f "$file" --owner e2e-bad "$@"
	check "$name" eval '[ $rc = 1 ] && has "$want" && ! has "$planted" && [ "$(state)" = "$before" ]'
}

printf 'services:\n  web: [\n' >c.yml
case_ "invalid YAML" c.yml "invalid YAML: did not find expected node content while parsing a flow node (c.yml:3:1)"
sed 's/replicas: 1/replicas: many/' good.yml >c.yml
case_ "wrong type" c.yml 'services.web.deploy.replicas: expected an integer, got "many" (c.yml:4:24)'
sed 's/^    image: local\/busybox:1$/    imagee: x\n&/' good.yml >c.yml
case_ "unknown key" c.yml 'services.web: unknown key "imagee" (docker stack deploy rejects it too) (c.yml:3:5)'
printf 'services:\n  web:\n    image: a\n    image: b\n' >c.yml
case_ "duplicate key" c.yml 'duplicate key "image" (c.yml:4:5)'
{ cat good.yml; head -c 100000000 /dev/zero | tr '\0' '#'; } >c.yml
case_ "100 MB file" c.yml "c.yml: larger than 8388608 bytes"
python3 - >c.yml <<'PY'
print('x-a: &a [x,x,x,x,x,x,x,x,x,x]')
for i in range(1, 10):
    p, c = chr(96 + i), chr(97 + i)
    print('x-%s: &%s [%s]' % (c, c, ','.join(['*' + p] * 10)))
print('services:\n  web:\n    image: local/busybox:1')
PY
case_ "billion laughs (alias bomb)" c.yml "too many YAML nodes after expanding aliases (an alias bomb?)"
python3 -c "print('services:\n  web:\n    image: x\n    labels: ' + '[' * 5000 + ']' * 5000)" >c.yml
case_ "nesting 5000 deep" c.yml "nesting deeper than 64 levels"
printf 'services:\n  web:\n    image: local/busybox:1\n    labels: {a: "\xff\xfe"}\n' >c.yml
case_ "invalid UTF-8" c.yml "invalid YAML: invalid leading UTF-8 octet"
printf 'services:\n  web:\n    image: local/busybox:1\x00\n' >c.yml
case_ "a NUL byte" c.yml "invalid YAML: control characters are not allowed"
sed 's/image: local\/busybox:1/image: local\/busybox:${TAG}/' good.yml >c.yml
case_ "a missing variable (--strict-vars)" c.yml "variables not set (strict variables): TAG" --strict-vars
sed 's/image: local\/busybox:1/image: local\/busybox:${TAG:?set TAG to the release}/' good.yml >c.yml
case_ "a required variable" c.yml "services.web.image: required variable TAG is missing a value: set TAG to the release (c.yml:3:12)"
sed 's|./pw.txt|../../../../../../../../etc/passwd|' good.yml >c.yml
case_ "file: with .." c.yml "secrets.pw.file: ../../../../../../../../etc/passwd is outside the source root"
sed 's|./pw.txt|/etc/passwd|' good.yml >c.yml
case_ "file: absolute" c.yml "secrets.pw.file: /etc/passwd is outside the source root"
ln -s /etc/passwd link.txt
sed 's|./pw.txt|./link.txt|' good.yml >c.yml
case_ "file: a symlink out of the source" c.yml "secrets.pw.file: ./link.txt is outside the source root"
head -c 600000 /dev/urandom >big.bin
sed 's|./pw.txt|./big.bin|' good.yml >c.yml
case_ "a 600 KB secret" c.yml "secrets.pw.file: ./big.bin is larger than the engine allows (511999 bytes)"
sed "s/^  worker:/  $(printf 'w%.0s' $(seq 70)):/" good.yml >c.yml
case_ "a service name over 63 characters" c.yml "swarm allows at most 63"
sed "s/^  pw: {file: .\/pw.txt}/  pw: {file: .\/pw.txt, name: $(printf 's%.0s' $(seq 65))}/" good.yml >c.yml
case_ "a secret name over 64 characters" c.yml "the secret name \"sssss"
run apply -s "Bad Name" -f good.yml --owner e2e-bad
check "an invalid stack name" eval '[ $rc = 1 ] && has "invalid stack name \"Bad Name\"" && [ "$(state)" = "$before" ]'
run apply -s "a.b" -f good.yml --owner e2e-bad
check "a stack name swarm refuses in service names" eval \
	'[ $rc = 1 ] && has "is not allowed by swarm" && [ "$(state)" = "$before" ]'

# Port conflicts: another stack's service holds the port.
printf 'services:\n  web:\n    image: local/busybox:1\n    ports: ["8080:80"]\n' >"$d/other/p.yml"
run apply -s holder -f "$d/other/p.yml" --owner e2e-bad
before=$(state)
sed 's/^    deploy: {replicas: 1}$/&\n    ports: ["8080:80"]/' good.yml >c.yml
case_ "a published port another stack holds" c.yml \
	"service bad_web publishes port 8080/tcp, which service holder_web already publishes; nothing written"
printf 'services:\n  a:\n    image: x\n    ports: ["9000:80"]\n  b:\n    image: x\n    ports: ["9000:81"]\n' >c.yml
case_ "one port published twice in a stack" c.yml "services bad_a and bad_b both publish port 9000/tcp"

# One of two stacks broken (directory source): the other converges, the
# broken one keeps running as it was.
mkdir -p "$d/dir/bad" "$d/dir/holder"
cp good.yml pw.txt app.conf "$d/dir/bad/"
mv "$d/dir/bad/good.yml" "$d/dir/bad/compose.yaml"
sed 's/8080:80/8081:80/' "$d/other/p.yml" >"$d/dir/holder/compose.yaml"
printf 'services:\n  web: [\n' >"$d/dir/bad/compose.yaml"
run apply --dir "$d/dir" --owner e2e-bad
check "--dir: a broken stack fails, the other converges, nothing of the broken one written" eval \
	'[ $rc = 1 ] && has "stack bad: invalid YAML" && has "stack holder: 0 created, 1 updated" && [ "$(state | grep -c "^service")" = 3 ] && docker service inspect bad_web bad_worker >/dev/null'

# The prune guard: a push that deletes most stacks removes nothing.
mkdir -p "$d/guard"
for s in g1 g2 g3; do
	mkdir "$d/guard/$s"
	printf 'services:\n  x:\n    image: local/busybox:1\n    deploy: {replicas: 0}\n  y:\n    image: local/busybox:1\n    deploy: {replicas: 0}\n' \
		>"$d/guard/$s/compose.yaml"
done
run apply --dir "$d/guard" --owner e2e-guard
rm -r "$d/guard/g2" "$d/guard/g3"
guarded=$(state)
run apply --dir "$d/guard" --owner e2e-guard
check "a push removing 4 of 6 services: refused by the prune limit, nothing removed" eval \
	'[ $rc = 1 ] && has "stacks g2, g3 (gone from the source): refusing to remove 4 of the 6 services" && [ "$(state)" = "$guarded" ]'
run apply --dir "$d/guard" --owner e2e-guard --prune-limit 100
check "--prune-limit 100 lets it through" eval \
	'[ $rc = 0 ] && has "stack g2: 0 created, 0 updated, 3 removed" && ! docker service inspect g3_x >/dev/null 2>&1'

# A read-only and a full state directory (tmpfs): the git cache cannot be
# made or filled; the daemon says so and never touches the engine.
git init -q --bare "$d/repo.git"
mkdir -p "$d/gitwork/web" && cp good.yml "$d/gitwork/web/compose.yaml" && cp pw.txt app.conf "$d/gitwork/web/"
head -c 200000 /dev/urandom >"$d/gitwork/web/blob.bin"
(cd "$d/gitwork" && git init -q && git add . && git -c user.email=e2e@stackd -c user.name=e2e commit -qm init &&
	git push -q "$d/repo.git" HEAD:main) >/dev/null 2>&1
mkdir -p "$d/ro" "$d/full"
mount -t tmpfs -o ro,size=1m tmpfs "$d/ro" && mount -t tmpfs -o size=64k tmpfs "$d/full"
before=$(state)
out=$(timeout 20 "$stackd" run --git "file://$d/repo.git" --ref main --state-dir "$d/ro" --listen "" \
	--owner e2e-bad 2>&1); rc=$?
check "a read-only state directory: run exits 1 saying so" eval \
	'[ $rc = 1 ] && has "Read-only file system" && [ "$(state)" = "$before" ]'
"$stackd" run --git "file://$d/repo.git" --ref main --state-dir "$d/full" --listen "" --owner e2e-bad >"$d/full.log" 2>&1 &
full_pid=$!
sleep 4
kill "$full_pid"; wait "$full_pid"; rc=$?
out=$(cat "$d/full.log")
check "a full state directory: the fetch error is logged, the daemon lives, nothing deployed" eval \
	'[ $rc = 0 ] && has "No space left on device; the last good revision stays in force" && [ "$(state)" = "$before" ]'

# A git "server" that answers garbage: a clear error, nothing fetched.
python3 -c '
import http.server
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/x-git-upload-pack-advertisement")
        self.end_headers()
        self.wfile.write(b"\x00\xffgarbage" * 100)
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", 19193), H).serve_forever()' &
http_pid=$!
sleep 0.5
run validate --git http://127.0.0.1:19193/repo.git --state-dir "$d/state"
check "a git server answering garbage: a clear error" eval '[ $rc = 1 ] && has "git fetch" && has "127.0.0.1:19193"'
