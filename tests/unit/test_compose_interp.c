/*
 * Unit tests: interpolation, driven by tests/data/interpolation.tsv (copied
 * from the shared corpus: vectors from docker/cli and compose-go, each
 * docker-cli row checked with `docker stack config`).
 *
 * The default reading is the docker CLI's: rows marked "both" or
 * "docker-cli" must match it exactly, except the extensions below, where
 * the CLI refuses the value and stackd reads it as compose-spec (with a
 * warning).  Rows marked "both" or "compose-go" must match the compose-spec
 * reading.  Wherever the two readings differ, both modes say so.
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

/* Inputs the CLI refuses and stackd accepts as compose-spec reads them. */
static const char *const extensions[] = {
	"$}", "a $ string", "^REGEX$", "$", "pass$2y", "$1",	/* lone $ */
	"${FOO:+x}", "${FOO+x}",				/* :+ and + */
};
static int extended[sizeof(extensions) / sizeof(extensions[0])];

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
is_extension(const char *input)
{
	for (size_t i = 0; i < sizeof(extensions) / sizeof(extensions[0]); i++)
		if (strcmp(extensions[i], input) == 0) {
			extended[i]++;
			return true;
		}
	return false;
}

struct reading {
	int rc;
	char got[2048];
	const char *differs;
	bool cli_refused;
};

static void
read_as(struct reading *out, const char *input, struct env *env,
    enum compose_interp_mode mode)
{
	struct compose_interp_result r;
	struct err err;

	out->rc = compose_interpolate(&r, input, mode, env_lookup,
	    env, &err);
	if (out->rc < 0) {
		snprintf(out->got, sizeof(out->got), "ERROR: %s", err.msg);
		out->differs = NULL;
		return;
	}
	snprintf(out->got, sizeof(out->got), "%s", r.value);
	out->differs = r.differs;
	out->cli_refused = r.cli_refused;
	compose_interp_result_release(&r);
}

/* Is a reading the expected one ("ERROR:..." or a value)? */
static bool
matches(const struct reading *rd, const char *expected)
{
	if (rd->rc < 0) {
		if (strcmp(expected, "ERROR:invalid-template") == 0)
			return strstr(rd->got, "Invalid template") != NULL;
		if (strncmp(expected, "ERROR:required-missing:", 23) == 0)
			return strcmp(rd->got + 7, expected + 23) == 0;
		return false;
	}
	return strncmp(expected, "ERROR:", 6) != 0 &&
	    strcmp(rd->got, expected) == 0;
}

/* One row: 0 when every check holds. */
static int
check_row(int row, char **f)
{
	struct reading cli, spec;
	struct env env;
	bool want_cli = strcmp(f[3], "compose-go") != 0;
	bool want_spec = strcmp(f[3], "docker-cli") != 0;
	int bad = 0;

	env_parse(&env, f[1]);
	read_as(&cli, f[0], &env, COMPOSE_INTERP_CLI);
	read_as(&spec, f[0], &env, COMPOSE_INTERP_SPEC);
	if (want_cli && !matches(&cli, f[2]) && !(cli.rc == 0 &&
	    cli.cli_refused && is_extension(f[0]))) {
		print_error("row %d [%s] env=%s: docker CLI reading: want [%s], "
		    "got [%s]\n", row, f[0], f[1], f[2], cli.got);
		bad++;
	}
	if (want_spec && !matches(&spec, f[2])) {
		print_error("row %d [%s] env=%s: compose-spec reading: want "
		    "[%s], got [%s]\n", row, f[0], f[1], f[2], spec.got);
		bad++;
	}
	/* a value read two ways is warned about in both modes (where the
	 * CLI refuses it, both modes give the compose-spec value) */
	if ((cli.rc < 0) != (spec.rc < 0) || (cli.rc == 0 &&
	    strcmp(cli.got, spec.got) != 0) || cli.cli_refused ||
	    spec.cli_refused) {
		if ((cli.rc == 0 && cli.differs == NULL) ||
		    (spec.rc == 0 && spec.differs == NULL)) {
			print_error("row %d [%s]: readings differ ([%s] / [%s]) "
			    "without a warning\n", row, f[0], cli.got,
			    spec.got);
			bad++;
		}
	} else if (cli.differs != NULL || spec.differs != NULL) {
		print_error("row %d [%s]: a warning where both agree\n", row,
		    f[0]);
		bad++;
	}
	return bad;
}

