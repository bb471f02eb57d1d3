/* The daemon's converted stacks, kept per source, stack and revision. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "controller.h"

static char dir[64], file[96];

static void
write_stack(const char *image)
{
	FILE *f = fopen(file, "w");

	assert_non_null(f);
	fprintf(f, "services:\n  app:\n    image: %s\n", image);
	fclose(f);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/stackd-loads.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(file, sizeof(file), "%s/compose.yaml", dir);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(file);
	rmdir(dir);
	return 0;
}

static const char *
image_of(const struct compose_stack *s)
{
	const cJSON *svc = cJSON_GetArrayItem(s->services, 0);
	const cJSON *cs = cJSON_GetObjectItem(cJSON_GetObjectItem(svc,
	    "TaskTemplate"), "ContainerSpec");

	return cJSON_GetStringValue(cJSON_GetObjectItem(cs, "Image"));
}

static int
get(struct ctl_loads *l, const char *rev, const struct compose_stack **s,
    bool *fresh)
{
	const char *files[] = { file };
	struct compose_options o = { .stack = "web", .files = files,
	    .nfiles = 1, .root = dir };
	struct err err;

	return ctl_loads_get(l, "src", rev, &o, s, fresh, &err);
}

/* The same revision is converted once; a new one is read again. */
static void
test_kept_per_revision(void **state)
{
	struct ctl_loads *l = ctl_loads_new(0);
	const struct compose_stack *a, *b;
	unsigned long hits, misses;
	size_t kept;
	bool fresh;

	(void)state;
	write_stack("app:1");
	assert_int_equal(get(l, "r1", &a, &fresh), 0);
	assert_true(fresh);
	/* What the files say now is not read again for the same revision. */
	write_stack("app:2");
	assert_int_equal(get(l, "r1", &b, &fresh), 0);
	assert_false(fresh);
	assert_ptr_equal(a, b);
	assert_string_equal(image_of(b), "app:1");
	assert_int_equal(get(l, "r2", &b, &fresh), 0);
	assert_true(fresh);
	assert_string_equal(image_of(b), "app:2");
	ctl_loads_stats(l, &hits, &misses, &kept);
	assert_int_equal(hits, 1);
	assert_int_equal(misses, 2);
	assert_int_equal(kept, 1);
	ctl_loads_free(l);
}

/* A failure is not kept: the next cycle reads the files again. */
static void
test_errors_are_not_kept(void **state)
{
	struct ctl_loads *l = ctl_loads_new(0);
	const struct compose_stack *s;
	bool fresh;

	(void)state;
	unlink(file);
	assert_true(get(l, "r1", &s, &fresh) < 0);
	assert_null(s);
	write_stack("app:1");
	assert_int_equal(get(l, "r1", &s, &fresh), 0);
	assert_true(fresh);
	assert_string_equal(image_of(s), "app:1");
	ctl_loads_free(l);
}

/* A sweep drops what its cycle did not ask for; forget reads all again. */
static void
test_sweep_and_forget(void **state)
{
	struct ctl_loads *l = ctl_loads_new(0);
	const struct compose_stack *s;
	unsigned long hits, misses;
	size_t kept;
	bool fresh;

	(void)state;
	write_stack("app:1");
	assert_int_equal(get(l, "r1", &s, &fresh), 0);
	ctl_loads_sweep(l);
	ctl_loads_stats(l, &hits, &misses, &kept);
	assert_int_equal(kept, 1);
	ctl_loads_sweep(l);		/* a cycle that did not ask */
	ctl_loads_stats(l, &hits, &misses, &kept);
	assert_int_equal(kept, 0);
	assert_int_equal(get(l, "r1", &s, &fresh), 0);
	assert_true(fresh);
	write_stack("app:3");
	ctl_loads_forget(l);
	assert_int_equal(get(l, "r1", &s, &fresh), 0);
	assert_true(fresh);
	assert_string_equal(image_of(s), "app:3");
	ctl_loads_free(l);
}

/* Older than the refresh period: read again (files outside the source). */
static void
test_refreshed_after_the_period(void **state)
{
	struct ctl_loads *l = ctl_loads_new(1);
	const struct compose_stack *s;
	bool fresh;

	(void)state;
	write_stack("app:1");
	assert_int_equal(get(l, "r1", &s, &fresh), 0);
	usleep(5000);
	write_stack("app:4");
	assert_int_equal(get(l, "r1", &s, &fresh), 0);
	assert_true(fresh);
	assert_string_equal(image_of(s), "app:4");
	ctl_loads_free(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_kept_per_revision, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_errors_are_not_kept,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep_and_forget, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_refreshed_after_the_period, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
