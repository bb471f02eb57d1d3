/*
 * Unit tests: image references as `docker stack deploy` writes them.
 * Every row was deployed with docker CLI 28.2.2 (`docker stack deploy
 * --resolve-image never`) and the stored ContainerSpec.Image read back;
 * NULL rows are refused by the CLI before anything is created.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "compose.h"

#define H64 "1111111111111111111111111111111111111111111111111111111111111111"

static const struct { const char *in, *want; } vectors[] = {
	{ "nginx", "nginx:latest" },
	{ "docker.io/library/nginx", "nginx:latest" },
	{ "docker.io/prom/prometheus:v3", "prom/prometheus:v3" },
	{ "index.docker.io/nginx:1", "nginx:1" },
	{ "library/nginx", "nginx:latest" },
	{ "127.0.0.1:5000/app", "127.0.0.1:5000/app:latest" },
	{ "localhost/app", "localhost/app:latest" },
	{ "localhost:5000/a/b:c", "localhost:5000/a/b:c" },
	{ "my_reg.io/app", "my_reg.io/app:latest" },
	{ "my-reg.io/app:1", "my-reg.io/app:1" },
	{ "ghcr.io/foo/bar:latest", "ghcr.io/foo/bar:latest" },
	{ "docker.io/library/a/b", "library/a/b:latest" },
	{ "quay.io/x/y/z", "quay.io/x/y/z:latest" },
	{ "a.b-c.d:1/x", "a.b-c.d:1/x:latest" },
	{ "a__b/c--d:T_1.x", "a__b/c--d:T_1.x" },
	{ "INDEX.docker.io/x", "INDEX.docker.io/x:latest" },
	{ "Foo/bar", "Foo/bar:latest" },	/* the engine refuses it */
	{ "[::1]:5000/x", "[::1]:5000/x:latest" },	/* likewise */
	{ "busybox@sha256:" H64, "busybox@sha256:" H64 },
	{ "docker.io/library/busybox:1@sha256:" H64,
	    "busybox:1@sha256:" H64 },
	{ "x:y:z", NULL },
	{ "a/b:-c", NULL },
	{ "a/b@sha256:111", NULL },
	{ "x@md5:11111111111111111111111111111111", NULL },
	{ "UPPER/lower:1", "UPPER/lower:1" },
	{ "lower/UPPER", NULL },
	{ "a//b", NULL },
	{ "a/b/", NULL },
	{ "a.-b/c", NULL },
	{ "", NULL },
};

static void
test_familiar_forms(void **state)
{
	char out[COMPOSE_IMAGE_MAX];
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		int rc = compose_image_normalize(vectors[i].in, out,
		    sizeof(out));
		const char *want = vectors[i].want;
		if (want == NULL ? rc == 0 : rc < 0 || strcmp(out, want) != 0) {
			print_error("[%s]: want [%s], got [%s] (rc %d)\n",
			    vectors[i].in, want ? want : "refused", out, rc);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/* IDs and bare digests have no name: kept as they are, and accepted. */
static void
test_ids_and_digests(void **state)
{
	char out[COMPOSE_IMAGE_MAX];

	(void)state;
	assert_int_equal(compose_image_normalize(H64, out, sizeof(out)), -1);
	assert_string_equal(out, H64);
	assert_true(compose_image_is_id(H64));
	assert_true(compose_image_is_id("sha256:" H64));
	assert_false(compose_image_is_id("sha256:" H64 "1"));
	assert_false(compose_image_is_id("nginx"));
}

static void
test_parts(void **state)
{
	struct compose_image_ref r;

	(void)state;
	assert_int_equal(compose_image_ref_parse(&r, "nginx"), 0);
	assert_string_equal(r.domain, "docker.io");
	assert_string_equal(r.path, "library/nginx");
	assert_string_equal(r.tag, "");
	assert_int_equal(compose_image_ref_parse(&r,
	    "127.0.0.1:5000/team/app:1.2@sha256:" H64), 0);
	assert_string_equal(r.domain, "127.0.0.1:5000");
	assert_string_equal(r.path, "team/app");
	assert_string_equal(r.tag, "1.2");
	assert_string_equal(r.digest, "sha256:" H64);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_familiar_forms),
		cmocka_unit_test(test_ids_and_digests),
		cmocka_unit_test(test_parts),
	};
	return cmocka_run_group_tests_name("compose_image", tests, NULL, NULL);
}
