/*
 * Unit tests: compose conversion details that the conformance suite does
 * not reach (errors, limits, containment, variables), on files written to
 * a temporary source directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "compose.h"
#include "compose_int.h"

static char root[64];
static char src[128];	/* root/src: the source root */

static void
put(const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", src, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/stackd-conv.XXXXXX");
	if (mkdtemp(root) == NULL)
		return -1;
	snprintf(src, sizeof(src), "%s/src", root);
	unsetenv("STACKD_TEST_LEAK");
	return mkdir(src, 0755);
}

static int
teardown(void **state)
{
	char cmd[256];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

/* Load stack.yml (plus vars) from src; returns rc, fills *out or err. */
static int
load(struct compose_stack **out, struct err *err, const char *const *vars,
    size_t nvars, bool strict)
{
	char file[256];
	const char *files[] = { file };
	struct compose_options o = { .stack = "t", .files = files,
	    .nfiles = 1, .vars = vars, .nvars = nvars, .strict_vars = strict };

	snprintf(file, sizeof(file), "%s/stack.yml", src);
	return compose_stack_load(out, &o, err);
}

static const cJSON *
at(const cJSON *j, const char *path)
{
	char copy[256], *save = NULL;

	snprintf(copy, sizeof(copy), "%s", path);
	for (char *t = strtok_r(copy, ".", &save); t && j;
	    t = strtok_r(NULL, ".", &save))
		j = isdigit((unsigned char)*t) ? cJSON_GetArrayItem(j, atoi(t)) :
		    cJSON_GetObjectItemCaseSensitive(j, t);
	return j;
}

static double
num(const cJSON *j, const char *path)
{
	const cJSON *v = at(j, path);

	if (!cJSON_IsNumber(v))
		fail_msg("%s is not a number", path);
	return v->valuedouble;
}

static void
expect_error(const char *yaml, const char *want)
{
	struct compose_stack *s = NULL;
	struct err err;

	put("stack.yml", yaml);
	assert_int_equal(load(&s, &err, NULL, 0, false), ERR_INVALID);
	assert_null(s);
	if (strstr(err.msg, want) == NULL)
		fail_msg("expected \"%s\" in: %s", want, err.msg);
}

static void
test_units(void **state)
{
	struct compose_stack *s = NULL;
	struct err err;
	const cJSON *svc;

	(void)state;
	put("stack.yml", "services:\n  a:\n    image: x\n"
	    "    stop_grace_period: 1h2m3.5s\n"
	    "    healthcheck: {interval: 500ms, timeout: 1.5s}\n"
	    "    deploy:\n      resources:\n"
	    "        limits: {cpus: '.5', memory: 1.5G}\n"
	    "        reservations: {cpus: 2, memory: 512k}\n");
	if (load(&s, &err, NULL, 0, false) < 0)
		fail_msg("%s", err.msg);
	svc = cJSON_GetArrayItem(s->services, 0);
	assert_true(num(svc, "TaskTemplate.ContainerSpec.StopGracePeriod") ==
	    3723500000000.0);
	assert_true(num(svc, "TaskTemplate.ContainerSpec.Healthcheck.Interval")
	    == 500000000.0);
	assert_true(num(svc, "TaskTemplate.ContainerSpec.Healthcheck.Timeout")
	    == 1500000000.0);
	assert_true(num(svc, "TaskTemplate.Resources.Limits.NanoCPUs") ==
	    500000000.0);
	assert_true(num(svc, "TaskTemplate.Resources.Limits.MemoryBytes") ==
	    1610612736.0);
	assert_true(num(svc, "TaskTemplate.Resources.Reservations.NanoCPUs") ==
	    2000000000.0);
	assert_true(num(svc, "TaskTemplate.Resources.Reservations.MemoryBytes")
	    == 524288.0);
	assert_string_equal(at(svc, "TaskTemplate.ContainerSpec.Image")->
	    valuestring, "x:latest");
	compose_stack_free(s);
	compose_stack_free(NULL);
}

static void
test_errors_name_path_and_position(void **state)
{
	(void)state;
	expect_error("services:\n  web:\n    image: x\n    deploy:\n"
	    "      replicas: three\n", "services.web.deploy.replicas: expected "
	    "an integer, got \"three\" (");
	expect_error("services:\n  web:\n    image: x\n    deploy:\n"
	    "      replicas: \"3\"\n", "stack.yml:5:17)");
	expect_error("services:\n  web:\n    image: x\n    stop_grace_period: "
	    "1d\n", "services.web.stop_grace_period: expected a duration");
	expect_error("services:\n  web:\n    image: x\n    deploy: {resources: "
	    "{limits: {cpus: '0.0000000001'}}}\n", "too precise");
	expect_error("services:\n  web:\n    build: .\n", "services.web: no "
	    "image");
	expect_error("services:\n  web:\n    image: x\n    ports: [\"70000\"]\n",
	    "invalid port");
	expect_error("services:\n  web:\n    image: x\n    secrets: [nope]\n",
	    "undefined secret \"nope\"");
	expect_error("services:\n  web:\n    image: x\nvolumes:\n  v: {}\n"
	    "extra: 1\n", "unknown key \"extra\"");
}

static void
test_interpolated_values_are_cast(void **state)
{
	const char *vars[] = { "N=3" };
	struct compose_stack *s = NULL;
	struct err err;

	(void)state;
	put("stack.yml", "services:\n  a:\n    image: x\n"
	    "    deploy: {replicas: \"${N}\"}\n");
	if (load(&s, &err, vars, 1, false) < 0)
		fail_msg("%s", err.msg);
	assert_true(num(cJSON_GetArrayItem(s->services, 0),
	    "Mode.Replicated.Replicas") == 3.0);
	compose_stack_free(s);
}

static void
test_file_paths_stay_in_the_source(void **state)
{
	char outside[256], link[256];
	struct compose_stack *s = NULL;
	struct err err;

	(void)state;
	snprintf(outside, sizeof(outside), "%s/outside.txt", root);
	FILE *f = fopen(outside, "w");
	assert_non_null(f);
	fputs("secret", f);
	fclose(f);
	expect_error("services:\n  a: {image: x}\nsecrets:\n  s:\n"
	    "    file: ../outside.txt\n", "outside the source root");
	expect_error("services:\n  a: {image: x}\nconfigs:\n  c:\n"
	    "    file: /etc/hostname\n", "outside the source root");
	snprintf(link, sizeof(link), "%s/link.txt", src);
	assert_int_equal(symlink(outside, link), 0);
	expect_error("services:\n  a: {image: x}\nsecrets:\n  s:\n"
	    "    file: ./link.txt\n", "outside the source root");
	expect_error("services:\n  a: {image: x}\nsecrets:\n  s:\n"
	    "    file: ./missing.txt\n", "cannot read ./missing.txt");
	put("inside.txt", "hello");
	put("stack.yml", "services:\n  a: {image: x}\nsecrets:\n  s:\n"
	    "    file: sub/../inside.txt\n");
	mkdir(strcat(strcpy(link, src), "/sub"), 0755);
	if (load(&s, &err, NULL, 0, false) < 0)
		fail_msg("%s", err.msg);
	assert_string_equal(at(s->secrets, "0.Data")->valuestring, "aGVsbG8=");
	assert_string_equal(at(s->secrets, "0.Name")->valuestring, "t_s");
	compose_stack_free(s);
}

static void
test_secret_limits(void **state)
{
	char *big = malloc(512001);

	(void)state;
	assert_non_null(big);
	memset(big, 'a', 512000);
	big[512000] = '\0';
	put("big.txt", big);
	free(big);
	put("empty.txt", "");
	expect_error("services:\n  a: {image: x}\nsecrets:\n  s:\n"
	    "    file: big.txt\n", "larger than the engine allows");
	expect_error("services:\n  a: {image: x}\nsecrets:\n  s:\n"
	    "    file: empty.txt\n", "is empty");
}

static void
test_warnings_and_strict_variables(void **state)
{
	struct compose_stack *s = NULL;
	struct err err;
	bool build = false, unset = false;

	(void)state;
	put("stack.yml", "services:\n  a:\n    image: x${TAG}\n    build: .\n"
	    "    environment:\n      - A=$ALPHA\n      - B=${BETA}\n");
	if (load(&s, &err, NULL, 0, false) < 0)
		fail_msg("%s", err.msg);
	for (size_t i = 0; i < s->nwarnings; i++) {
		build |= strstr(s->warnings[i], "services.a: ignoring "
		    "unsupported option build") != NULL;
		unset |= strcmp(s->warnings[i], "The \"TAG\" variable is not "
		    "set. Defaulting to a blank string.") == 0;
	}
	assert_true(build && unset);
	compose_stack_free(s);
	s = NULL;
	assert_int_equal(load(&s, &err, NULL, 0, true), ERR_INVALID);
	assert_non_null(strstr(err.msg, "variables not set (strict variables):"
	    " TAG, ALPHA, BETA"));
}

static void
test_variable_sources_and_precedence(void **state)
{
	char vars[256], file[256];
	const char *files[] = { file }, *varfiles[] = { vars };
	const char *cli[] = { "FROM_CLI=cli" };
	struct compose_options o = { .stack = "t", .files = files, .nfiles = 1,
	    .var_files = varfiles, .nvar_files = 1, .vars = cli, .nvars = 1 };
	struct compose_stack *s = NULL;
	struct err err;
	const cJSON *env;
	int rc;

	(void)state;
	snprintf(file, sizeof(file), "%s/stack.yml", src);
	snprintf(vars, sizeof(vars), "%s/vars.yaml", src);
	put(".env", "# defaults\nexport FROM_ENV=dotenv\nFROM_VARS=dotenv\n"
	    "FROM_CLI=dotenv\nQUOTED=\"a \\\"b\\\" ${FROM_ENV}\"\n"
	    "SINGLE='lit ${FROM_ENV}'\nHASH=x#y # comment\n"
	    "MULTI=\"l1\nl2\"\n");
	put("vars.yaml", "FROM_VARS: vars\nFROM_CLI: vars\n");
	put("stack.yml", "services:\n  a:\n    image: x\n    environment:\n"
	    "      - E=${FROM_ENV}\n      - V=${FROM_VARS}\n"
	    "      - C=${FROM_CLI}\n      - Q=${QUOTED}\n      - S=${SINGLE}\n"
	    "      - H=${HASH}\n      - M=${MULTI}\n      - P=${PATH:-nopath}\n");
	if (compose_stack_load(&s, &o, &err) < 0)
		fail_msg("%s", err.msg);
	env = at(cJSON_GetArrayItem(s->services, 0),
	    "TaskTemplate.ContainerSpec.Env");
	assert_string_equal(cJSON_GetArrayItem(env, 0)->valuestring, "C=cli");
	assert_string_equal(cJSON_GetArrayItem(env, 1)->valuestring,
	    "E=dotenv");
	assert_string_equal(cJSON_GetArrayItem(env, 2)->valuestring, "H=x#y");
	assert_string_equal(cJSON_GetArrayItem(env, 3)->valuestring,
	    "M=l1\nl2");
	/* the process environment stays out unless inherited */
	assert_string_equal(cJSON_GetArrayItem(env, 4)->valuestring,
	    "P=nopath");
	assert_string_equal(cJSON_GetArrayItem(env, 5)->valuestring,
	    "Q=a \"b\" dotenv");
	assert_string_equal(cJSON_GetArrayItem(env, 6)->valuestring,
	    "S=lit ${FROM_ENV}");
	assert_string_equal(cJSON_GetArrayItem(env, 7)->valuestring, "V=vars");
	compose_stack_free(s);
	s = NULL;
	o.env_inherit = true;
	if (compose_stack_load(&s, &o, &err) < 0)
		fail_msg("%s", err.msg);
	env = at(cJSON_GetArrayItem(s->services, 0),
	    "TaskTemplate.ContainerSpec.Env");
	assert_string_not_equal(cJSON_GetArrayItem(env, 4)->valuestring,
	    "P=nopath");
	compose_stack_free(s);
	put(".env", "OK=1\nBROKEN=\"no end\n");
	s = NULL;
	rc = compose_stack_load(&s, &o, &err);
	unlink(strcat(strcpy(file, src), "/.env"));
	assert_int_equal(rc, ERR_INVALID);
	assert_non_null(strstr(err.msg, ".env:2: unterminated quoted value"));
}

/* Bare environment keys take the stack's variables, as the CLI's take its
 * environment; unset ones stay bare (list, map) or out (env_file). */
/* Each file version allows what its schema allows, as the CLI checks. */
static void
test_file_versions(void **state)
{
	struct compose_stack *s = NULL;
	struct err err;

	(void)state;
	expect_error("version: 3.8\nservices:\n  a:\n    image: x\n",
	    "version: must be a string");
	expect_error("version: \"3.3\"\nservices:\n  a:\n    image: x\n"
	    "    deploy:\n      placement: {max_replicas_per_node: 1}\n",
	    "services.a.deploy.placement.max_replicas_per_node: needs compose "
	    "file version 3.8 or later (the file says 3.3;");
	expect_error("version: \"3.12\"\nservices:\n  a:\n    image: x\n"
	    "    oom_score_adj: 5\n", "services.a.oom_score_adj: needs compose "
	    "file version 3.13");
	expect_error("version: \"3.0\"\nservices:\n  a:\n    image: x\n"
	    "    secrets: [s]\nsecrets:\n  s: {file: ./s}\n", "needs compose "
	    "file version 3.1");
	expect_error("version: \"3.14\"\nservices:\n  a:\n    image: x\n",
	    "unsupported compose file version \"3.14\"");
	/* none is the latest: oom_score_adj is accepted, and not sent (the
	 * CLI's loader never reads it) */
	put("stack.yml", "services:\n  a:\n    image: x\n    oom_score_adj: 5\n");
	if (load(&s, &err, NULL, 0, false) < 0)
		fail_msg("%s", err.msg);
	assert_null(at(cJSON_GetArrayItem(s->services, 0),
	    "TaskTemplate.ContainerSpec.OomScoreAdj"));
	assert_non_null(strstr(s->warnings[0], "ignoring oom_score_adj"));
	compose_stack_free(s);
}

static void
test_bare_environment_keys(void **state)
{
	const char *vars[] = { "VAULT_ADDR=https://v:8200", "EMPTY=", "K=k",
	    "F=from-vars" };
	const char *want[] = { "A=1", "EMPTY=", "F=from-vars", "K=k", "NOPE",
	    "VAULT_ADDR=https://v:8200", "Z=" };
	struct compose_stack *s = NULL;
	const cJSON *env;
	struct err err;

	(void)state;
	setenv("NOPE", "process", 1);	/* only with --env-inherit */
	put("app.env", "A=1\nF\nGONE\nZ=\n");
	put("stack.yml", "services:\n  a:\n    image: x\n    env_file: app.env\n"
	    "    environment:\n      - VAULT_ADDR\n      - EMPTY\n      - NOPE\n"
	    "      - K=\n");
	if (load(&s, &err, vars, 4, false) < 0)
		fail_msg("%s", err.msg);
	env = at(cJSON_GetArrayItem(s->services, 0),
	    "TaskTemplate.ContainerSpec.Env");
	assert_int_equal(cJSON_GetArraySize(env), 7);
	for (int i = 0; i < 7; i++)
		assert_string_equal(cJSON_GetArrayItem(env, i)->valuestring,
		    want[i]);
	compose_stack_free(s);
	s = NULL;
	put("stack.yml", "services:\n  a:\n    image: x\n    environment:\n"
	    "      K:\n      N_MAP:\n      VAULT_ADDR: \"\"\n");
	if (load(&s, &err, vars, 4, false) < 0)
		fail_msg("%s", err.msg);
	env = at(cJSON_GetArrayItem(s->services, 0),
	    "TaskTemplate.ContainerSpec.Env");
	assert_int_equal(cJSON_GetArraySize(env), 3);
	assert_string_equal(cJSON_GetArrayItem(env, 0)->valuestring, "K=k");
	assert_string_equal(cJSON_GetArrayItem(env, 1)->valuestring, "N_MAP");
	assert_string_equal(cJSON_GetArrayItem(env, 2)->valuestring,
	    "VAULT_ADDR=https://v:8200");
	compose_stack_free(s);
	unsetenv("NOPE");
}

static void
test_files_merge_in_order(void **state)
{
	char a[256], b[256];
	const char *files[] = { a, b };
	struct compose_options o = { .stack = "t", .files = files,
	    .nfiles = 2 };
	struct compose_stack *s = NULL;
	struct err err;
	const cJSON *svc;

	(void)state;
	snprintf(a, sizeof(a), "%s/a.yml", src);
	snprintf(b, sizeof(b), "%s/b.yml", src);
	put("a.yml", "services:\n  web:\n    image: x:1\n"
	    "    deploy: {replicas: 2, labels: {a: '1'}}\n");
	put("b.yml", "services:\n  web:\n    image: x:2\n"
	    "    deploy: {labels: {b: '2'}}\n");
	if (compose_stack_load(&s, &o, &err) < 0)
		fail_msg("%s", err.msg);
	svc = cJSON_GetArrayItem(s->services, 0);
	assert_string_equal(at(svc, "TaskTemplate.ContainerSpec.Image")->
	    valuestring, "x:2");
	assert_true(num(svc, "Mode.Replicated.Replicas") == 2.0);
	/* maps merge key by key, as the CLI's merge does */
	assert_string_equal(at(svc, "Labels.a")->valuestring, "1");
	assert_string_equal(at(svc, "Labels.b")->valuestring, "2");
	compose_stack_free(s);
	s = NULL;
	/* the CLI's typed merge (each checked with docker stack config):
	 * ports keyed by published port, lists appended, a zero value no
	 * override, each file's environment resolved before the merge */
	put("a.yml", "services:\n  web:\n    image: x:1\n    read_only: true\n"
	    "    ports: [\"8080:80\", \"3000\"]\n    dns: [1.1.1.1]\n"
	    "    env_file: a.env\n    environment: [K]\n");
	put("a.env", "A=from-file\nB=two words\n");
	put("b.yml", "services:\n  web:\n    read_only: false\n"
	    "    ports: [\"8080:81\", \"3001\"]\n    dns: [9.9.9.9]\n"
	    "    environment: {B: \"\", C: x}\n");
	const char *vars[] = { "K=k" };
	o.vars = vars;
	o.nvars = 1;
	if (compose_stack_load(&s, &o, &err) < 0)
		fail_msg("%s", err.msg);
	svc = cJSON_GetArrayItem(s->services, 0);
	assert_true(cJSON_IsTrue(at(svc, "TaskTemplate.ContainerSpec.ReadOnly")));
	assert_int_equal(cJSON_GetArraySize(at(svc, "EndpointSpec.Ports")), 2);
	assert_true(num(svc, "EndpointSpec.Ports.0.TargetPort") == 3001);
	assert_true(num(svc, "EndpointSpec.Ports.1.TargetPort") == 81);
	assert_int_equal(cJSON_GetArraySize(at(svc,
	    "TaskTemplate.ContainerSpec.DNSConfig.Nameservers")), 2);
	const cJSON *env = at(svc, "TaskTemplate.ContainerSpec.Env");
	assert_int_equal(cJSON_GetArraySize(env), 4);
	assert_string_equal(cJSON_GetArrayItem(env, 0)->valuestring,
	    "A=from-file");
	assert_string_equal(cJSON_GetArrayItem(env, 1)->valuestring,
	    "B=two words");
	assert_string_equal(cJSON_GetArrayItem(env, 2)->valuestring, "C=x");
	assert_string_equal(cJSON_GetArrayItem(env, 3)->valuestring, "K=k");
	compose_stack_free(s);
}

static void
test_shlex(void **state)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "sleep 3600", "[\"sleep\",\"3600\"]" },
		{ "sh -c 'echo \"$HOME\"'", "[\"sh\",\"-c\",\"echo \\\"$HOME\\\"\"]" },
		{ "a\\ b \"c\\\"d\" e#f # comment", "[\"a b\",\"c\\\"d\",\"e#f\"]" },
		{ "  ", "[]" },
		{ "x\n\ty", "[\"x\",\"y\"]" },
	};
	cJSON *a;
	char *s;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(compose_shlex(cases[i].in, &a), 0);
		s = cJSON_PrintUnformatted(a);
		assert_string_equal(s, cases[i].out);
		free(s);
		cJSON_Delete(a);
	}
	assert_int_equal(compose_shlex("echo 'unclosed", &a), ERR_INVALID);
}

