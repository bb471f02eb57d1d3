#!/usr/bin/env bash
# End-to-end: a git source served over the smart HTTP protocol (git
# http-backend behind tests/harness/git_http.py, basic auth) driving
# `stackd run` against harness engine 1.  Commits reach the engine through
# webhooks (the poll interval is 10 minutes, so nothing else can bring
# them); a broken commit leaves the running stack alone; a force-push is
# followed; a fetch failure, or a server answering garbage, half a pack or
# nothing, keeps the last good commit, and the fetch process caught
# waiting holds nothing of the daemon's.  Prints TAP.
set -uo pipefail
stackd=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
: "${STACKD_TEST_ENGINE1:?}"
d=$(mktemp -d /tmp/stackd-git.XXXXXX)
port=19190
url=http://127.0.0.1:19091
repo=http://127.0.0.1:$port/ops.git
token_value=git-e2e-$$-t0ken
hook_value=git-e2e-$$-h00k
pid=
srv=
tls_srv=

export DOCKER_HOST=$STACKD_TEST_ENGINE1
GIT="git -c user.name=Tess -c user.email=tess@example.org -c init.defaultBranch=main"

start_server() {
	GIT_HTTP_FAULT="$d/fault" python3 "$here/../harness/git_http.py" "$d/repos" 127.0.0.1 $port deploy \
	    "$d/token" "$d/http.log" 2>>"$d/http.err" &
	srv=$!
	within 10 curl -s -o /dev/null "http://127.0.0.1:$port/"
}
stop_server() { [ -n "$srv" ] && kill "$srv" 2>/dev/null && wait "$srv" 2>/dev/null; srv=; }
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	stop_server
	# shellcheck disable=SC2086
	[ -z "$tls_srv" ] || kill $tls_srv 2>/dev/null
	docker stack rm web >/dev/null 2>&1
	for _ in $(seq 1 60); do
		[ -z "$(docker service ls -q --filter label=com.stackd.owner=e2e-git)$(docker network ls -q --filter label=com.stackd.owner=e2e-git)" ] && break
		sleep 0.5
	done
	rm -rf "$d"
}
trap cleanup EXIT; [ -n "${KEEP:-}" ] && trap - EXIT

api() { curl -s "$url$1"; }
# Whether this kernel has Landlock (landlock_create_ruleset is 444 on all).
landlock=$(python3 -c 'import ctypes; print(ctypes.CDLL(None).syscall(444, None, 0, 1) > 0)')
source_is() { api /api/v1/status | py "$1"; }
head_of() { git -C "$d/work" rev-parse HEAD; }
mode() { docker service inspect --format '{{range .Spec.TaskTemplate.ContainerSpec.Env}}{{.}} {{end}}' web_app 2>/dev/null; }
version() { docker service inspect --format '{{.Version.Index}}' web_app; }
push() { (cd "$d/work" && $GIT add -A && $GIT commit -qm "$1" && $GIT push -q origin main) >/dev/null 2>&1; }
# hook KIND [BODY]: POST a push delivery signed as GitHub, Gitea or GitLab.
hook() {
	local body=${2:-'{"ref":"refs/heads/main"}'} sig
	sig=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$hook_value" | sed 's/.*= //')
	case $1 in
	github) curl -s -o "$d/hook.out" -w '%{http_code}' -H "X-GitHub-Event: push" \
	    -H "X-Hub-Signature-256: sha256=$sig" --data-binary "$body" "$url/api/v1/webhook/git" ;;
	gitea) curl -s -o "$d/hook.out" -w '%{http_code}' -H "X-Gitea-Event: push" \
	    -H "X-Gitea-Signature: $sig" --data-binary "$body" "$url/api/v1/webhook/git" ;;
	gitlab) curl -s -o "$d/hook.out" -w '%{http_code}' -H "X-Gitlab-Event: Push Hook" \
	    -H "X-Gitlab-Token: $hook_value" --data-binary "$body" "$url/api/v1/webhook/git" ;;
	forged) curl -s -o "$d/hook.out" -w '%{http_code}' -H "X-GitHub-Event: push" \
	    -H "X-Hub-Signature-256: sha256=$(printf '%064d' 0)" --data-binary "$body" "$url/api/v1/webhook/git" ;;
	esac
}
fetches() { api /api/v1/status | python3 -c 'import json,sys; print(json.load(sys.stdin)["sources"][0]["git"]["fetches"])'; }
fetch_errors() { api /api/v1/status | python3 -c 'import json,sys; print(json.load(sys.stdin)["sources"][0]["git"]["fetch_errors"])'; }

