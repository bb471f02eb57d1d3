/*
 * Unit tests: x-stackd-hook from the stack file to the plan.  A hook is
 * a job, named pre-sync or post-sync; the planner never diffs it (a
 * finished job is no drift) and gives the change that runs it now, keyed
 * on the stack's desired services.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "helper_plan.h"
#include "json.h"

#define APP "  app:\n    image: i:1\n"
#define MIGRATE "  migrate:\n    image: m:1\n    deploy: {mode: " \
	"replicated-job}\n    x-stackd-hook: pre-sync\n"

static char dir[64];

/* Load `yaml` as stack "st": rc, with *out or err filled. */
static int
load(const char *yaml, struct compose_stack **out, struct err *err)
{
	char file[128];
	const char *files[] = { file };
	struct compose_options o = { .stack = "st", .files = files,
	    .nfiles = 1 };
	FILE *f;

	snprintf(file, sizeof(file), "%s/stack.yml", dir);
	assert_non_null(f = fopen(file, "w"));
	fputs(yaml, f);
	fclose(f);
	*out = NULL;
	return compose_stack_load(out, &o, err);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/stackd-hooks.XXXXXX");
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	char file[128];

	(void)state;
	snprintf(file, sizeof(file), "%s/stack.yml", dir);
	unlink(file);
	return rmdir(dir);
}

static void
test_a_hook_is_a_job_named_pre_or_post_sync(void **state)
{
	struct compose_stack *s;
	struct err err;
	char *text;

	(void)state;
	assert_int_equal(load("services:\n" APP MIGRATE, &s, &err), 0);
	assert_string_equal(compose_stack_hook(s, "st_migrate"), "pre-sync");
	assert_null(compose_stack_hook(s, "st_app"));
	/* docker stack deploy ignores x- keys: so does the spec. */
	text = cJSON_PrintUnformatted(s->services);
	assert_null(strstr(text, "hook"));
	cJSON_free(text);
	compose_stack_free(s);

	assert_int_equal(load("services:\n  m:\n    image: m:1\n"
	    "    x-stackd-hook: pre-sync\n", &s, &err), ERR_INVALID);
	assert_non_null(strstr(err.msg, "services.m.x-stackd-hook: a hook "
	    "runs as a job: give the service deploy.mode: replicated-job"));
	assert_int_equal(load("services:\n  m:\n    image: m:1\n    deploy: "
	    "{mode: replicated-job}\n    x-stackd-hook: presync\n", &s, &err),
	    ERR_INVALID);
	assert_non_null(strstr(err.msg, "services.m.x-stackd-hook: must be "
	    "pre-sync or post-sync"));
}

/* The hook's change in p->hooks, checked for its kind, key and action. */
static const struct recon_change *
hook_change(const struct recon_plan *p, enum recon_action action)
{
	const struct recon_change *c;

	assert_non_null(p->hooks);
	assert_int_equal(p->hooks->n, 1);
	c = &p->hooks->changes[0];
	assert_string_equal(c->name, "st_migrate");
	assert_string_equal(c->hook, "pre-sync");
	assert_int_equal(c->action, action);
	assert_string_equal(json_str(json_get(c->spec, "Labels"),
	    RECON_LABEL_HOOK), p->hook_key);
	return c;
}

static void
test_the_plan_runs_hooks_and_never_diffs_them(void **state)
{
	struct compose_stack *s, *s2;
	struct recon_observed obs;
	struct recon_options opt = { 0 };
	struct recon_plan *p, *p2;
	const struct recon_change *c;
	struct err err;
	char key[sizeof(p->hook_key)];

	(void)state;
	assert_int_equal(load("services:\n" APP MIGRATE, &s, &err), 0);
	helper_observed(&obs, "[]", NULL);
	assert_int_equal(recon_plan_stack(&p, s, &obs, &opt, &err), 0);
	/* The app among the changes (after its network), the hook apart
	 * from them. */
	assert_int_equal(p->n, 2);
	assert_string_equal(p->changes[0].name, "st_default");
	assert_string_equal(p->changes[1].name, "st_app");
	hook_change(p, RECON_CREATE);
	assert_int_equal(strlen(p->hook_key), 12);
	snprintf(key, sizeof(key), "%s", p->hook_key);
	recon_plan_free(p);
	recon_observed_release(&obs);

	/* A finished job of another spec: not diffed, run again by forcing
	 * an update. */
	helper_observed(&obs, "[{\"ID\":\"j\",\"Version\":{\"Index\":9},"
	    "\"Spec\":{\"Name\":\"st_migrate\",\"Labels\":{"
	    "\"com.docker.stack.namespace\":\"st\",\"com.stackd.owner\":"
	    "\"stackd\"},\"Mode\":{\"ReplicatedJob\":{}},\"TaskTemplate\":{"
	    "\"ContainerSpec\":{\"Image\":\"m:0\"},\"ForceUpdate\":4}}}]",
	    NULL);
	assert_int_equal(recon_plan_stack(&p, s, &obs, &opt, &err), 0);
	assert_int_equal(p->n, 2);
	assert_string_equal(p->changes[1].name, "st_app");
	c = hook_change(p, RECON_UPDATE);
	assert_int_equal(json_num(json_get(c->spec, "TaskTemplate"),
	    "ForceUpdate"), 5);
	assert_string_equal(p->hook_key, key);

	/* The key follows the stack's services, not only the hook's. */
	assert_int_equal(load("services:\n  app:\n    image: i:2\n" MIGRATE,
	    &s2, &err), 0);
	assert_int_equal(recon_plan_stack(&p2, s2, &obs, &opt, &err), 0);
	assert_string_not_equal(p2->hook_key, key);
	recon_plan_free(p2);
	compose_stack_free(s2);
	recon_plan_free(p);
	compose_stack_free(s);
	recon_observed_release(&obs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_hook_is_a_job_named_pre_or_post_sync),
		cmocka_unit_test(test_the_plan_runs_hooks_and_never_diffs_them),
	};

	return cmocka_run_group_tests_name("hooks", tests, setup, teardown);
}
