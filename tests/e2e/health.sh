#!/usr/bin/env bash
# Health apart from sync, on a real engine: a failing healthcheck, a
# placement no node satisfies, a start past sync_timeout, an update the
# engine rolls back (degraded, never synced), a healthy stack that costs
# no task read; suspend and resume by SIGHUP; the health notifications;
# /metrics through promtool and a real Prometheus scraping the daemon.
# Prints TAP; DOCKER_HOST = engine 1.
set -uo pipefail
stackd=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
d=$(mktemp -d /tmp/stackd-health.XXXXXX)
pid= receiver= prom=
cleanup() {
	local p
	for p in $pid $receiver $prom; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	"$stackd" apply --dir "$d/empty" --allow-empty --owner e2e-health >/dev/null 2>&1
	rm -rf "$d"
}
trap cleanup EXIT
port=$(python3 "$here/../harness/freeport.py" 127.0.0.1)
nport=$(python3 "$here/../harness/freeport.py" 127.0.0.1)
pport=$(python3 "$here/../harness/freeport.py" 127.0.0.1)
url=http://127.0.0.1:$port
mkdir -p "$d/empty" "$d/src"/{ok,sick,nonode,slow,roll,susp}
svc() { # STACK, then the service's extra lines
	local s=$1; shift
	{ printf 'services:\n  app:\n    image: local/busybox:1\n    command: ["sleep", "3600"]\n'
	  printf '    %s\n' "$@"; } >"$d/src/$s/compose.yaml"
}
svc ok 'healthcheck: {test: ["CMD", "true"], interval: 1s}'
svc sick 'healthcheck: {test: ["CMD", "false"], interval: 1s, retries: 1, timeout: 1s}' \
	'deploy: {restart_policy: {delay: 1s}}'
svc nonode 'deploy: {placement: {constraints: ["node.labels.e2e-health == nowhere"]}}'
# Never checked within the test: the task stays "starting".
svc slow 'healthcheck: {test: ["CMD", "true"], interval: 1h}'
svc roll 'environment: [V=1]'
svc susp 'deploy: {replicas: 1}'
config() { # LIST ENTRIES
	{ config_head e2e-health "$port"; cat <<YAML
log: {level: debug}
notify: {url: "http://127.0.0.1:$nport/"}
stacks:
  resolve_image: never
  sync_timeout: 5m
  prune_limit: 100
  list:
$1
YAML
	} >"$d/stackd.yaml"
}
entry() { printf '    - {name: %s, files: [%s/compose.yaml]%s}\n' "$1" "$1" "${2:-}"; }
all_entries() {
	entry ok; entry sick; entry nonode; entry slow ", sync_timeout: 30s"; entry roll
	entry susp "${1:-}"
}
config "$(all_entries)"

# The notification receiver: one JSON body a line.
python3 - "$nport" "$d/notes" <<'PY' &
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with open(sys.argv[2], "ab") as f:
            f.write(body + b"\n")
        self.send_response(204)
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
receiver=$!
"$stackd" run -c "$d/stackd.yaml" >"$d/log" 2>&1 &
pid=$!

stack() { curl -s "$url/api/v1/stacks/$1"; }
health_is() { # STACK HEALTH [TEXT in the reason]
	stack "$1" | py "j['health'] == '$2' and '${3:-}' in (j['engines']['local'].get('health_reason') or '')"
}
out=
# First: slow's 30 s start from the daemon's first write.
check "a start still waiting within sync_timeout is progressing" within 20 \
	health_is slow progressing "0/1 running"
check "a stack whose tasks all run (and pass their healthcheck) is healthy" within 60 eval \
	'health_is ok healthy && stack ok | py "j[\"state\"] == \"synced\" and j[\"engines\"][\"local\"][\"services\"][0][\"health\"] == \"healthy\""'
check "a failing healthcheck: degraded, saying the container was unhealthy" within 90 \
	health_is sick degraded "unhealthy container"
