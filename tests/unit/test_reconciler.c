/*
 * Unit tests: the diff rule (engine defaults are not changes, hand-made
 * changes are) and apply's retry after "update out of sequence", with
 * recorded engine replies.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "helper_fake_engine.h"
#include "helper_plan.h"
#include "reconciler.h"

static int
diff(const char *desired, const char *actual, cJSON **diffs)
{
	cJSON *d = cJSON_Parse(desired), *a = cJSON_Parse(actual);
	int n;

	assert_non_null(d);
	assert_non_null(a);
	*diffs = cJSON_CreateArray();
	n = recon_diff(d, a, "", *diffs);
	cJSON_Delete(d);
	cJSON_Delete(a);
	return n;
}

/* One image, written two ways, is no change; another tag is. */
static void
test_images_compare_by_their_familiar_form(void **state)
{
	cJSON *d;

	(void)state;
	assert_int_equal(diff("{\"ContainerSpec\":{\"Image\":\"nginx:latest\"}}",
	    "{\"ContainerSpec\":{\"Image\":\"docker.io/library/nginx\"}}", &d),
	    0);
	cJSON_Delete(d);
	assert_int_equal(diff("{\"ContainerSpec\":{\"Image\":\"nginx:latest\"}}",
	    "{\"ContainerSpec\":{\"Image\":\"nginx:1\"}}", &d), 1);
	cJSON_Delete(d);
	assert_int_equal(diff("{\"Labels\":{\"a\":\"nginx:latest\"}}",
	    "{\"Labels\":{\"a\":\"nginx\"}}", &d), 1);
	cJSON_Delete(d);
}

/* Ports are a set to the engine: another order is no drift. */
static void
test_port_order_is_no_change(void **state)
{
	cJSON *d;

	(void)state;
	assert_int_equal(diff("{\"EndpointSpec\":{\"Ports\":["
	    "{\"Protocol\":\"tcp\",\"TargetPort\":3000,\"PublishMode\":\"ingress\"},"
	    "{\"Protocol\":\"tcp\",\"TargetPort\":80,\"PublishedPort\":80,"
	    "\"PublishMode\":\"ingress\"},"
	    "{\"Protocol\":\"udp\",\"TargetPort\":3000,\"PublishMode\":\"ingress\"}]}}",
	    "{\"EndpointSpec\":{\"Mode\":\"vip\",\"Ports\":["
	    "{\"Protocol\":\"udp\",\"TargetPort\":3000,\"PublishMode\":\"ingress\"},"
	    "{\"TargetPort\":3000},"
	    "{\"Protocol\":\"tcp\",\"TargetPort\":80,\"PublishedPort\":80,"
	    "\"PublishMode\":\"ingress\"}]}}", &d), 0);
	cJSON_Delete(d);
	assert_int_equal(diff("{\"EndpointSpec\":{\"Ports\":["
	    "{\"TargetPort\":80,\"PublishedPort\":80},{\"TargetPort\":81}]}}",
	    "{\"EndpointSpec\":{\"Ports\":[{\"TargetPort\":81},"
	    "{\"TargetPort\":80,\"PublishedPort\":8080}]}}", &d), 1);
	assert_non_null(strstr(cJSON_GetArrayItem(d, 0)->valuestring,
	    "PublishedPort: 8080 -> 80"));
	cJSON_Delete(d);
}