static void
test_vectors(void **state)
{
	FILE *f = fopen(TSV, "r");
	char line[4096], *fields[8], *save;
	int rows = 0, bad = 0;

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
		bad += check_row(++rows, fields);
	}
	fclose(f);
	print_message("%d vectors\n", rows);
	assert_true(rows >= 101);
	assert_int_equal(bad, 0);
	for (size_t i = 0; i < sizeof(extensions) / sizeof(extensions[0]); i++)
		if (extended[i] == 0)
			fail_msg("extension [%s] matches no docker-cli row",
			    extensions[i]);
}

static const char *
interp(struct compose_interp_result *r, const char *in, struct env *env,
    enum compose_interp_mode mode)
{
	struct err err;

	assert_int_equal(compose_interpolate(r, in, mode, env_lookup, env,
	    &err), 0);
	return r->value;
}

static void
test_unset_names_reported_once(void **state)
{
	struct compose_interp_result r;
	struct env env;

	(void)state;
	env_parse(&env, "FOO=first");
	for (int m = COMPOSE_INTERP_CLI; m <= COMPOSE_INTERP_SPEC; m++) {
		assert_string_equal(interp(&r, "$A ${A} ${B:-x} $FOO ${C-}",
		    &env, m), "  x first ");
		assert_int_equal(r.nunset, 1);
		assert_string_equal(r.unset[0], "A");
		compose_interp_result_release(&r);
		/* an unused default reports nothing */
		interp(&r, "${FOO:-$NOPE}", &env, m);
		assert_int_equal(r.nunset, 0);
		compose_interp_result_release(&r);
	}
}

/* The readings issue #22 found on real files, both ways. */
static void
test_cli_odd_readings(void **state)
{
	struct compose_interp_result r;
	struct env env;

	(void)state;
	env_parse(&env, "FOO=first;U=set");
	/* a bcrypt hash as a default stays whole */
	assert_string_equal(interp(&r, "${PW:-$2y$05$abc}", &env,
	    COMPOSE_INTERP_CLI), "$2y$05$abc");
	assert_non_null(strstr(r.differs, "literally"));
	compose_interp_result_release(&r);
	assert_string_equal(interp(&r, "${PW:-$2y$05$abc}", &env,
	    COMPOSE_INTERP_SPEC), "$2y$05");
	assert_non_null(r.differs);
	compose_interp_result_release(&r);
	/* a stray } after a nested default, when the variable is set */
	assert_string_equal(interp(&r, "${FOO:-${B}}", &env,
	    COMPOSE_INTERP_CLI), "first}");
	compose_interp_result_release(&r);
	/* ${U:+x} inside a longer value: the CLI forgets its error */
	assert_string_equal(interp(&r, "${U:+x}${FOO}", &env,
	    COMPOSE_INTERP_CLI), "{U:+x}first");
	assert_false(r.cli_refused);
	assert_non_null(r.differs);
	compose_interp_result_release(&r);
	/* alone, the CLI refuses it and stackd reads it as compose-spec */
	assert_string_equal(interp(&r, "${U:+x}", &env, COMPOSE_INTERP_CLI),
	    "x");
	assert_true(r.cli_refused);
	compose_interp_result_release(&r);
	/* $$ leaves an error standing; anything else clears it */
	assert_string_equal(interp(&r, "${A:?no}$FOO", &env,
	    COMPOSE_INTERP_CLI), "first");
	compose_interp_result_release(&r);
	struct err err;
	assert_int_equal(compose_interpolate(&r, "${A:?no}$$", COMPOSE_INTERP_CLI,
	    env_lookup, &env, &err), ERR_INVALID);
	assert_string_equal(err.msg, "required variable A is missing a value: "
	    "no");
	/* unbraced: the modifier runs to the next } */
	assert_string_equal(interp(&r, "$FOO:-x}y", &env, COMPOSE_INTERP_CLI),
	    "first}y");
	compose_interp_result_release(&r);
	/* names are case-insensitive to the pattern, exact to the lookup */
	assert_string_equal(interp(&r, "${Foo-d}", &env, COMPOSE_INTERP_CLI),
	    "d");
	assert_null(r.differs);
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
	assert_int_equal(compose_interpolate(&r, deep, COMPOSE_INTERP_SPEC,
	    env_lookup, &env, &err), ERR_INVALID);
	assert_non_null(strstr(err.msg, "nested deeper"));
	/* the CLI does not nest: the same text is one default */
	assert_int_equal(compose_interpolate(&r, deep, COMPOSE_INTERP_CLI,
	    env_lookup, &env, &err), 0);
	compose_interp_result_release(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_unset_names_reported_once),
		cmocka_unit_test(test_cli_odd_readings),
		cmocka_unit_test(test_runaway_nesting_is_an_error),
	};
	return cmocka_run_group_tests_name("compose_interp", tests, NULL, NULL);
}
