/*
 * Unit tests: the verified memory skips the diff of a service only while
 * its version, its desired load, its pin and the rest of what the plan
 * reads are the same, and a plan that finds something still finds it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "helper_plan.h"
#include "reconciler.h"

struct fixture {
	struct compose_stack s;
	struct recon_observed obs;
	struct recon_options opt;
	cJSON *spec;		/* what a create of st_app sends */
};

static void
stack_with(struct fixture *f, const char *image, uint64_t serial)
{
	char text[256];

	helper_stack_release(&f->s);
	snprintf(text, sizeof(text), "[{\"Name\":\"st_app\",\"Labels\":{"
	    "\"com.docker.stack.namespace\":\"st\"},\"TaskTemplate\":{"
	    "\"ContainerSpec\":{\"Image\":\"%s\"}}}]", image);
	f->s = (struct compose_stack){ .name = "st", .serial = serial,
	    .services = cJSON_Parse(text) };
	helper_stack_fill(&f->s);
}

/* The engine holds st_app as a create sent it, at this version, with
 * these extra UpdateStatus / networks. */
static void
engine_with(struct fixture *f, uint64_t version, const char *image,
    const char *update_status, const char *networks)
{
	cJSON *svc = cJSON_CreateObject(), *list = cJSON_CreateArray(), *spec;
	char *text;

	spec = cJSON_Duplicate(f->spec, true);
	if (image != NULL)
		cJSON_ReplaceItemInObject(cJSON_GetObjectItem(cJSON_GetObjectItem(
		    spec, "TaskTemplate"), "ContainerSpec"), "Image",
		    cJSON_CreateString(image));
	cJSON_AddStringToObject(svc, "ID", "svc1");
	cJSON_AddNumberToObject(cJSON_AddObjectToObject(svc, "Version"),
	    "Index", (double)version);
	cJSON_AddItemToObject(svc, "Spec", spec);
	if (update_status != NULL)
		cJSON_AddItemToObject(svc, "UpdateStatus",
		    cJSON_Parse(update_status));
	cJSON_AddItemToArray(list, svc);
	text = cJSON_PrintUnformatted(list);
	recon_observed_release(&f->obs);
	helper_observed(&f->obs, text, networks);
	free(text);
	cJSON_Delete(list);
}

/* Plan; the number of changes. */
static size_t
plan(struct fixture *f)
{
	struct recon_plan *p = NULL;
	struct err err;
	size_t n;

	assert_int_equal(recon_plan_stack(&p, &f->s, &f->obs, &f->opt, &err),
	    0);
	n = p->n;
	recon_plan_free(p);
	return n;
}

static void
expect(const struct fixture *f, unsigned long hits, unsigned long misses,
    size_t entries)
{
	struct recon_verified_stats st;

	recon_verified_stats(f->opt.verified, &st);
	assert_int_equal(st.hits, hits);
	assert_int_equal(st.misses, misses);
	assert_int_equal(st.entries, entries);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct recon_plan *p = NULL;
	struct err err;

	stack_with(f, "i:1", 7);
	helper_observed(&f->obs, "[]", NULL);
	assert_int_equal(recon_plan_stack(&p, &f->s, &f->obs, &f->opt, &err),
	    0);
	assert_int_equal(p->n, 1);
	f->spec = cJSON_Duplicate(p->changes[0].spec, true);
	recon_plan_free(p);
	f->opt.verified = recon_verified_new(RECON_VERIFY_MS);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	recon_verified_free(f->opt.verified);
	recon_observed_release(&f->obs);
	helper_stack_release(&f->s);
	cJSON_Delete(f->spec);
	free(f);
	return 0;
}

/* Diffed once, then skipped while nothing moved. */
static void
test_unchanged_service_is_diffed_once(void **state)
{
	struct fixture *f = *state;

	engine_with(f, 5, NULL, NULL, NULL);
	assert_int_equal(plan(f), 0);
	expect(f, 0, 1, 1);
	assert_int_equal(plan(f), 0);
	assert_int_equal(plan(f), 0);
	expect(f, 2, 1, 1);
}

/* A hand change raises the version: diffed, and the update planned. */
static void
test_a_new_version_is_diffed(void **state)
{
	struct fixture *f = *state;

	engine_with(f, 5, NULL, NULL, NULL);
	assert_int_equal(plan(f), 0);
	engine_with(f, 6, "evil:1", NULL, NULL);
	assert_int_equal(plan(f), 1);
	assert_int_equal(plan(f), 1);
	expect(f, 0, 3, 1);
	/* Only a version bump (an update's progress): diffed, then kept. */
	engine_with(f, 7, NULL, NULL, NULL);
	assert_int_equal(plan(f), 0);
	assert_int_equal(plan(f), 0);
	expect(f, 1, 4, 1);
}

/* A new load of the files, or another engine around the service. */
static void
test_new_desired_state_is_diffed(void **state)
{
	struct fixture *f = *state;

	engine_with(f, 5, NULL, NULL, NULL);
	assert_int_equal(plan(f), 0);
	stack_with(f, "i:2", 8);
	assert_int_equal(plan(f), 1);
	stack_with(f, "i:1", 9);
	assert_int_equal(plan(f), 0);
	assert_int_equal(plan(f), 0);
	expect(f, 1, 3, 1);
	engine_with(f, 5, NULL, NULL, "[{\"Id\":\"n1\",\"Name\":\"st_x\","
	    "\"Scope\":\"swarm\"}]");
	assert_int_equal(plan(f), 0);
	expect(f, 1, 4, 1);
	f->opt.keep_replicas = true;
	assert_int_equal(plan(f), 0);
	expect(f, 1, 5, 1);
	/* A stack made by hand (no load serial) is never remembered. */
	f->s.serial = 0;
	assert_int_equal(plan(f), 0);
	assert_int_equal(plan(f), 0);
	expect(f, 1, 5, 1);
}

/* A plan that leaves a note keeps leaving it. */
static void
test_noted_service_is_not_remembered(void **state)
{
	struct fixture *f = *state;

	engine_with(f, 5, NULL, "{\"State\":\"paused\",\"Message\":\"x\"}",
	    NULL);
	assert_int_equal(plan(f), 0);
	assert_int_equal(plan(f), 0);
	expect(f, 0, 2, 0);
}

/* What a cycle did not plan is forgotten; an entry stands for a period. */
static void
test_sweep_and_period(void **state)
{
	struct fixture *f = *state;

	engine_with(f, 5, NULL, NULL, NULL);
	assert_int_equal(plan(f), 0);
	recon_verified_sweep(f->opt.verified);
	expect(f, 0, 1, 1);
	recon_verified_sweep(f->opt.verified);
	expect(f, 0, 1, 0);
	recon_verified_free(f->opt.verified);
	f->opt.verified = recon_verified_new(1);
	assert_int_equal(plan(f), 0);
	usleep(5000);
	assert_int_equal(plan(f), 0);
	expect(f, 0, 2, 1);
	recon_verified_forget(f->opt.verified);
	expect(f, 0, 2, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_unchanged_service_is_diffed_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_new_version_is_diffed,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_new_desired_state_is_diffed, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_noted_service_is_not_remembered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep_and_period, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
