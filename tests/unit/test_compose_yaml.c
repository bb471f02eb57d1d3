/* Unit tests: compose/yaml.c (anchors, merge keys, duplicates, limits). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "compose.h"

static struct ynode *
parse_ok(const char *text)
{
	struct ynode *n = NULL;
	struct err err;

	if (compose_yaml_parse(&n, "t.yml", text, strlen(text), &err) < 0)
		fail_msg("unexpected error: %s", err.msg);
	return n;
}

static void
parse_fails(const char *text, size_t len, const char *want)
{
	struct ynode *n = NULL;
	struct err err;

	assert_int_equal(compose_yaml_parse(&n, "t.yml", text, len, &err),
	    ERR_INVALID);
	assert_null(n);
	if (strstr(err.msg, want) == NULL)
		fail_msg("expected \"%s\" in: %s", want, err.msg);
}

static const char *
str(const struct ynode *n)
{
	assert_non_null(n);
	assert_int_equal(n->kind, YNODE_SCALAR);
	return n->str;
}

static void
test_scalars_positions_and_styles(void **state)
{
	struct ynode *root = parse_ok("a: 1\nb: \"1\"\nc:\nd: ~\ne: |\n  x\n");

	(void)state;
	assert_int_equal(root->kind, YNODE_MAP);
	assert_int_equal(root->n, 5);
	assert_string_equal(str(ynode_get(root, "a")), "1");
	assert_false(ynode_get(root, "a")->quoted);
	assert_true(ynode_get(root, "b")->quoted);
	assert_true(ynode_is_null(ynode_get(root, "c")));
	assert_true(ynode_is_null(ynode_get(root, "d")));
	assert_string_equal(str(ynode_get(root, "e")), "x\n");
	assert_int_equal(ynode_get(root, "b")->line, 2);
	assert_int_equal(ynode_get(root, "b")->col, 4);
	assert_null(ynode_get(root, "zz"));
	ynode_free(root);
	ynode_free(NULL);
}

static void
test_anchors_and_merge_keys(void **state)
{
	const char *text =
	    "x-common: &common\n"
	    "  image: app:1\n"
	    "  environment: {A: '1'}\n"
	    "  restart: always\n"
	    "x-more: &more\n"
	    "  image: other:2\n"
	    "  user: nobody\n"
	    "services:\n"
	    "  web:\n"
	    "    <<: [*common, *more]\n"
	    "    restart: 'no'\n"
	    "  db:\n"
	    "    <<: *common\n"
	    "    environment: {B: '2'}\n"
	    "  list: [*more, *more]\n";
	struct ynode *root = parse_ok(text), *web, *db, *list;

	(void)state;
	web = ynode_get(ynode_get(root, "services"), "web");
	/* explicit keys win; then the earlier merged map wins */
	assert_string_equal(str(ynode_get(web, "restart")), "no");
	assert_string_equal(str(ynode_get(web, "image")), "app:1");
	assert_string_equal(str(ynode_get(web, "user")), "nobody");
	assert_null(ynode_get(web, "<<"));
	/* merge is shallow: a local environment replaces the merged one */
	db = ynode_get(ynode_get(root, "services"), "db");
	assert_null(ynode_get(ynode_get(db, "environment"), "A"));
	assert_string_equal(str(ynode_get(ynode_get(db, "environment"), "B")),
	    "2");
	list = ynode_get(ynode_get(root, "services"), "list");
	assert_int_equal(list->kind, YNODE_SEQ);
	assert_int_equal(list->n, 2);
	assert_string_equal(str(ynode_get(list->vals[1], "user")), "nobody");
	ynode_free(root);
}

static void
test_duplicate_keys_rejected_with_position(void **state)
{
	(void)state;
	const char *text = "services:\n  web:\n    image: a\n    image: b\n";

	parse_fails(text, strlen(text), "duplicate key \"image\" (t.yml:4:5)");
}

static void
test_alias_bomb_stopped(void **state)
{
	const char *bomb =
	    "a: &a [x, x, x, x, x, x, x, x, x]\n"
	    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
	    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
	    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
	    "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
	    "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
	    "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n";

	(void)state;
	parse_fails(bomb, strlen(bomb), "alias bomb");
}

static void
test_depth_limited(void **state)
{
	char deep[1024];
	size_t n = 0;

	(void)state;
	n += (size_t)snprintf(deep, sizeof(deep), "a: ");
	for (int i = 0; i < 100; i++)
		deep[n++] = '[';
	for (int i = 0; i < 100; i++)
		deep[n++] = ']';
	deep[n++] = '\n';
	parse_fails(deep, n, "nesting deeper than 64 levels");
}

static void
test_bad_bytes_and_shapes(void **state)
{
	(void)state;
	parse_fails("a: \"\xff\xfe\"\n", 8, "invalid YAML");
	parse_fails("a: b\0c\n", 7, "invalid YAML");
	parse_fails("- a\n- b\n", 8, "top level must be a mapping");
	parse_fails("", 0, "empty");
	parse_fails("a: 1\n---\nb: 2\n", 14, "more than one YAML document");
	parse_fails("a: [1, 2\n", 9, "invalid YAML");
	parse_fails("? [a]\n: 1\n", 10, "a key must be a plain value");
	parse_fails("a: *nope\n", 9, "invalid YAML");
	parse_fails("a:\n  <<: [1]\n", 13, "merge key");
}

static void
test_file_size_limit(void **state)
{
	char *big = malloc(COMPOSE_FILE_MAX + 2);

	(void)state;
	assert_non_null(big);
	memset(big, '#', COMPOSE_FILE_MAX + 1);
	big[COMPOSE_FILE_MAX + 1] = '\0';
	parse_fails(big, COMPOSE_FILE_MAX + 1, "larger than");
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scalars_positions_and_styles),
		cmocka_unit_test(test_anchors_and_merge_keys),
		cmocka_unit_test(test_duplicate_keys_rejected_with_position),
		cmocka_unit_test(test_alias_bomb_stopped),
		cmocka_unit_test(test_depth_limited),
		cmocka_unit_test(test_bad_bytes_and_shapes),
		cmocka_unit_test(test_file_size_limit),
	};
	return cmocka_run_group_tests_name("compose_yaml", tests, NULL, NULL);
}