mkdir -p "$d/repos" "$d/work/web"
printf '%s\n' "$token_value" >"$d/token"
printf 'wrong\n' >"$d/badtoken"
printf '%s\n' "$hook_value" >"$d/hook"
$GIT init -q --bare "$d/repos/ops.git"
(cd "$d/work" && $GIT init -q && $GIT remote add origin "$d/repos/ops.git")
cat >"$d/work/web/compose.yaml" <<'EOF'
services:
  app:
    image: local/busybox:1
    environment:
      MODE: ${MODE}
    stop_grace_period: 1s
    deploy:
      replicas: 1
EOF
printf 'MODE: one\n' >"$d/work/web/vars.yaml"
printf 'not a stack\n' >"$d/work/README"
push "web: mode one"
start_server

run validate --git "$repo" --ref main --git-username deploy --git-token-file "$d/token"
check "validate --git over smart HTTP with a token: the commit and its stack" eval \
	'[ $rc = 0 ] && has "commit $(head_of | cut -c1-12) \"web: mode one\" by Tess" && has "stack web: ok, 1 service"'
run validate --git "$repo" --ref main --git-username deploy --git-token-file "$d/badtoken"
check "a wrong token: authentication failed, and the token is not printed" eval \
	'[ $rc = 1 ] && has "authentication failed as \"deploy\"" && ! has wrong'
run validate --git "$repo" --ref main
check "no token: the server's demand for credentials is explained" eval \
	'[ $rc = 1 ] && has "set a token_file"'
run validate --git "$repo" --ref nosuch --git-username deploy --git-token-file "$d/token"
check "a ref the remote does not have is named" eval '[ $rc = 1 ] && has "no branch or tag \"nosuch\""'

# https with a private CA: the harness's engine 2 certificate (for its
# address) on a TLS git server there, and on 127.0.0.1 for a name check.
certs=$STACKD_TEST_CERTS
e2addr=${STACKD_TEST_ENGINE2#tcp://}; e2addr=${e2addr%:*}
tls_server() { # addr port
	GIT_HTTP_TLS=$certs/server.pem:$certs/server-key.pem python3 "$here/../harness/git_http.py" \
	    "$d/repos" "$1" "$2" deploy "$d/token" 2>>"$d/https.err" &
	tls_srv="$tls_srv $!"
	within 10 curl -s -o /dev/null --cacert "$certs/ca.pem" --resolve "localhost:$2:$1" "https://localhost:$2/"
}
tls_srv=
tls_server "$e2addr" 19194
tls_server 127.0.0.1 19195
https_repo=https://$e2addr:19194/ops.git
run validate --git "$https_repo" --ref main --git-username deploy --git-token-file "$d/token"
check "https, a private CA, no ca_file: refused, with the hint" eval \
	'[ $rc = 1 ] && has "certificate" && has "give its certificate as ca_file / --git-ca-file"'
run validate --git "$https_repo" --ref main --git-username deploy --git-token-file "$d/token" \
	--git-ca-file "$certs/ca.pem"
check "https with --git-ca-file: fetched and loaded" eval \
	'[ $rc = 0 ] && has "stack web: ok, 1 service"'
run validate --git "$https_repo" --ref main --git-username deploy --git-token-file "$d/token" \
	--git-ca-file "$certs/other/ca.pem"
check "another CA's file: refused as not trusted by it" eval \
	'[ $rc = 1 ] && has "the TLS certificate of $e2addr is not trusted by $certs/other/ca.pem"'
run validate --git https://127.0.0.1:19195/ops.git --ref main --git-username deploy \
	--git-token-file "$d/token" --git-ca-file "$certs/ca.pem"
check "a certificate for another host: refused" eval \
	'[ $rc = 1 ] && has "the TLS certificate of 127.0.0.1 is for another host name"'
# shellcheck disable=SC2086
kill $tls_srv 2>/dev/null; wait $tls_srv 2>/dev/null; tls_srv=

"$stackd" run --git "$repo" --ref main --poll 10m --git-username deploy --git-token-file "$d/token" \
	--webhook-secret-file "$d/hook" --state-dir "$d/state" --owner e2e-git \
	--listen 127.0.0.1:19091 --log-format json >"$d/log" 2>&1 &
pid=$!
out=
check "run --git: the commit's stack is deployed" within 30 eval '[ "$(mode)" = "MODE=one " ]'
# The service is up before the cycle that made it ends and is published.
check "status: the commit in force (id, author, subject) and the fetch" within 10 eval \
	'out=$(api /api/v1/status) && py "j[\"sources\"][0][\"kind\"] == \"git\" and j[\"sources\"][0][\"revision\"] == \"$(head_of)\" and j[\"sources\"][0][\"git\"][\"commit\"][\"subject\"] == \"web: mode one\" and j[\"sources\"][0][\"git\"][\"commit\"][\"author\"] == \"Tess\" and j[\"sources\"][0][\"git\"][\"fetches\"] >= 1" <<<"$out"'
check "status: the fetch process was confined (seccomp, no_new_privs, Landlock)" eval \
	'py "(lambda f: f[\"enabled\"] and f[\"seccomp\"] and f[\"no_new_privs\"] and f.get(\"landlock\", False) == $landlock and (\"missing\" not in f or not $landlock))(j[\"sources\"][0][\"git\"][\"fetch_sandbox\"])" <<<"$(api /api/v1/status)"'
check "the cache is bare: no working tree, one export per snapshot" eval \
	'[ -f "$d/state/git/git/repo.git/HEAD" ] && [ "$(ls "$d/state/git/git/exports" | wc -l)" = 1 ]'

printf 'MODE: two\n' >"$d/work/web/vars.yaml"
push "web: mode two"
sleep 2
out=$(mode)
check "a push alone changes nothing before the poll interval" eval '[ "$out" = "MODE=one " ]'
before=$(fetches)
code=$(hook forged)
out="$code $(cat "$d/hook.out")"
check "a forged signature: 401, no fetch" eval \
	'[ "$code" = 401 ] && sleep 1 && [ "$(fetches)" = "$before" ] && [ "$(mode)" = "MODE=one " ]'
code=$(curl -s -o /dev/null -w '%{http_code}' --data-binary x "$url/api/v1/webhook/other")
check "a webhook for another source: 404" eval '[ "$code" = 404 ]'
code=$(head -c 2097152 /dev/zero | curl -s -o /dev/null -w '%{http_code}' -H "X-GitHub-Event: push" \
    --data-binary @- "$url/api/v1/webhook/git")
check "a 2 MiB webhook body: 413, no fetch" eval '[ "$code" = 413 ] && [ "$(fetches)" = "$before" ]'
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-GitHub-Event: push" --data-binary x "$url/api/v1/webhook/git")
check "an unsigned webhook: 401" eval '[ "$code" = 401 ]'
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Gitlab-Token: $hook_value" --data-binary x "$url/api/v1/webhook/git")
check "a signed webhook without an event header: 400, no fetch" eval '[ "$code" = 400 ] && [ "$(fetches)" = "$before" ]'
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary x "$url/api/v1/webhook/git")
check "a webhook with PUT: 405" eval '[ "$code" = 405 ]'
code=$(hook github)
out="$code $(cat "$d/hook.out")"
check "a signed GitHub push: 202, and the commit reaches the engine" eval \
	'[ "$code" = 202 ] && within 15 eval "[ \"\$(mode)\" = \"MODE=two \" ]"'