static void
test_stack_names(void **state)
{
	struct err err;

	(void)state;
	assert_int_equal(compose_stack_name_check("web-1.prod_x", &err), 0);
	assert_int_equal(compose_stack_name_check("", &err), ERR_INVALID);
	assert_int_equal(compose_stack_name_check("-web", &err), ERR_INVALID);
	assert_int_equal(compose_stack_name_check("web/x", &err), ERR_INVALID);
	assert_int_equal(compose_stack_name_check(
	    "a23456789012345678901234567890123456789012345678901", &err),
	    ERR_INVALID);
}

/* Found by fuzz_compose: restart: given a list reached strcmp(NULL).  A
 * map or list where a string belongs is an error with its position. */
static void
test_lists_where_strings_belong(void **state)
{
	(void)state;
	expect_error("services:\n  s:\n    image: x\n    restart: [a]\n",
	    "services.s.restart: must be a string (");
	put("pw.txt", "x");
	expect_error("services:\n  s:\n    image: x\n    secrets: [p]\n"
	    "secrets:\n  p: {file: [a]}\n", "secrets.p.file: must be a path");
	expect_error("services:\n  s:\n    image: x\n    secrets: [p]\n"
	    "secrets:\n  p: {file: ./pw.txt, name: {a: b}}\n",
	    "secrets.p.name: must be a string");
}