out=$(stack sick)
check "... and its spec is the file's: synced, not progressing" eval \
	'stack sick | py "j[\"state\"] == \"synced\""'
check "a placement no node satisfies: degraded at once, with the scheduler's reason" within 30 \
	health_is nonode degraded "no suitable node"
check "... and past it (30 s) degraded, naming the timeout" within 45 \
	health_is slow degraded "(sync_timeout 30s)"
out=$(curl -s "$url/api/v1/status")
check "the engine's health is its worst stack's" eval \
	'py "j[\"engines\"][0][\"health\"] == \"degraded\"" <<<"$out"'

# --- a rollback by the engine is degraded and never synced -------------
check "roll (v1) is synced and healthy" within 30 eval 'stack roll | py "j[\"state\"] == \"synced\" and j[\"health\"] == \"healthy\""'
svc roll 'environment: [V=2]' \
	'healthcheck: {test: ["CMD", "false"], interval: 1s, retries: 1, timeout: 1s}' \
	'deploy: {update_config: {failure_action: rollback, monitor: 3s}, restart_policy: {delay: 1s}}'
# Once the daemon has taken the push (the stack left synced), no answer
# may say synced again: the engine's rollback is no success.
rolled() {
	local j; j=$(stack roll)
	if py "j['state'] != 'synced'" <<<"$j"; then
		touch "$d/roll.left"
	elif [ -e "$d/roll.left" ]; then
		echo synced >>"$d/roll.seen"
	fi
	py "j['health'] == 'degraded' and 'rolled back' in j['engines']['local']['health_reason'] and j['state'] == 'out-of-sync'" <<<"$j"
}
check "an update the engine rolled back: degraded (\"rolled back\"), out-of-sync (held)" within 120 rolled
out=$(cat "$d/roll.seen" 2>/dev/null)
check "... never reported synced from the push on" test ! -s "$d/roll.seen"
out=$(docker service inspect --format '{{json .Spec.TaskTemplate.ContainerSpec.Env}}' roll_app)
check "... the engine runs v1 again and stackd did not send v2 twice" eval \
	'[ "$out" = "[\"V=1\"]" ] && [ "$(grep -c "updated" <(grep "object=service/roll_app" "$d/log"))" = 1 ]'

# --- notifications carry health changes --------------------------------
notes() { cat "$d/notes" 2>/dev/null; }
note() { # EVENT STACK
	notes | python3 -c "
import json, sys
ok = any(n['event'] == '$1' and n['stack'] == '$2' for n in map(json.loads, sys.stdin))
sys.exit(0 if ok else 1)"
}
check "notified: stack.degraded for sick, with the reason" within 10 eval \
	'note stack.degraded sick && notes | grep "\"stack\":\"sick\"" | grep -q "unhealthy container"'
out=$(notes)
check "... and none for the healthy stack" eval '! note stack.degraded ok && ! note stack.healthy ok'

# --- metrics: promtool, then a real Prometheus -------------------------
curl -s "$url/metrics" >"$d/metrics"
out=$(promtool check metrics <"$d/metrics" 2>&1)
check "promtool check metrics accepts /metrics" test $? -eq 0
out=$(grep -E '^stackd_stack_health\{stack="(sick|ok)"' "$d/metrics")
check "stackd_stack_health: sick degraded 1, ok healthy 1" eval \
	'grep -q "stack=\"sick\",engine=\"local\",health=\"degraded\"} 1" <<<"$out" && grep -q "stack=\"ok\",engine=\"local\",health=\"healthy\"} 1" <<<"$out"'
cat >"$d/prometheus.yml" <<YAML
global: {scrape_interval: 1s}
scrape_configs:
  - job_name: stackd
    static_configs: [{targets: ["127.0.0.1:$port"]}]
YAML
prometheus --config.file="$d/prometheus.yml" --storage.tsdb.path="$d/tsdb" \
	--web.listen-address="127.0.0.1:$pport" >"$d/prom.log" 2>&1 &