check "status follows the new commit" within 10 source_is "j['sources'][0]['revision'] == '$(head_of)'"
good=$(head_of)
# The rolling update writes its progress into the service: wait for it.
within 30 eval '[ "$(docker service inspect --format "{{.UpdateStatus.State}}" web_app)" = completed ]'
v=$(version)

printf 'services: [oops\n' >"$d/work/web/compose.yaml"
push "web: broken"
code=$(hook gitlab)
check "a broken commit (GitLab token): the source moves, the stack fails with the file's error" eval \
	'[ "$code" = 202 ] && within 15 eval "api /api/v1/stacks/web | py \"j[\\\"state\\\"] == \\\"failed\\\" and \\\"(web/compose.yaml:2:1) (commit \\\" in json.dumps(j)\""'
out=$(api /api/v1/stacks/web)
check "... and the running service is untouched" eval \
	'[ "$(version)" = "$v" ] && [ "$(mode)" = "MODE=two " ] && source_is "j[\"sources\"][0][\"revision\"] == \"$(head_of)\""'

(cd "$d/work" && $GIT reset -q --hard HEAD~1 && $GIT push -qf origin main) >/dev/null 2>&1
code=$(hook gitea)
within 15 source_is "j['sources'][0]['revision'] == '$good'"
within 10 eval "api /api/v1/stacks/web | py \"j['state'] == 'synced'\""
out="hook $code, version $v -> $(version), $(api /api/v1/stacks/web)"
check "a force-push back (Gitea signature) is followed, with no write" eval \
	'[ "$code" = 202 ] && source_is "j[\"sources\"][0][\"revision\"] == \"$good\"" && api /api/v1/stacks/web | py "j[\"state\"] == \"synced\"" && [ "$(version)" = "$v" ]'

stop_server
hook github >/dev/null
check "the git server gone: the error is shown, the last good commit stays" eval \
	'within 10 source_is "j[\"sources\"][0][\"error\"] is not None and \"git fetch\" in j[\"sources\"][0][\"error\"] and j[\"sources\"][0][\"revision\"] == \"$good\"" && api /api/v1/stacks/web | py "j[\"state\"] == \"synced\""'
start_server
hook github >/dev/null
check "the server back: the error clears" within 10 source_is "j['sources'][0]['error'] is None"