static void
test_engine_defaults_are_not_changes(void **state)
{
	cJSON *d;

	(void)state;
	/* What stack deploy sends vs what 20.10 returns for it (§3.1). */
	assert_int_equal(diff(
	    "{\"Name\":\"s_a\",\"Labels\":{\"x\":\"1\"},"
	    "\"TaskTemplate\":{\"ContainerSpec\":{\"Image\":\"i:1\","
	    "\"Privileges\":{\"CredentialSpec\":null,\"SELinuxContext\":null}},"
	    "\"Resources\":{},\"Placement\":{},\"ForceUpdate\":0},"
	    "\"Mode\":{\"Replicated\":{}},\"EndpointSpec\":{"
	    "\"Ports\":[{\"TargetPort\":80,\"PublishedPort\":8080}]},"
	    "\"UpdateConfig\":{\"Parallelism\":1}}",
	    "{\"Name\":\"s_a\",\"Labels\":{\"x\":\"1\"},"
	    "\"TaskTemplate\":{\"ContainerSpec\":{\"Image\":\"i:1\","
	    "\"Privileges\":{\"CredentialSpec\":null,\"SELinuxContext\":null,"
	    "\"NoNewPrivileges\":false},\"Isolation\":\"default\"},"
	    "\"Resources\":{\"Limits\":{},\"Reservations\":{}},"
	    "\"Placement\":{},\"ForceUpdate\":3,\"Runtime\":\"container\"},"
	    "\"Mode\":{\"Replicated\":{\"Replicas\":1}},\"EndpointSpec\":{"
	    "\"Mode\":\"vip\",\"Ports\":[{\"Protocol\":\"tcp\","
	    "\"TargetPort\":80,\"PublishedPort\":8080,"
	    "\"PublishMode\":\"ingress\"}]},\"UpdateConfig\":{"
	    "\"Parallelism\":1,\"FailureAction\":\"pause\","
	    "\"MaxFailureRatio\":0,\"Order\":\"stop-first\"}}", &d), 0);
	cJSON_Delete(d);
}

static void
test_hand_made_changes_are_seen(void **state)
{
	cJSON *d;

	(void)state;
	/* docker service update --replicas 5 --env-add X=1 --label-add l=v */
	assert_int_equal(diff(
	    "{\"Mode\":{\"Replicated\":{}},\"TaskTemplate\":{\"ContainerSpec\":"
	    "{\"Env\":[\"A=1\"]}},\"Labels\":{}}",
	    "{\"Mode\":{\"Replicated\":{\"Replicas\":5}},\"TaskTemplate\":"
	    "{\"ContainerSpec\":{\"Env\":[\"A=1\",\"X=1\"]}},"
	    "\"Labels\":{\"l\":\"v\"}}", &d), 3);
	assert_string_equal(cJSON_GetArrayItem(d, 0)->valuestring,
	    "Mode.Replicated.Replicas: 5 -> (none)");
	assert_string_equal(cJSON_GetArrayItem(d, 1)->valuestring,
	    "TaskTemplate.ContainerSpec.Env: [\"A=1\",\"X=1\"] -> [\"A=1\"]");
	assert_string_equal(cJSON_GetArrayItem(d, 2)->valuestring,
	    "Labels.l: \"v\" -> (none)");
	cJSON_Delete(d);
	/* a default value set explicitly by hand still differs from what
	 * the file asks for */
	assert_int_equal(diff("{\"EndpointSpec\":{\"Mode\":\"dnsrr\"}}",
	    "{\"EndpointSpec\":{\"Mode\":\"vip\"}}", &d), 1);
	cJSON_Delete(d);
	/* docker service scale s=0 where the file leaves replicas out (the
	 * engine's 1): 0 is not that default */
	assert_int_equal(diff("{\"Mode\":{\"Replicated\":{}}}",
	    "{\"Mode\":{\"Replicated\":{\"Replicas\":0}}}", &d), 1);
	assert_string_equal(cJSON_GetArrayItem(d, 0)->valuestring,
	    "Mode.Replicated.Replicas: 0 -> (none)");
	cJSON_Delete(d);
}

#define PING "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Length: 0\r\n" \
	"Connection: close\r\n\r\n"
#define STALE "{\"message\":\"rpc error: code = Unknown desc = update out " \
	"of sequence\"}"

