#!/usr/bin/env bash
# End-to-end: SOPS files in a git source, decrypted by stackd with an age
# identity, on harness engine 1.  The stack "vault" has a SOPS-encrypted
# secret file, .env and config (encrypted by tests/harness/sops_encrypt.py
# with Debian's age); the stack "plain" beside it has none.  Checks the
# deployed data is the plaintext, what rotates and what does not, that a
# wrong key, a tampered file and a missing key file each fail vault alone
# while its last good revision stays, and that neither the plaintext nor
# the identity is anywhere stackd writes.  Prints TAP.
set -uo pipefail
stackd=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
: "${STACKD_TEST_ENGINE1:?}"
d=$(mktemp -d /tmp/stackd-sops.XXXXXX)
port=19291
url=http://127.0.0.1:$port
pid=
pw1=pw-$$-Corr3ct-Horse
pw2=pw-$$-Battery-Staple
conf1=conf-$$-listen-8080
mode1=mode-$$-blue

export DOCKER_HOST=$STACKD_TEST_ENGINE1
GIT="git -c user.name=Tess -c user.email=tess@example.org -c init.defaultBranch=main"
enc() { python3 "$here/../harness/sops_encrypt.py" "$@"; }

stop() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; pid=; }
cleanup() {
	stop
	docker stack rm vault plain >/dev/null 2>&1
	for _ in $(seq 1 60); do
		[ -z "$(docker service ls -q --filter label=com.stackd.owner=e2e-sops)$(docker network ls -q --filter label=com.stackd.owner=e2e-sops)" ] && break
		sleep 0.5
	done
	docker secret ls -q --filter label=com.stackd.owner=e2e-sops | xargs -r docker secret rm >/dev/null 2>&1
	docker config ls -q --filter label=com.stackd.owner=e2e-sops | xargs -r docker config rm >/dev/null 2>&1
	rm -rf "$d"
}
trap cleanup EXIT; [ -n "${KEEP:-}" ] && trap - EXIT

start() { # KEYFILE
	"$stackd" run --git "file://$d/repos/ops.git" --ref main --poll 1s \
	    --state-dir "$d/state" --owner e2e-sops --listen 127.0.0.1:$port \
	    --interval 3s --sops-age-key-file "$1" --log-format json >>"$d/log" 2>&1 &
	pid=$!
}
push() { (cd "$d/work" && $GIT add -A && $GIT commit -qm "$1" && $GIT push -q origin main) >/dev/null 2>&1; }
head_of() { git -C "$d/work" rev-parse HEAD; }
stack() { curl -s "$url/api/v1/stacks/$1"; }
# the engine's view of vault, as one line to compare
state() { docker service inspect --format '{{.Version.Index}} {{range .Spec.TaskTemplate.ContainerSpec.Secrets}}{{.SecretName}}{{end}} {{range .Spec.TaskTemplate.ContainerSpec.Configs}}{{.ConfigName}}{{end}}' vault_app 2>/dev/null; }
secret_name() { docker service inspect --format '{{range .Spec.TaskTemplate.ContainerSpec.Secrets}}{{.SecretName}}{{end}}' vault_app 2>/dev/null; }
logs_have() { docker service logs --raw vault_app 2>/dev/null | grep -qF "$1"; }
synced_at() { # STACK REVISION
	stack "$1" | py "j['state'] == 'synced' and list(j['engines'].values())[0]['source_revision'] == '$2'"
}
failed_with() { # STACK TEXT
	stack "$1" | py "j['state'] == 'failed' and '$2' in (list(j['engines'].values())[0].get('error') or '')"
}

age-keygen -o "$d/key.txt" 2>/dev/null
age-keygen -o "$d/other.txt" 2>/dev/null
chmod 600 "$d/key.txt" "$d/other.txt"
me=$(age-keygen -y "$d/key.txt")
other=$(age-keygen -y "$d/other.txt")
identity=$(grep '^AGE-SECRET-KEY-1' "$d/key.txt")

mkdir -p "$d/repos" "$d/work/vault" "$d/work/plain" "$d/plain"
$GIT init -q --bare "$d/repos/ops.git"
(cd "$d/work" && $GIT init -q && $GIT remote add origin "$d/repos/ops.git")
cat >"$d/work/vault/compose.yaml" <<'EOF2'
services:
  app:
    image: local/busybox:1
    command: ["sh", "-c", "cat /run/secrets/pw; echo; cat /app.conf; echo; echo MODE=$$MODE; sleep 3600"]
    environment:
      MODE: ${MODE}
    secrets: [pw]
    configs:
      - source: conf
        target: /app.conf
    stop_grace_period: 1s
secrets:
  pw:
    file: ./pw.txt
configs:
  conf:
    file: ./app.conf
EOF2
cat >"$d/work/plain/compose.yaml" <<'EOF2'
services:
  web:
    image: local/busybox:1
    command: ["sleep", "3600"]
    stop_grace_period: 1s
EOF2
printf '%s' "$pw1" >"$d/plain/pw.txt"
printf '%s' "$conf1" >"$d/plain/app.conf"
printf 'MODE=%s\n' "$mode1" >"$d/plain/env"
enc "$me" "$d/plain/pw.txt" "$d/work/vault/pw.txt"
enc "$me" "$d/plain/app.conf" "$d/work/vault/app.conf"
enc "$me" "$d/plain/env" "$d/work/vault/.env"
push "vault: first"
rev1=$(head_of)

n=0
out=$("$stackd" validate --git "file://$d/repos/ops.git" --ref main --state-dir "$d/vstate" \
    --sops-age-key-file "$d/key.txt" 2>&1); rc=$?