# A force-push of an unrelated history (an orphan commit) holding the same
# files: followed, and nothing written since nothing differs.
(cd "$d/work" && $GIT checkout -q --orphan rewritten && $GIT commit -qm "history rewritten" &&
	$GIT push -qf origin rewritten:main) >/dev/null 2>&1
orphan=$(head_of)
code=$(hook github)
synced() { api /api/v1/stacks/web | py "j['state'] == 'synced'"; }
check "a force-push of an unrelated history is followed, with no write" eval \
	'[ "$code" = 202 ] && within 15 source_is "j[\"sources\"][0][\"revision\"] == \"$orphan\"" && within 10 synced && [ "$(version)" = "$v" ]'

# A server that misbehaves reaches only the fetch process: it fails, the
# daemon runs on with the last good commit, and the next good fetch heals.
(cd "$d/work" && printf 'MODE: three\n' >web/vars.yaml && $GIT commit -qam "web: mode three" &&
	$GIT push -q origin rewritten:main) >/dev/null 2>&1
three=$(head_of)
for fault in garbage cut; do
	echo $fault >"$d/fault"
	before=$(fetch_errors)
	code=$(hook github)
	check "a server answering $fault: the fetch fails, the daemon runs, the last good commit stays" eval \
		'[ "$code" = 202 ] && within 15 eval "[ \$(fetch_errors) -gt $before ]" && kill -0 $pid &&
		source_is "\"git fetch\" in j[\"sources\"][0][\"error\"] and j[\"sources\"][0][\"revision\"] == \"$orphan\"" &&
		[ "$(mode)" = "MODE=two " ]'
done
out=$(grep -F 'source git' "$d/log" | tail -2)
rm -f "$d/fault"
code=$(hook github)
check "the server sane again: the new commit is deployed, the error clears" eval \
	'[ "$code" = 202 ] && within 15 eval "[ \"\$(mode)\" = \"MODE=three \" ]" && within 10 source_is "j[\"sources\"][0][\"error\"] is None and j[\"sources\"][0][\"revision\"] == \"$three\""'

out=$(api /metrics)
check "/metrics: fetches, fetch bytes and webhook results" eval \
	'python3 "$here/promcheck.py" <<<"$out" && has "stackd_source_fetches_total{source=\"git\"}" && has "stackd_source_last_fetch_bytes{source=\"git\"}" && has "stackd_webhook_deliveries_total{source=\"git\",result=\"refused\"} 4"'
out=$(cat "$d/log"; api /api/v1/status; api /metrics; api /)
check "neither the token nor the webhook secret appears in logs or pages" eval \
	'! has "$token_value" && ! has "$hook_value"'

kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
out=$(tail -5 "$d/log")
check "SIGTERM: exit 0" eval '[ $rc = 0 ]'

# A server that never answers a pack: the fetch process, caught waiting,
# holds nothing of the daemon's (no new privileges, its filter, no
# capability, no descriptor shared but its socketpair), and is killed at
# the fetch's timeout.
cat >"$d/hang.yaml" <<EOF
sources:
  - name: git
    git: {url: "$repo", ref: main, poll: 10m, timeout: 2s, username: deploy, token_file: "$d/token"}
EOF
echo hang >"$d/fault"
"$stackd" run --config "$d/hang.yaml" --state-dir "$d/hang" --owner e2e-git \
	--listen 127.0.0.1:19091 --log-format json >"$d/log" 2>&1 &
pid=$!
child=
within 10 eval 'child=$(pgrep -P $pid -f "git-fetch") && grep -q "^State:.S" /proc/$child/status'
sockets() { for f in /proc/"$1"/fd/*; do readlink "$f"; done | grep '^socket:' | sort -u; }
field() { sed -n "s/^$2:[[:space:]]*//p" /proc/"$1"/status; }
cap=$(field "$child" CapEff)
out="child $child: NoNewPrivs $(field "$child" NoNewPrivs) Seccomp $(field "$child" Seccomp) CapEff $cap"
check "a hung fetch: its process has NoNewPrivs 1, Seccomp 2, no capability" eval \
	'[ "$(field "$child" NoNewPrivs)" = 1 ] && [ "$(field "$child" Seccomp)" = 2 ] && [ "$cap" = 0000000000000000 ]'
out=$(comm -12 <(sockets "$child") <(sockets "$pid"))
check "... and no socket of the daemon's (the engine's, the status process's)" eval \
	'[ -z "$out" ] && [ -n "$(sockets "$pid")" ] && [ -n "$(sockets "$child")" ]'
check "... it is killed at its timeout, the daemon says so and runs on" eval \
	'within 10 eval "! kill -0 $child 2>/dev/null" && within 10 source_is "\"timed out\" in (j[\"sources\"][0][\"error\"] or \"\")" && kill -0 $pid'
kill -TERM "$pid"
wait "$pid"
pid=
echo "1..$n"
