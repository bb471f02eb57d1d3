/*
 * Unit tests: interpolation, driven by tests/data/interpolation.tsv (copied
 * from the shared corpus: vectors from docker/cli and compose-go, each
 * docker-cli row checked with `docker stack config`).
 *
 * stackd follows the compose-spec.  Rows marked "both" or "compose-go" must
 * match exactly.  Rows marked "docker-cli" must match too, unless their
 * input is in the divergences table below, which is the tested form of
 * docs/interpolation.md: a change in behaviour fails here either way.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "compose.h"

#define TSV SRCDIR "/tests/data/interpolation.tsv"

/* Inputs where stackd (compose-spec) knowingly differs from docker/cli. */
static const char *const divergences[] = {
	"$}",			/* literal, not an error */
	"a $ string", "^REGEX$", "$",	/* a lone $ stays literal */
	"$FOO-bar", "$UNSET-bar", "$FOO-bar and more",	/* $NAME ends at '-' */
	"${A:-${B}}", "${UNSET_VAR-${FOO}}",	/* defaults nest */
	"${FOO:+x}", "${FOO+x}",	/* :+ and + exist */
	"${UNSET?must-set}", "${FOO?bar-baz}", "${UNSET_VAR?bar-baz}",
					/* the first operator wins */
	"${UNSET:?x} ${FOO}",		/* every required variable is checked */
	"${KIBANA_PASSWORD:-$2y$05$abc}",	/* $abc in a default expands */
	"pass$2y", "$1",		/* $digit stays literal */
};
static int diverged[sizeof(divergences) / sizeof(divergences[0])];

struct env {
	char names[8][32];
	char values[8][64];
	int n;
};

static const char *
env_lookup(const char *name, void *payload)
{
	struct env *e = payload;

	for (int i = 0; i < e->n; i++)
		if (strcmp(e->names[i], name) == 0)
			return e->values[i];
	return NULL;
}

/* "FOO=first;BAR=" */
static void
env_parse(struct env *e, const char *spec)
{
	char copy[512], *save = NULL, *kv, *eq;

	e->n = 0;
	snprintf(copy, sizeof(copy), "%s", spec);
	for (kv = strtok_r(copy, ";", &save); kv && e->n < 8;
	    kv = strtok_r(NULL, ";", &save)) {
		if ((eq = strchr(kv, '=')) == NULL)
			continue;
		*eq = '\0';
		snprintf(e->names[e->n], sizeof(e->names[0]), "%s", kv);
		snprintf(e->values[e->n], sizeof(e->values[0]), "%s", eq + 1);
		e->n++;
	}
}

/* Undo the TSV's CSV-style quoting: "a ""b""" -> a "b". */
static void
unquote(char *f)
{
	size_t len = strlen(f), j = 0;

	if (len < 2 || f[0] != '"' || f[len - 1] != '"')
		return;
	for (size_t i = 1; i < len - 1; i++) {
		f[j++] = f[i];
		if (f[i] == '"' && f[i + 1] == '"')
			i++;
	}
	f[j] = '\0';
}

static bool
diverges(const char *input)
{
	for (size_t i = 0; i < sizeof(divergences) / sizeof(divergences[0]); i++)
		if (strcmp(divergences[i], input) == 0) {
			diverged[i]++;
			return true;
		}
	return false;
}

/* Does our answer for input match expected ("ERROR:..." or a value)? */
static bool
matches(const char *input, const char *envspec, const char *expected,
    char *got, size_t gotlen)
{
	struct compose_interp_result r;
	struct env env;
	struct err err;
	int rc;

	env_parse(&env, envspec);
	rc = compose_interpolate(&r, input, env_lookup, &env, &err);
	if (rc < 0) {
		snprintf(got, gotlen, "ERROR: %s", err.msg);
		if (strcmp(expected, "ERROR:invalid-template") == 0)
			return strstr(err.msg, "Invalid template") != NULL;
		if (strncmp(expected, "ERROR:required-missing:", 23) == 0)
			return strcmp(err.msg, expected + 23) == 0;
		return false;
	}
	snprintf(got, gotlen, "%s", r.value);
	rc = strcmp(r.value, expected) == 0;
	compose_interp_result_release(&r);
	return rc;
}

static void
test_vectors(void **state)
{
	FILE *f = fopen(TSV, "r");
	char line[4096], got[2048], *fields[8], *save;
	int rows = 0, agree_cli = 0, bad = 0, div = 0;

	(void)state;
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));	/* header */
	while (fgets(line, sizeof(line), f) != NULL) {
		int n = 0;

		line[strcspn(line, "\n")] = '\0';
		save = line;
		for (char *t; n < 8 && (t = strsep(&save, "\t")) != NULL;)
			fields[n++] = t;
		assert_true(n >= 4);
		for (int i = 0; i < 4; i++)
			unquote(fields[i]);
		rows++;
		bool ok = matches(fields[0], fields[1], fields[2], got,
		    sizeof(got));
		if (strcmp(fields[3], "docker-cli") == 0) {
			if (ok) {
				agree_cli++;
				/* a divergence that no longer diverges */
				if (diverges(fields[0])) {
					print_error("row %d [%s]: listed as a "
					    "divergence but agrees\n", rows,
					    fields[0]);
					bad++;
				}
				continue;
			}
			if (diverges(fields[0])) {
				div++;
				continue;
			}
		} else if (ok)
			continue;
		print_error("row %d [%s] env=%s impl=%s: want [%s], got [%s]\n",
		    rows, fields[0], fields[1], fields[3], fields[2], got);
		bad++;
	}
	fclose(f);
	print_message("%d vectors, %d docker-cli rows agree, %d documented "
	    "divergences\n", rows, agree_cli, div);
	assert_int_equal(rows, 101);
	assert_int_equal(bad, 0);
	/* every listed divergence is one the vectors show */
	for (size_t i = 0; i < sizeof(divergences) / sizeof(divergences[0]); i++)
		if (diverged[i] == 0)
			fail_msg("divergence [%s] matches no docker-cli row",
			    divergences[i]);
}

static void
test_unset_names_reported_once(void **state)
{
	struct compose_interp_result r;
	struct env env;
	struct err err;

	(void)state;
	env_parse(&env, "FOO=first");
	assert_int_equal(compose_interpolate(&r, "$A ${A} ${B:-x} $FOO ${C-}",
	    env_lookup, &env, &err), 0);
	assert_string_equal(r.value, "  x first ");
	assert_int_equal(r.nunset, 1);
	assert_string_equal(r.unset[0], "A");
	compose_interp_result_release(&r);
	/* lazily: an unused default reports nothing */
	assert_int_equal(compose_interpolate(&r, "${FOO:-$NOPE}", env_lookup,
	    &env, &err), 0);
	assert_int_equal(r.nunset, 0);
	compose_interp_result_release(&r);
}

static void
test_runaway_nesting_is_an_error(void **state)
{
	char deep[512] = "";
	struct compose_interp_result r;
	struct env env = { .n = 0 };
	struct err err;

	(void)state;
	for (int i = 0; i < 30; i++)
		strcat(deep, "${A:-");
	strcat(deep, "x");
	for (int i = 0; i < 30; i++)
		strcat(deep, "}");
	assert_int_equal(compose_interpolate(&r, deep, env_lookup, &env, &err),
	    ERR_INVALID);
	assert_non_null(strstr(err.msg, "nested deeper"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_unset_names_reported_once),
		cmocka_unit_test(test_runaway_nesting_is_an_error),
	};
	return cmocka_run_group_tests_name("compose_interp", tests, NULL, NULL);
}