check "validate: the SOPS files are named and decrypt, without their contents" eval \
	'[ $rc = 0 ] && has "vault/pw.txt: SOPS, decrypts" && has "vault/.env: SOPS, decrypts" && has "vault/app.conf: SOPS, decrypts" && ! has "$pw1" && ! has "$mode1"'

start "$d/key.txt"
out=
check "run: vault is synced at the first commit" within 60 synced_at vault "$rev1"
check "the task reads the secret's plaintext from /run/secrets/pw" within 30 logs_have "$pw1"
# The task's lines reach `docker service logs` one by one: wait for all.
check "and the config's plaintext, and MODE from the encrypted .env" within 10 eval \
	'logs_have "$conf1" && logs_have "MODE=$mode1"'
out=$(docker config inspect --format '{{printf "%s" .Spec.Data}}' "$(docker service inspect --format '{{range .Spec.TaskTemplate.ContainerSpec.Configs}}{{.ConfigName}}{{end}}' vault_app)")
check "the config object holds exactly the plaintext" eval '[ "$out" = "$conf1" ]'
name1=$(secret_name)
hash1=$(docker secret inspect --format '{{index .Spec.Labels "com.stackd.spec-hash"}}' "$name1" 2>/dev/null)
# What the label would be for a plain file: sha256 of {"Data":"<base64>"}.
plainhash=$(printf '{"Data":"%s"}' "$(printf '%s' "$pw1" | base64 -w0)" | sha256sum | cut -c1-12)
out="$name1 $hash1 $plainhash"
check "the secret's hash label is keyed: not what the plaintext alone gives" eval \
	'[ -n "$hash1" ] && [ "$hash1" != "$plainhash" ]'

# The same plaintext encrypted again: other IVs, another data key.
before=$(state)
enc "$me" "$d/plain/pw.txt" "$d/work/vault/pw.txt"
enc "$me" "$d/plain/env" "$d/work/vault/.env"
push "vault: re-encrypted, same plaintext"
rev2=$(head_of)
out=
check "a re-encryption with the same plaintext is synced" within 30 synced_at vault "$rev2"
sleep 4
out="$before / $(state)"
check "and rotates nothing: the service and its secret are unchanged" eval '[ "$before" = "$(state)" ]'

printf '%s' "$pw2" >"$d/plain/pw.txt"
enc "$me" "$d/plain/pw.txt" "$d/work/vault/pw.txt"
push "vault: new password"
rev3=$(head_of)
check "a changed plaintext is synced" within 60 synced_at vault "$rev3"
out="$name1 -> $(secret_name)"
check "and rotates the secret: a new object, the task reads the new value" eval \
	'[ "$(secret_name)" != "$name1" ] && within 30 logs_have "$pw2"'
good=$(state)

# A wrong key: encrypted for another identity only.
enc "$other" "$d/plain/pw.txt" "$d/work/vault/pw.txt"
echo "# touched" >>"$d/work/plain/compose.yaml"
push "vault: for someone else"
rev4=$(head_of)
check "encrypted for another identity: vault fails, naming the recipient" within 30 \
	failed_with vault "no age identity matches"
out=$(stack vault)
check "the message lists the file's recipient and stackd's own" eval 'has "$other" && has "$me"'
check "the plain stack beside it is synced at that commit" within 30 synced_at plain "$rev4"
out="$good / $(state)"
check "vault's last good revision stays deployed" eval '[ "$good" = "$(state)" ]'

# A tampered file: one value's ciphertext changed.
enc "$me" "$d/plain/pw.txt" "$d/work/vault/pw.txt"
python3 - "$d/work/vault/.env" <<'EOF2'
import re, sys
p = sys.argv[1]
s = open(p).read()
s = re.sub(r"^(MODE=ENC\[AES256_GCM,data:)(.)", lambda m: m.group(1) + ("A" if m.group(2) != "A" else "B"), s, count=1, flags=re.M)
open(p, "w").write(s)
EOF2
push "vault: tampered"
check "a tampered value: vault fails, saying it does not decrypt" within 30 \
	failed_with vault "does not decrypt"
out="$good / $(state)"
check "and the last good revision still stays" eval '[ "$good" = "$(state)" ]'

# A key file that is not there.
enc "$me" "$d/plain/env" "$d/work/vault/.env"
push "vault: repaired"
rev6=$(head_of)
check "repaired: synced again" within 60 synced_at vault "$rev6"
stop
start "$d/missing-key.txt"
check "no key file: vault fails, naming the missing file" within 30 \
	failed_with vault "missing-key.txt"
check "plain still syncs, and vault's services are not pruned" eval \
	'within 30 synced_at plain "$rev6" && [ -n "$(state)" ]'
stop

# Nothing stackd wrote holds the plaintext or the identity.
start "$d/key.txt"
within 60 synced_at vault "$rev6"
curl -s "$url/api/v1/status" >"$d/status.json"
curl -s "$url/api/v1/stacks" >"$d/stacks.json"
curl -s "$url/metrics" >"$d/metrics.txt"
curl -s "$url/" >"$d/page.html"
stop
leaks=$(grep -rlF -e "$pw1" -e "$pw2" -e "$conf1" -e "$mode1" -e "$identity" \
    "$d/log" "$d/status.json" "$d/stacks.json" "$d/metrics.txt" "$d/page.html" "$d/state" 2>/dev/null)
out="leaks in: $leaks"
check "no plaintext or identity in the log, status, metrics, page or state dir" eval '[ -z "$leaks" ]'
echo "1..$n"
