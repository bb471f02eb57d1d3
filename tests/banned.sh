#!/usr/bin/env bash
# The calls stackd's C does not use, with what to use instead: each is
# unbounded, not thread-safe or silent about bad input.  Prints every use
# in production code and exits 1 when there is one (make check runs it).
set -uo pipefail
cd "$(dirname "$0")/.."
banned='strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|atoll|strtok|asctime|ctime|gmtime|localtime|tmpnam|mktemp'
# snprintf, vsnprintf and the *_r forms are the safe ones.
hits=$(grep -nE "(^|[^_a-zA-Z0-9])($banned)[[:space:]]*\(" \
	util/*.c sources/*.c compose/*.c images/*.c reconciler/*.c engine/*.c \
	health/*.c sops/*.c \
	controller/*.c daemon/*.c status/*.c include/*.h 2>/dev/null |
	grep -vE '/\*|^\S+:[0-9]+:\s*\*')
if [ -n "$hits" ]; then
	printf '%s\n' "$hits"
	echo "banned.sh: use snprintf/strtol/strtok_r/gmtime_r/mkstemp instead (docs/HACKING.md)" >&2
	exit 1
fi
echo "banned.sh: no banned call in production code"
