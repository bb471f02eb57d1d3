#!/usr/bin/env bash
# End-to-end: stackd plan/apply against harness engine 1 (DOCKER_HOST).
# Prints TAP; run by tests/run.sh.
set -uo pipefail
stackd=$1
. "$(dirname "$0")/tap.sh"
d=$(mktemp -d /tmp/stackd-rec.XXXXXX)
# Stack removal is asynchronous: wait for it, so a next run starts clean.
cleanup() {
	local s
	docker stack rm rec adopt app other >/dev/null 2>&1
	for _ in $(seq 1 60); do
		s=$(for ns in rec adopt app other; do
			docker service ls -q --filter "label=com.docker.stack.namespace=$ns"
			docker network ls -q --filter "label=com.docker.stack.namespace=$ns"
		done)
		[ -z "$s" ] && break
		sleep 0.5
	done
	rm -rf "$d"
}
trap cleanup EXIT

# "name version" of every object of a stack, sorted: a write changes it.
versions() {
	{
		for k in service secret config; do
			ids=$(docker $k ls -q --filter "label=com.docker.stack.namespace=$1")
			[ -z "$ids" ] || docker $k inspect --format "$k {{.Spec.Name}} {{.Version.Index}}" $ids
		done
		ids=$(docker network ls -q --filter "label=com.docker.stack.namespace=$1")
		[ -z "$ids" ] || docker network inspect --format 'network {{.Name}}' $ids
	} | sort
}

# A 10-service stack with a network, a secret and a config.
gen() { # services-to-skip...
	echo 'services:'
	for i in 0 1 2 3 4 5 6 7 8 9; do
		case " $* " in *" s$i "*) continue ;; esac
		cat <<EOS
  s$i:
    image: local/busybox:1
    command: ["sleep", "86400"]
    environment: [INDEX=$i]
    networks: [back]
    secrets: [{source: pw, target: app.pw}]
    configs: [app]
    deploy: {replicas: 0, labels: [index=$i]}
EOS
	done
	cat <<'EOS'
networks:
  back: {}
secrets:
  pw: {file: ./pw.txt}
configs:
  app: {file: ./app.conf}
EOS
}
printf 'first-password' >"$d/pw.txt"
printf 'setting=1\n' >"$d/app.conf"
gen >"$d/stack.yml"
f=(-f "$d/stack.yml" -s rec)

run apply "${f[@]}"
check "apply creates a 10-service stack with its network, secret and config" \
	eval '[ $rc = 0 ] && has "13 created, 0 updated, 0 removed" && [ "$(versions rec | grep -c "^service")" = 10 ]'
before=$(versions rec)
run apply "${f[@]}"
check "a second apply makes no write (every Version.Index unchanged)" \
	eval '[ $rc = 0 ] && has "stack rec: in sync" && ! has "created" && [ "$(versions rec)" = "$before" ]'
run plan "${f[@]}"
check "plan of an applied stack exits 0: in sync, with no note" eval \
	'[ $rc = 0 ] && has "stack rec: in sync" && ! has "note:"'
gen | sed 's/  back: {}/  back: {attachable: true}/' >"$d/net.yml"
run plan -f "$d/net.yml" -s rec
check "a network changed in the file is reported as not updatable, and nothing is planned for it" \
	eval '[ $rc = 0 ] && has "network rec_back: changed in the file [\"Attachable: false -> true\"]" && has "cannot be updated in place" && [ "$(grep -c "note:" <<<"$out")" = 1 ]'
run ls >/dev/null
out=$(docker stack ls 2>&1); rc=$?
check "docker stack ls shows the stack stackd made" eval '[ $rc = 0 ] && grep -Eq "^rec +10" <<<"$out"'

docker service update -d --replicas 3 --env-add DRIFT=1 rec_s3 >/dev/null 2>&1
run plan "${f[@]}"
check "plan exits 2 and names both fields changed by hand" \
	eval '[ $rc = 2 ] && has "~ update service rec_s3" && has "Mode.Replicated.Replicas: 3 -> 0" && has "DRIFT=1"'
run plan "${f[@]}" --json
check "plan --json lists the same change for machines" \
	eval '[ $rc = 2 ] && has "\"action\":	\"update\"" && has "\"name\":	\"rec_s3\""'
run apply "${f[@]}"
check "apply reverts the drift" \
	eval '[ $rc = 0 ] && has "0 created, 1 updated, 0 removed" && [ "$(docker service inspect --format "{{.Spec.Mode.Replicated.Replicas}}" rec_s3)" = 0 ]'
run plan "${f[@]}"
check "after the repair plan is in sync again" eval '[ $rc = 0 ]'

before=$(versions rec | grep -v 'rec_s7 ')
gen s7 >"$d/stack.yml"
run apply "${f[@]}"
check "a service removed from the file is removed, and nothing else is touched" \
	eval '[ $rc = 0 ] && has "- remove service rec_s7" && has "0 created, 0 updated, 1 removed" && [ "$(versions rec)" = "$before" ]'

printf 'second-password' >"$d/pw.txt"
run apply "${f[@]}"
newpw=$(docker secret ls --format '{{.Name}}' --filter label=com.docker.stack.namespace=rec)
check "a changed secret becomes a new secret; services switch; the old one goes" \
	eval '[ $rc = 0 ] && [ "$(wc -l <<<"$newpw")" = 1 ] && [[ $newpw == rec_pw_* ]] && [ "$(docker service inspect --format "{{(index .Spec.TaskTemplate.ContainerSpec.Secrets 0).SecretName}} {{(index .Spec.TaskTemplate.ContainerSpec.Secrets 0).File.Name}}" rec_s0)" = "$newpw app.pw" ]'