static void
test_out_of_sequence_is_retried_with_a_fresh_version(void **state)
{
	const char *replies[5] = { PING };
	char *owned[4];
	struct fake_engine *fake;
	struct engine_config cfg = { 0 };
	struct engine *e = NULL;
	struct recon_change c = { .action = RECON_UPDATE,
	    .kind = ENGINE_SERVICE, .name = "s_a", .id = "svc1", .version = 7 };
	struct recon_plan p = { .stack = "s", .changes = &c, .n = 1 };
	struct recon_stats st;
	struct err err;

	(void)state;
	replies[1] = owned[0] = fake_reply(500, "1.41", STALE);
	replies[2] = owned[1] = fake_reply(200, "1.41", "{\"ID\":\"svc1\","
	    "\"Version\":{\"Index\":9}}");
	replies[3] = owned[2] = fake_reply(200, "1.41", "{}");
	fake = fake_engine_start(replies, 4);
	cfg.host = (char *)fake_engine_host(fake);
	setenv("DOCKER_CONFIG", "/nonexistent", 1);
	assert_int_equal(engine_open(&e, &cfg, &err), 0);
	c.spec = cJSON_Parse("{\"Name\":\"s_a\"}");
	if (recon_apply(e, &p, &st, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(st.updates, 1);
	assert_int_equal(st.retries, 1);
	assert_non_null(strstr(fake_engine_request(fake, 1),
	    "/services/svc1/update?version=7 "));
	assert_non_null(strstr(fake_engine_request(fake, 3),
	    "/services/svc1/update?version=9 "));
	cJSON_Delete(c.spec);
	engine_free(e);
	fake_engine_stop(fake);
	for (int i = 0; i < 3; i++)
		free(owned[i]);
}

/* An apply that fails part-way says how many changes it made, so the
 * daemon logs and counts only those. */
static void
test_apply_stops_at_the_first_failure_and_counts_what_it_made(void **state)
{
	const char *replies[4] = { PING };
	char *owned[2];
	struct fake_engine *fake;
	struct engine_config cfg = { 0 };
	struct engine *e = NULL;
	struct recon_change c[3] = {
		{ .action = RECON_CREATE, .kind = ENGINE_CONFIG, .name = "s_a" },
		{ .action = RECON_CREATE, .kind = ENGINE_CONFIG, .name = "s_b" },
		{ .action = RECON_CREATE, .kind = ENGINE_CONFIG, .name = "s_c" },
	};
	struct recon_plan p = { .stack = "s", .changes = c, .n = 3 };
	struct recon_stats st;
	struct err err;

	(void)state;
	replies[1] = owned[0] = fake_reply(201, "1.41", "{\"ID\":\"c1\"}");
	replies[2] = owned[1] = fake_reply(500, "1.41",
	    "{\"message\":\"no leader\"}");
	fake = fake_engine_start(replies, 3);
	cfg.host = (char *)fake_engine_host(fake);
	setenv("DOCKER_CONFIG", "/nonexistent", 1);
	assert_int_equal(engine_open(&e, &cfg, &err), 0);
	for (int i = 0; i < 3; i++)
		c[i].spec = cJSON_Parse("{\"Data\":\"\"}");
	assert_true(recon_apply(e, &p, &st, &err) < 0);
	assert_int_equal(st.done, 1);
	assert_int_equal(st.creates, 1);
	assert_non_null(strstr(err.msg, "create config s_b"));
	for (int i = 0; i < 3; i++)
		cJSON_Delete(c[i].spec);
	engine_free(e);
	fake_engine_stop(fake);
	for (int i = 0; i < 2; i++)
		free(owned[i]);
}

static void
test_rolled_back_spec_is_held_not_looped(void **state)
{
	struct compose_stack s = { .name = "st" };
	struct recon_observed obs;
	struct recon_options opt = { 0 };
	struct recon_plan *p = NULL;
	cJSON *attempted = cJSON_CreateObject();
	struct err err;

	(void)state;
	s.services = cJSON_Parse("[{\"Name\":\"st_app\",\"Labels\":{"
	    "\"com.docker.stack.namespace\":\"st\"},\"TaskTemplate\":{"
	    "\"ContainerSpec\":{\"Image\":\"i:2\"}}}]");
	helper_stack_fill(&s);
	/* The engine rolled back to i:1 and forgot the failed spec. */
	helper_observed(&obs, "[{\"ID\":\"x\",\"Version\":{\"Index\":5},"
	    "\"Spec\":{\"Name\":\"st_app\",\"Labels\":{"
	    "\"com.docker.stack.namespace\":\"st\",\"com.stackd.owner\":"
	    "\"stackd\",\"com.stackd.spec-hash\":\"old\"},\"TaskTemplate\":"
	    "{\"ContainerSpec\":{\"Image\":\"i:1\"}}},\"UpdateStatus\":{"
	    "\"State\":\"rollback_completed\",\"Message\":\"rollback "
	    "completed\"}}]", NULL);

	/* Not sent by this process: say so, and send it. */
	assert_int_equal(recon_plan_stack(&p, &s, &obs, &opt, &err), 0);
	assert_int_equal(p->n, 1);
	assert_int_equal(p->changes[0].action, RECON_UPDATE);
	assert_non_null(strstr(cJSON_GetArrayItem(p->notes, 0)->valuestring,
	    "rolled back its last update"));
	recon_plan_attempted(p, p->n, attempted);
	recon_plan_free(p);

	/* Sent by this process and rolled back: held. */
	opt.attempted = attempted;
	assert_int_equal(recon_plan_stack(&p, &s, &obs, &opt, &err), 0);
	assert_int_equal(p->n, 0);
	assert_false(recon_plan_in_sync(p));
	assert_non_null(strstr(cJSON_GetArrayItem(p->held, 0)->valuestring,
	    "not retrying until the stack file changes"));
	recon_plan_free(p);

	cJSON_Delete(attempted);
	helper_stack_release(&s);
	recon_observed_release(&obs);
}

/* A service that left the file of a stack whose policy is prune: false
 * stays, with a note; by default it is removed. */
static void
test_no_prune_keeps_what_left_the_file(void **state)
{
	struct compose_stack s = { .name = "st" };
	struct recon_observed obs;
	struct recon_options opt = { 0 };
	struct recon_plan *p = NULL;
	struct err err;

	(void)state;
	helper_stack_fill(&s);
	helper_observed(&obs, "[{\"ID\":\"x\",\"Version\":{\"Index\":5},"
	    "\"Spec\":{\"Name\":\"st_old\",\"Labels\":{"
	    "\"com.docker.stack.namespace\":\"st\",\"com.stackd.owner\":"
	    "\"stackd\"}}}]", NULL);

	assert_int_equal(recon_plan_stack(&p, &s, &obs, &opt, &err), 0);
	assert_int_equal(p->n, 1);
	assert_int_equal(p->changes[0].action, RECON_REMOVE);
	recon_plan_free(p);

	opt.no_prune = true;
	assert_int_equal(recon_plan_stack(&p, &s, &obs, &opt, &err), 0);
	assert_int_equal(p->n, 0);
	assert_true(recon_plan_in_sync(p));
	assert_string_equal(cJSON_GetArrayItem(p->notes, 0)->valuestring,
	    "service st_old: not in the files any more; kept (the stack's "
	    "policy is prune: false)");
	recon_plan_free(p);

	/* The whole stack leaving the source is not this policy's. */
	assert_int_equal(recon_plan_removal(&p, "st", &obs, &opt, &err), 0);
	assert_int_equal(p->n, 1);
	recon_plan_free(p);

	helper_stack_release(&s);
	recon_observed_release(&obs);
}

/* Found by fuzz_engine: a listed object without an ID reached strdup(NULL)
 * in the planner.  The engine never sends one; such a reply is refused as
 * a whole, so nothing is planned on a partial picture. */
static void
test_objects_without_id_or_name_are_refused(void **state)
{
	static const char *const bad[] = {
		"[{\"Spec\":{\"Name\":\"s_web\"}}]",		/* no ID */
		"[{\"ID\":7,\"Spec\":{\"Name\":\"s_web\"}}]",	/* not a string */
		"[{\"ID\":\"x\",\"Spec\":{}}]",			/* no name */
		"[1]",
		"{\"ID\":\"x\"}",					/* not a list */
	};
	struct recon_observed obs = { 0 };
	struct err err;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		obs.services = cJSON_Parse(bad[i]);
		assert_int_equal(recon_observed_index(&obs, &err),
		    ERR_PROTOCOL);
		assert_non_null(strstr(err.msg, "nothing planned"));
		recon_observed_release(&obs);
	}
	obs.networks = cJSON_Parse("[{\"Id\":\"n1\",\"Name\":\"s_net\"}]");
	assert_int_equal(recon_observed_index(&obs, &err), 0);
	assert_non_null(recon_observed_find(&obs, ENGINE_NETWORK, "s_net"));
	recon_observed_release(&obs);
}

/* A published ingress port held by another stack's service, or twice in
 * one stack, fails the plan before any write; host mode and the stack's
 * own services do not count. */
static void
test_port_conflicts_fail_the_plan(void **state)
{
	struct compose_stack s = { .name = "b" };
	struct recon_observed obs = { 0 };
	struct err err;

	(void)state;
	obs.services = cJSON_Parse("[{\"ID\":\"1\",\"Spec\":{\"Name\":"
	    "\"a_web\",\"Labels\":{\"com.docker.stack.namespace\":\"a\"},"
	    "\"EndpointSpec\":{\"Ports\":[{\"Protocol\":\"tcp\","
	    "\"TargetPort\":80,\"PublishedPort\":8080}]}}},"
	    "{\"ID\":\"2\",\"Spec\":{\"Name\":\"b_old\",\"Labels\":"
	    "{\"com.docker.stack.namespace\":\"b\"},\"EndpointSpec\":"
	    "{\"Ports\":[{\"TargetPort\":80,\"PublishedPort\":9000}]}}}]");
	s.services = cJSON_Parse("[{\"Name\":\"b_api\",\"EndpointSpec\":"
	    "{\"Ports\":[{\"Protocol\":\"tcp\",\"TargetPort\":80,"
	    "\"PublishedPort\":8080}]}}]");
	assert_int_equal(recon_ports_check(&s, &obs, &err), ERR_CONFLICT);
	assert_string_equal(err.msg, "stack b: service b_api publishes port "
	    "8080/tcp, which service a_web already publishes; nothing "
	    "written");
	cJSON_Delete(s.services);
	/* udp is another port; 9000 belongs to the stack itself */
	s.services = cJSON_Parse("[{\"Name\":\"b_api\",\"EndpointSpec\":"
	    "{\"Ports\":[{\"Protocol\":\"udp\",\"PublishedPort\":8080},"
	    "{\"PublishedPort\":9000}]}},{\"Name\":\"b_h\",\"EndpointSpec\":"
	    "{\"Ports\":[{\"PublishedPort\":8080,\"PublishMode\":\"host\"}"
	    "]}}]");
	assert_int_equal(recon_ports_check(&s, &obs, &err), 0);
	cJSON_Delete(s.services);
	s.services = cJSON_Parse("[{\"Name\":\"b_x\",\"EndpointSpec\":"
	    "{\"Ports\":[{\"PublishedPort\":7000}]}},{\"Name\":\"b_y\","
	    "\"EndpointSpec\":{\"Ports\":[{\"PublishedPort\":7000}]}}]");
	assert_int_equal(recon_ports_check(&s, &obs, &err), ERR_CONFLICT);
	assert_string_equal(err.msg, "stack b: services b_x and b_y both "
	    "publish port 7000/tcp");
	cJSON_Delete(s.services);
	cJSON_Delete(obs.services);
}

/* Found by fuzz_engine: a negative Version.Index was cast to uint64_t
 * (undefined), and a fresh inspect without a version was dereferenced. */
static void
test_versions_are_validated(void **state)
{
	static const struct { const char *json; uint64_t want; } cases[] = {
		{ "{\"Version\":{\"Index\":42}}", 42 },
		{ "{\"Version\":{\"Index\":-9}}", 0 },
		{ "{\"Version\":{\"Index\":1e300}}", 0 },
		{ "{\"Version\":{\"Index\":\"7\"}}", 0 },
		{ "{\"Version\":7}", 0 },
		{ "{}", 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *o = cJSON_Parse(cases[i].json);
		assert_int_equal(recon_object_version(o), cases[i].want);
		cJSON_Delete(o);
	}
	assert_int_equal(recon_object_version(NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_engine_defaults_are_not_changes),
		cmocka_unit_test(test_images_compare_by_their_familiar_form),
		cmocka_unit_test(test_port_order_is_no_change),
		cmocka_unit_test(test_hand_made_changes_are_seen),
		cmocka_unit_test(test_out_of_sequence_is_retried_with_a_fresh_version),
		cmocka_unit_test(test_apply_stops_at_the_first_failure_and_counts_what_it_made),
		cmocka_unit_test(test_rolled_back_spec_is_held_not_looped),
		cmocka_unit_test(test_no_prune_keeps_what_left_the_file),
		cmocka_unit_test(test_objects_without_id_or_name_are_refused),
		cmocka_unit_test(test_port_conflicts_fail_the_plan),
		cmocka_unit_test(test_versions_are_validated),
	};
	return cmocka_run_group_tests_name("reconciler", tests, NULL, NULL);
}