/* Swarm's name rules, checked before anything reaches the engine. */
static void
test_swarm_names(void **state)
{
	(void)state;
	expect_error("services:\n  w234567890123456789012345678901234567890"
	    "1234567890123456789012:\n    image: x\n",
	    "the service name \"t_w2345678901234567890123456789012345678901"
	    "234567890123456789012\" is 64 characters; swarm allows at most "
	    "63 (");
	expect_error("services:\n  a.b:\n    image: x\n",
	    "services.a.b: the service name \"t_a.b\" is not allowed by "
	    "swarm");
	expect_error("services:\n  web:\n    image: x\n    networks: [n]\n"
	    "networks:\n  n: {name: my.net}\n", "networks.n: the network "
	    "name \"my.net\" is not allowed");
	put("pw.txt", "x");
	expect_error("services:\n  web:\n    image: x\n    secrets: [pw]\n"
	    "secrets:\n  pw: {file: ./pw.txt, name: \"-pw\"}\n",
	    "secrets.pw: the secret name \"-pw\" is not allowed");
	/* 63 and 64 are fine; '.' is fine in a secret's name */
	put("stack.yml", "services:\n  w23456789012345678901234567890123456789"
	    "0123456789012345678901:\n    image: x\n    secrets: [pw]\n"
	    "secrets:\n  pw: {file: ./pw.txt, name: a.b}\n");
	{
		struct compose_stack *s = NULL;
		struct err err;
		assert_int_equal(load(&s, &err, NULL, 0, false), 0);
		compose_stack_free(s);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_errors_name_path_and_position),
		cmocka_unit_test(test_interpolated_values_are_cast),
		cmocka_unit_test(test_file_paths_stay_in_the_source),
		cmocka_unit_test(test_secret_limits),
		cmocka_unit_test(test_warnings_and_strict_variables),
		cmocka_unit_test(test_variable_sources_and_precedence),
		cmocka_unit_test(test_files_merge_in_order),
		cmocka_unit_test(test_bare_environment_keys),
		cmocka_unit_test(test_file_versions),
		cmocka_unit_test(test_shlex),
		cmocka_unit_test(test_stack_names),
		cmocka_unit_test(test_swarm_names),
		cmocka_unit_test(test_lists_where_strings_belong),
	};
	return cmocka_run_group_tests_name("compose_convert", tests, setup,
	    teardown);
}