run plan "${f[@]}"
check "after the rotation plan is in sync" eval '[ $rc = 0 ]'

before=$(versions rec)
printf 'services:\n  s0:\n    image: local/busybox:1\n    deploy: {replicas: three}\n' >"$d/stack.yml"
run apply "${f[@]}"
check "a broken file: exit 1 with the error, nothing changed or pruned" \
	eval '[ $rc = 1 ] && has "services.s0.deploy.replicas: expected an integer" && [ "$(versions rec)" = "$before" ]'

# Adoption: a stack made by docker stack deploy is taken over without a
# restart: same tasks before and after.
cat >"$d/adopt.yml" <<'EOF2'
version: "3.8"
services:
  web:
    image: local/busybox:1
    command: ["sleep", "86400"]
    deploy: {replicas: 1}
    configs: [app]
    # 16 ports, most unpublished: the CLI's order beyond 12 (pdqsort)
    ports: ["7000-7013", "18080:80", "18081:81/udp"]
configs:
  app: {file: ./app.conf}
EOF2
(cd "$d" && docker stack deploy --resolve-image never -c adopt.yml adopt >/dev/null 2>"$d/deploy.err") ||
	sed 's/^/# docker stack deploy: /' "$d/deploy.err"
for i in $(seq 1 60); do
	[ "$(docker service ps -q --filter desired-state=running adopt_web | wc -l)" = 1 ] && break
	sleep 0.5
done
tasks=$(docker service ps -q adopt_web | sort)
run plan -f "$d/adopt.yml" -s adopt
check "plan of a CLI-deployed stack shows only label changes" \
	eval '[ $rc = 2 ] && has "~ update service adopt_web" && ! grep -v "Labels.com.stackd" <<<"$out" | grep -q "^      "'
run apply -f "$d/adopt.yml" -s adopt
sleep 2
check "adopting a CLI-deployed stack restarts no task" \
	eval '[ $rc = 0 ] && [ "$(docker service ps -q adopt_web | sort)" = "$tasks" ]'
run plan -f "$d/adopt.yml" -s adopt
check "an adopted stack is in sync" eval '[ $rc = 0 ]'

# A directory of stacks: app/ (a stack directory) and other.yml (a file),
# under an owner of their own: the stacks above belong to another owner
# and must not be touched by --dir.
o=(--owner dirtest)
src=$d/src
mkdir -p "$src/app"
printf 'pw' >"$src/app/pw.txt"
printf 'services:\n  api:\n    image: local/busybox:1\n    secrets: [pw]\n    deploy:\n      replicas: ${N:-0}\nsecrets:\n  pw: {file: ./pw.txt}\n' >"$src/app/compose.yaml"
printf 'N: 0\n' >"$src/app/vars.yaml"
printf 'services:\n  web:\n    image: local/busybox:1\n    deploy: {replicas: 0}\n' >"$src/other.yml"
printf 'junk' >"$src/other.yml~"
run apply --dir "$src" "${o[@]}"
check "apply --dir deploys every stack it finds (editor backups skipped)" \
	eval '[ $rc = 0 ] && has "stack app: 3 created" && has "stack other: 2 created" && [ "$(docker stack ls --format "{{.Name}}" | grep -c -e "^app$" -e "^other$")" = 2 ]'
before=$(versions other)
printf 'services:\n  web:\n    image: [broken\n' >"$src/other.yml"
printf 'N: 1\n' >"$src/app/vars.yaml"
run apply --dir "$src" "${o[@]}"
check "one broken stack fails alone: the other converges, nothing of it is pruned" \
	eval '[ $rc = 1 ] && has "invalid YAML" && has "stack app: 0 created, 1 updated, 0 removed" && [ "$(versions other)" = "$before" ]'
printf 'services:\n  web:\n    image: local/busybox:1\n    deploy: {replicas: 0}\n' >"$src/other.yml"
rm -r "$src/app"
run apply --dir "$src" "${o[@]}"
check "a stack that left the source is removed; its secret is kept" \
	eval '[ $rc = 0 ] && has "- remove service app_api" && has "- remove network app_default" && [ -z "$(docker service ls -q --filter label=com.docker.stack.namespace=app)" ] && [ -n "$(docker secret ls -q --filter label=com.docker.stack.namespace=app)" ]'
# a removed swarm network stays listed for a few seconds
for _ in $(seq 1 40); do
	[ -z "$(docker network ls -q --filter label=com.docker.stack.namespace=app)" ] && break
	sleep 0.5
done
run plan --dir "$src" "${o[@]}"
check "after the removal plan --dir is in sync" eval '[ $rc = 0 ]'
run apply --dir "$src" --prune-secrets "${o[@]}"
check "--prune-secrets removes the departed stack's secret too" \
	eval '[ $rc = 0 ] && has "- remove secret app_pw" && [ -z "$(docker secret ls -q --filter label=com.docker.stack.namespace=app)" ]'
rm "$src/other.yml" "$src/other.yml~"
run apply --dir "$src" "${o[@]}"
check "an empty source removes nothing without --allow-empty" \
	eval '[ $rc = 1 ] && has "the source holds no stack; refusing to remove the 1 stack" && [ -n "$(docker service ls -q --filter label=com.docker.stack.namespace=other)" ]'
run apply --dir "$src" --allow-empty "${o[@]}"
check "--allow-empty removes them" eval '[ $rc = 0 ] && has "- remove service other_web"'
check "stacks of another owner are never touched by --dir" \
	eval '! has "stack rec" && [ -n "$(docker service ls -q --filter label=com.docker.stack.namespace=rec)" ]'

echo "1..$n"
