/*
 * Unit tests: the order between stacks (depends.c): a stack's
 * depends_on from its stacks.list entry and its files, names no stack
 * has, and cycles with the path that closes them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "controller.h"

static bool
in(const char *name, void *names)
{
	return cJSON_HasObjectItem(names, name);
}

/* graph and names from "a:b,c b: c:" (each stack, its dependencies). */
static cJSON *
graph_of(const char *spec, cJSON **names)
{
	cJSON *g = cJSON_CreateObject();
	char buf[256], *save = NULL, *tok;

	*names = cJSON_CreateObject();
	snprintf(buf, sizeof(buf), "%s", spec);
	for (tok = strtok_r(buf, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		char *colon = strchr(tok, ':'), *save2 = NULL, *d;
		cJSON *deps = cJSON_CreateArray();
		*colon = '\0';
		cJSON_AddTrueToObject(*names, tok);
		for (d = strtok_r(colon + 1, ",", &save2); d != NULL;
		    d = strtok_r(NULL, ",", &save2))
			cJSON_AddItemToArray(deps, cJSON_CreateString(d));
		cJSON_AddItemToObject(g, tok, deps);
	}
	return g;
}

static int
check(const char *spec, const char *stack, char *why, size_t size)
{
	cJSON *names, *g = graph_of(spec, &names);
	int rc = ctl_depends_check(g, stack, in, names, why, size);

	cJSON_Delete(g);
	cJSON_Delete(names);
	return rc;
}

static void
test_a_chain_is_fine(void **state)
{
	char why[256];

	(void)state;
	assert_int_equal(check("web:app app:db db:", "web", why,
	    sizeof(why)), 0);
	assert_int_equal(check("web:app app:db db:", "db", why,
	    sizeof(why)), 0);
	/* A diamond is no cycle. */
	assert_int_equal(check("a:b,c b:d c:d d:", "a", why, sizeof(why)),
	    0);
}

static void
test_a_name_no_stack_has(void **state)
{
	char why[256];

	(void)state;
	assert_int_equal(check("app:db", "app", why, sizeof(why)), -1);
	assert_string_equal(why, "depends_on names db, which is no stack "
	    "here");
}

static void
test_a_cycle_names_its_path(void **state)
{
	char why[256];

	(void)state;
	assert_int_equal(check("a:b b:c c:a", "a", why, sizeof(why)), -1);
	assert_string_equal(why, "depends_on cycle: a -> b -> c -> a");
	assert_int_equal(check("a:b b:c c:a", "b", why, sizeof(why)), -1);
	assert_string_equal(why, "depends_on cycle: b -> c -> a -> b");
	/* A stack leading into a cycle it is not on waits, not fails. */
	assert_int_equal(check("x:a a:b b:a", "x", why, sizeof(why)), 0);
}

static void
test_the_list_and_the_files_add_up(void **state)
{
	struct ctl_config c = { 0 };
	struct compose_stack s = { 0 };
	cJSON *deps;
	char *text;

	(void)state;
	c.stack_list = cJSON_Parse("[{\"name\": \"app\", \"depends_on\": "
	    "[\"db\", \"cache\"]}, {\"name\": \"db\"}]");
	s.depends_on = cJSON_Parse("[\"cache\", \"queue\"]");
	deps = ctl_depends_of(&c, "app", &s);
	text = cJSON_PrintUnformatted(deps);
	assert_string_equal(text, "[\"db\",\"cache\",\"queue\"]");
	free(text);
	cJSON_Delete(deps);
	assert_null(ctl_depends_of(&c, "db", NULL));
	assert_null(ctl_depends_of(NULL, "app", NULL));
	cJSON_Delete(c.stack_list);
	cJSON_Delete(s.depends_on);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_chain_is_fine),
		cmocka_unit_test(test_a_name_no_stack_has),
		cmocka_unit_test(test_a_cycle_names_its_path),
		cmocka_unit_test(test_the_list_and_the_files_add_up),
	};

	return cmocka_run_group_tests_name("depends", tests, NULL, NULL);
}
