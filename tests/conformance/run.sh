#!/usr/bin/env bash
# Conformance: `stackd apply` against `docker stack deploy` on a real
# engine (DOCKER_HOST): conversion and creation of every object.  Prints TAP, one line per case, with every
# differing field under a failing case.
#
#   tests/conformance/run.sh BUILD_DIR
#
# CONFORMANCE_RESOLVE=always deploys with the CLI's default
# (--resolve-image always --with-registry-auth) and stackd's, and first
# pushes each docker.io image a case names to CONFORMANCE_MIRROR
# (host:port), the engine's registry mirror (pinned.sh sets both up).
set -uo pipefail
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
stackd=$build/stackd
n=0
work=$(mktemp -d /tmp/stackd-conf.XXXXXX)
trap 'rm -rf "$work"' EXIT

# shellcheck source=tests/conformance/lib.sh
. "$here/lib.sh"

externals() { # create|remove list
	local x
	for x in $2; do
		case $1:$x in
		create:network:*) docker network create -d overlay --attachable "${x#network:}" >/dev/null ;;
		remove:network:*) docker network rm "${x#network:}" >/dev/null ;;
		create:secret:*) printf 'conformance\n' | docker secret create "${x#secret:}" - >/dev/null ;;
		remove:secret:*) docker secret rm "${x#secret:}" >/dev/null ;;
		esac
	done
}

cli_resolve=(--resolve-image never)
[ "${CONFORMANCE_RESOLVE:-never}" = never ] || cli_resolve=(--resolve-image "$CONFORMANCE_RESOLVE" --with-registry-auth)

# The docker.io images of the case in dir, pushed to the mirror under their
# repository path (the content is the harness's busybox).
mirror_images() { # dir env...
	local dir=$1 img; shift
	while read -r img; do
		[ -n "${mirrored[$img]:-}" ] && continue
		mirrored[$img]=1
		docker tag "$STACKD_TEST_IMAGE" "$CONFORMANCE_MIRROR/$img" >/dev/null 2>&1 &&
			docker push "$CONFORMANCE_MIRROR/$img" >/dev/null 2>&1
		docker rmi "$CONFORMANCE_MIRROR/$img" >/dev/null 2>&1
	done < <( (cd "$dir" && env "$@" docker stack config -c stack.yml 2>/dev/null) | python3 "$here/mirror_paths.py")
}
declare -A mirrored

# One case: prepare the directory, deploy with the CLI, snapshot, remove,
# deploy with stackd, snapshot, remove, compare.
run_case() { # file expect vars files externals
	local file=$1 expect=$2 vars=$3 files=$4 exts=$5
	local dir=$work/c$n/s a=cfa$n b=cfb$n envs=() varargs=() out f rca rcb
	mkdir -p "$dir"
	cp "$here/$file" "$dir/stack.yml"
	[ "$files" = - ] || for f in $files; do
		case $f in
		*/) mkdir -p "$dir/$f" ;;
		*)
			mkdir -p "$(dirname "$dir/$f")"
			# a file shipped beside the case, else a stand-in
			if [ -f "$(dirname "$here/$file")/$f" ]; then
				cp "$(dirname "$here/$file")/$f" "$dir/$f"
			else
				printf 'CONFORMANCE=1\n' >"$dir/$f"
			fi ;;
		esac
	done
	if [ "$vars" != - ]; then
		IFS=';' read -ra envs <<<"${vars//\$\$/\$}"
		for f in "${envs[@]}"; do varargs+=(--var "$f"); done
	fi

	[ -z "${CONFORMANCE_MIRROR:-}" ] || mirror_images "$dir" "${envs[@]}"
	out=$( (cd "$dir" && env "${envs[@]}" docker stack deploy "${cli_resolve[@]}" -c stack.yml "$a") 2>&1 ); rca=$?
	[ $rca = 0 ] && python3 "$here/compare.py" snapshot "$a" "$work/$a.json"
	remove "$a"
	out+=$'\n'$( (cd "$dir" && "$stackd" apply -f stack.yml -s "$b" --root "$work/c$n" "${varargs[@]}") 2>&1 ); rcb=$?
	[ $rcb = 0 ] && python3 "$here/compare.py" snapshot "$b" "$work/$b.json"
	remove "$b"

	n=$((n + 1))
	local name="$file ($expect)"
	if [ "$expect" = reject ]; then
		if [ $rca != 0 ] && [ $rcb != 0 ]; then
			echo "ok $n - $name: both refuse it"
			printf '%s\n' "$out" | sed 's/^/#   /'
		else
			echo "not ok $n - $name: docker stack deploy exit $rca, stackd exit $rcb"
			printf '%s\n' "$out" | sed 's/^/#   /'
		fi
		return
	fi
	if [ $rca != 0 ] || [ $rcb != 0 ]; then
		echo "not ok $n - $name: docker stack deploy exit $rca, stackd exit $rcb"
		printf '%s\n' "$out" | sed 's/^/#   /'
		return
	fi
	local pins=
	[ "${CONFORMANCE_RESOLVE:-never}" = never ] ||
		pins=", $(grep -o '@sha256:' "$work/$a.json" | wc -l) images pinned by the CLI, $(grep -o '@sha256:' "$work/$b.json" | wc -l) by stackd"
	if out=$(python3 "$here/compare.py" diff "$work/$a.json" "$work/$b.json"); then
		echo "ok $n - $name: $(tail -1 <<<"$out")$pins"
	else
		echo "not ok $n - $name"
		printf '%s\n' "$out" | sed 's/^/#   /'
	fi
}

# External objects some files need exist for the whole run: removing an
# overlay network right after a stack left it races with the engine.
all_externals=$(awk -F'\t' '!/^#/ && $5 != "-" && $5 != "" {print $5}' "$here/cases.tsv" | tr ' ' '\n' | sort -u)
externals create "$all_externals"
trap 'externals remove "$all_externals"; rm -rf "$work"' EXIT

while IFS=$'\t' read -r file expect vars files exts; do
	case $file in ''|'#'*) continue ;; esac
	run_case "$file" "$expect" "$vars" "$files" "$exts"
done <"$here/cases.tsv"
echo "1..$n"