prom=$!
promql() { # QUERY: how many series answer it
	curl -s "http://127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$1" |
		python3 -c "import json,sys; print(len(json.load(sys.stdin)['data']['result']))"
}
out=
check "a real Prometheus scrapes the daemon: stackd_up-style samples are there" within 30 eval \
	'[ "$(promql "up{job=\"stackd\"} == 1")" = 1 ] && [ "$(promql "stackd_ready == 1")" = 1 ]'
check "... and PromQL finds the degraded stacks (nonode, roll, sick, slow)" within 10 eval \
	'[ "$(promql "stackd_stack_health{health=\"degraded\"} == 1")" = 4 ]'
check "... and the sync durations (histogram of the writes)" eval \
	'[ "$(promql "stackd_sync_duration_seconds_count{engine=\"local\"} > 0")" = 1 ]'

# --- suspend and resume by SIGHUP --------------------------------------
config "$(all_entries ", suspend: true")"
kill -HUP "$pid"
check "SIGHUP with suspend: true: the stack says it is suspended" within 20 eval \
	'stack susp | py "j[\"health\"] == \"suspended\" and j[\"engines\"][\"local\"][\"suspended\"] is True"'
w0=$(grep -c 'object=service/susp_app' "$d/log")
svc susp 'deploy: {replicas: 0}'
docker service update --quiet --detach --env-add HAND=1 susp_app >/dev/null
sleep 6
out=$(docker service inspect --format '{{.Spec.Mode.Replicated.Replicas}} {{json .Spec.TaskTemplate.ContainerSpec.Env}}' susp_app)
check "a suspended stack is neither applied (file change) nor healed (hand change)" eval \
	'[ "$out" = "1 [\"HAND=1\"]" ] && [ "$(grep -c "object=service/susp_app" "$d/log")" = "$w0" ]'
check "... its pending diff is shown, and the metric says suspended" eval \
	'stack susp | py "j[\"engines\"][\"local\"][\"pending_changes\"] == [\"update service susp_app\"]" && curl -s $url/metrics | grep -q "stack=\"susp\",engine=\"local\",health=\"suspended\"} 1"'
config "$(all_entries)"
kill -HUP "$pid"
check "SIGHUP without suspend: the file is applied, the hand change undone" within 20 eval \
	'[ "$(docker service inspect --format "{{.Spec.Mode.Replicated.Replicas}} {{json .Spec.TaskTemplate.ContainerSpec.Env}}" susp_app)" = "0 null" ]'

# --- a healthy fleet costs no task read --------------------------------
config "$(entry ok; entry susp)"
kill -HUP "$pid"
healthy_now() {
	curl -s "$url/api/v1/stacks" | py "len(j) == 2 and all(s['health'] == 'healthy' for s in j)" &&
		[ "$(docker service ls -q --filter label=com.stackd.owner=e2e-health | wc -l)" = 2 ]
}
check "only healthy stacks left" within 30 healthy_now
reads() { curl -s "$url/api/v1/status" | python3 -c "import json,sys; e=json.load(sys.stdin)['engines'][0]; print(e['observe']['task_reads'], e['cycles'])"; }
sleep 3
read -r r0 c0 <<<"$(reads)"
lines=$(wc -l <"$d/log")
sleep 6
read -r r1 c1 <<<"$(reads)"
out="task reads $r0 -> $r1 over cycles $c0 -> $c1
$(sed -n "$lines,\$p" "$d/log" | grep "reading its tasks")
$(curl -s "$url/api/v1/stacks" | python3 -c "import json,sys; [print(s['name'], x['name'], x['health'], x['running'], x['desired'], x.get('update_status')) for s in json.load(sys.stdin) for x in s['engines']['local']['services']]")"
check "healthy cycles read no task history (task reads $r0 -> $r1 over cycles $c0 -> $c1)" eval '[ "$r1" = "$r0" ] && [ "$c1" -gt "$c0" ]'
sed "s/^/# /" <<<"$out" >&2
echo "1..$n"
