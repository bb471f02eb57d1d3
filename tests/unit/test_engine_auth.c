/* Unit tests: registry auth (X-Registry-Auth) from a known config.json.
 * The expected headers were computed independently (Python's
 * base64.urlsafe_b64encode of the compact JSON, as Go's URLEncoding). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "engine.h"

#define CONFIG SRCDIR "/tests/data/docker-config.json"

static int
setup(void **state)
{
	struct engine_auth *a = NULL;
	struct err err;

	if (engine_auth_load(&a, CONFIG, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	*state = a;
	return 0;
}

static int
teardown(void **state)
{
	engine_auth_free(*state);
	engine_auth_free(NULL);
	return 0;
}

static void
expect_header(struct engine_auth *a, const char *image, const char *want)
{
	char *h = NULL;
	struct err err;

	assert_int_equal(engine_auth_header(&h, a, image, &err), 0);
	if (want == NULL) {
		assert_null(h);
		return;
	}
	assert_non_null(h);
	assert_string_equal(h, want);
	free(h);
}

static void
test_registry_of_image(void **state)
{
	char r[64];

	(void)state;
	const char *cases[][2] = {
		{ "nginx", "docker.io" },
		{ "nginx:1.25", "docker.io" },
		{ "library/nginx", "docker.io" },
		{ "traefik/whoami:v1", "docker.io" },
		{ "local/busybox:1", "docker.io" },
		{ "registry.example.com:5000/team/app:2", "registry.example.com:5000" },
		{ "ghcr.example.org/o/app@sha256:0123", "ghcr.example.org" },
		{ "localhost/app", "localhost" },
		{ "localhost:5000/app", "localhost:5000" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(engine_image_registry(r, sizeof(r),
		    cases[i][0]), 0);
		assert_string_equal(r, cases[i][1]);
	}
}

static void
test_docker_hub_user_password(void **state)
{
	expect_header(*state, "nginx:1.25", "eyJ1c2VybmFtZSI6Imh1Yi11c2VyIiwi"
	    "cGFzc3dvcmQiOiJodWItcGFzc3dvcmQtMSIsInNlcnZlcmFkZHJlc3MiOiJodHRw"
	    "czovL2luZGV4LmRvY2tlci5pby92MS8ifQ==");
}

static void
test_private_registry_password_with_colons(void **state)
{
	expect_header(*state, "registry.example.com:5000/team/app:2",
	    "eyJ1c2VybmFtZSI6InJvYm90IiwicGFzc3dvcmQiOiJzM2NyM3Q6d2l0aDpjb2xv"
	    "bnMiLCJzZXJ2ZXJhZGRyZXNzIjoicmVnaXN0cnkuZXhhbXBsZS5jb206NTAwMCJ9");
}

static void
test_identity_token(void **state)
{
	expect_header(*state, "ghcr.example.org/o/app:1", "eyJzZXJ2ZXJhZGRy"
	    "ZXNzIjoiaHR0cHM6Ly9naGNyLmV4YW1wbGUub3JnL3YyLyIsImlkZW50aXR5dG9r"
	    "ZW4iOiJ0b2stYWJjLmRlZiJ9");
}

static void
test_no_credentials_no_header(void **state)
{
	expect_header(*state, "quay.example.io/x/y", NULL);
	expect_header(*state, "creds-helper.example.net/x", NULL);
	expect_header(NULL, "nginx", NULL);
}

static void
test_broken_entry_names_registry_not_secret(void **state)
{
	char *h = NULL;
	struct err err;

	assert_int_equal(engine_auth_header(&h, *state,
	    "broken.example.net/app", &err), ERR_INVALID);
	assert_null(h);
	assert_non_null(strstr(err.msg, "broken.example.net"));
	assert_null(strstr(err.msg, "not base64!!!"));
}

static void
test_load_errors(void **state)
{
	struct engine_auth *a = NULL;
	struct err err;
	char path[] = "/tmp/stackd-auth.XXXXXX";
	int fd;

	(void)state;
	/* A named file that is missing is an error ... */
	assert_int_equal(engine_auth_load(&a, "/nonexistent/config.json",
	    &err), ERR_NOTFOUND);
	assert_null(a);
	/* ... the default one being absent is not. */
	setenv("DOCKER_CONFIG", "/nonexistent", 1);
	assert_int_equal(engine_auth_load(&a, NULL, &err), 0);
	assert_non_null(a);
	engine_auth_free(a);
	unsetenv("DOCKER_CONFIG");

	assert_true((fd = mkstemp(path)) >= 0);
	assert_int_equal(write(fd, "{\"auths\": [1]}", 14), 14);
	close(fd);
	assert_int_equal(engine_auth_load(&a, path, &err), ERR_INVALID);
	assert_non_null(strstr(err.msg, "\"auths\" must be an object"));
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registry_of_image),
		cmocka_unit_test(test_docker_hub_user_password),
		cmocka_unit_test(test_private_registry_password_with_colons),
		cmocka_unit_test(test_identity_token),
		cmocka_unit_test(test_no_credentials_no_header),
		cmocka_unit_test(test_broken_entry_names_registry_not_secret),
		cmocka_unit_test(test_load_errors),
	};
	return cmocka_run_group_tests_name("engine_auth", tests, setup,
	    teardown);
}
