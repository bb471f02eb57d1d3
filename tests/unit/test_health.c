/*
 * Unit tests: a service's health from engine answers shaped as dockerd
 * gives them (services, tasks, update statuses), each verdict with its
 * one-line reason; and the engine's RFC 3339 times.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "clock.h"
#include "health.h"

#define NOW 1800000000LL	/* 2027-01-15T08:00:00Z */

struct fixture {
	cJSON *service, *tasks, *history;
	struct health_verdict v;
	bool drifted;
	long long timeout_ms;
};

/* An engine time `ago` seconds before NOW. */
static const char *
at(long long ago, char *out)
{
	return clock_iso_time(NOW - ago, out);
}

static void
service(struct fixture *f, const char *mode, long long updated_ago,
    const char *update_status)
{
	char text[1024], t[32];

	snprintf(text, sizeof(text), "{\"ID\":\"svc1\",\"UpdatedAt\":\"%s\","
	    "\"Spec\":{\"Name\":\"st_app\",\"Mode\":%s}%s%s}",
	    at(updated_ago, t), mode, update_status ? ",\"UpdateStatus\":" :
	    "", update_status ? update_status : "");
	cJSON_Delete(f->service);
	assert_non_null(f->service = cJSON_Parse(text));
}

/* A task of svc1 (or of another service) into list. */
static void
task(cJSON **list, const char *svc, const char *state, long long ago,
    const char *err, int exit_code)
{
	char text[1024], t[32], t2[32];

	if (*list == NULL)
		*list = cJSON_CreateArray();
	snprintf(text, sizeof(text), "{\"ServiceID\":\"%s\",\"CreatedAt\":"
	    "\"%s\",\"Status\":{\"State\":\"%s\",\"Timestamp\":\"%s\","
	    "\"Err\":\"%s\",\"ContainerStatus\":{\"ExitCode\":%d}}}", svc,
	    at(ago, t), state, at(ago, t2), err ? err : "", exit_code);
	cJSON_AddItemToArray(*list, cJSON_Parse(text));
}

static void
judge(struct fixture *f, bool with_history)
{
	struct health_tasks *cur = health_tasks_index(f->tasks);
	struct health_tasks *hist = with_history ?
	    health_tasks_index(f->history) : NULL;
	struct health_facts facts = { .service = f->service, .current = cur,
	    .history = hist, .drifted = f->drifted, .now = NOW,
	    .timeout_ms = f->timeout_ms ? f->timeout_ms : HEALTH_TIMEOUT_MS };

	health_service_judge(&facts, &f->v);
	health_tasks_free(cur);
	health_tasks_free(hist);
}

static int
setup(void **state)
{
	*state = calloc(1, sizeof(struct fixture));
	return *state == NULL;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	cJSON_Delete(f->service);
	cJSON_Delete(f->tasks);
	cJSON_Delete(f->history);
	free(f);
	return 0;
}

static void
test_every_task_running_is_healthy(void **state)
{
	struct fixture *f = *state;

	service(f, "{\"Replicated\":{\"Replicas\":2}}", 3600,
	    "{\"State\":\"completed\",\"Message\":\"update completed\"}");
	task(&f->tasks, "svc1", "running", 3000, NULL, 0);
	task(&f->tasks, "other", "pending", 10, NULL, 0);
	task(&f->tasks, "svc1", "running", 3000, NULL, 0);
	judge(f, false);
	assert_int_equal(f->v.state, HEALTH_HEALTHY);
	assert_int_equal(f->v.running, 2);
	assert_int_equal(f->v.desired, 2);
	assert_string_equal(f->v.why, "");
	assert_false(health_service_wants_history(&f->v));

	/* Zero replicas wanted, none running; a missing count is one. */
	cJSON_Delete(f->tasks);
	f->tasks = NULL;
	service(f, "{\"Replicated\":{\"Replicas\":0}}", 10, NULL);
	judge(f, false);
	assert_int_equal(f->v.state, HEALTH_HEALTHY);
	service(f, "{\"Replicated\":{}}", 10, NULL);
	judge(f, false);
	assert_int_equal(f->v.state, HEALTH_PROGRESSING);
	assert_int_equal(f->v.desired, 1);
}

static void
test_a_start_in_flight_is_progressing_until_the_timeout(void **state)
{
	struct fixture *f = *state;

	service(f, "{\"Replicated\":{\"Replicas\":2}}", 30, NULL);
	task(&f->tasks, "svc1", "running", 30, NULL, 0);
	task(&f->tasks, "svc1", "starting", 30, NULL, 0);
	judge(f, false);
	assert_int_equal(f->v.state, HEALTH_PROGRESSING);
	assert_string_equal(f->v.why, "1/2 running: starting: ");
	assert_true(health_service_wants_history(&f->v));
	judge(f, true);
	assert_int_equal(f->v.state, HEALTH_PROGRESSING);

	f->timeout_ms = 20 * 1000;
	judge(f, true);
	assert_int_equal(f->v.state, HEALTH_DEGRADED);
	assert_string_equal(f->v.why, "1/2 running after 30s (sync_timeout "
	    "20s): starting: ");
}

static void
test_tasks_that_keep_failing_are_degraded(void **state)
{
	struct fixture *f = *state;

	service(f, "{\"Replicated\":{\"Replicas\":1}}", 3600, NULL);
	task(&f->tasks, "svc1", "starting", 2, NULL, 0);
	task(&f->history, "svc1", "starting", 2, NULL, 0);
	task(&f->history, "svc1", "failed", 20, "task: non-zero exit (1)", 1);
	judge(f, true);
	assert_int_equal(f->v.state, HEALTH_PROGRESSING);
	assert_string_equal(f->v.why, "0/1 running: failed: task: non-zero "
	    "exit (1)");

	task(&f->history, "svc1", "failed", 8, "unhealthy container", 137);
	/* One that failed before the last change does not count. */
	task(&f->history, "svc1", "failed", 4000, "old", 1);
	judge(f, true);
	assert_int_equal(f->v.state, HEALTH_DEGRADED);
	assert_string_equal(f->v.why, "tasks keep failing (2 in 20s): failed: "
	    "unhealthy container (exit 137)");
	/* Without the history only the start is seen. */
	judge(f, false);
	assert_int_equal(f->v.state, HEALTH_PROGRESSING);
}

static void
test_no_suitable_node_and_rejected_are_degraded(void **state)
{
	struct fixture *f = *state;

	service(f, "{\"Replicated\":{\"Replicas\":1}}", 5, NULL);
	task(&f->tasks, "svc1", "pending", 5, "no suitable node (scheduling "
	    "constraints not satisfied on 1 node)", 0);
	judge(f, false);
	assert_int_equal(f->v.state, HEALTH_DEGRADED);
	assert_string_equal(f->v.why, "pending: no suitable node (scheduling "
	    "constraints not satisfied on 1 node)");

	cJSON_Delete(f->tasks);
	f->tasks = NULL;
	task(&f->tasks, "svc1", "rejected", 5, "No such image: nope:1", 0);
	judge(f, false);
	assert_int_equal(f->v.state, HEALTH_DEGRADED);
	assert_string_equal(f->v.why, "rejected: No such image: nope:1");
}

static void
test_rollbacks_and_pauses_are_degraded(void **state)
{
	struct fixture *f = *state;

	task(&f->tasks, "svc1", "running", 50, NULL, 0);
	service(f, "{\"Replicated\":{\"Replicas\":1}}", 60, "{\"State\":"
	    "\"rollback_completed\",\"Message\":\"rollback completed\"}");
	f->drifted = true;
	judge(f, false);
	assert_int_equal(f->v.state, HEALTH_DEGRADED);
	assert_string_equal(f->v.why, "rolled back: rollback completed");
	/* Rolled back to what the file says: healthy. */
	f->drifted = false;
	judge(f, false);
	assert_int_equal(f->v.state, HEALTH_HEALTHY);

	service(f, "{\"Replicated\":{\"Replicas\":1}}", 60, "{\"State\":"
	    "\"paused\",\"Message\":\"update paused due to failure or early "
	    "termination of task x\"}");
	judge(f, false);
	assert_int_equal(f->v.state, HEALTH_DEGRADED);
	assert_string_equal(f->v.why, "update paused: update paused due to "
	    "failure or early termination of task x");

	service(f, "{\"Replicated\":{\"Replicas\":1}}", 60, "{\"State\":"
	    "\"rollback_started\",\"Message\":\"rollback started\"}");
	judge(f, false);
	assert_int_equal(f->v.state, HEALTH_DEGRADED);
}

static void
test_an_update_in_flight_is_progressing(void **state)
{
	struct fixture *f = *state;
	char text[256], t[32];

	task(&f->tasks, "svc1", "running", 50, NULL, 0);
	snprintf(text, sizeof(text), "{\"State\":\"updating\",\"StartedAt\":"
	    "\"%s\",\"Message\":\"update in progress\"}", at(15, t));
	service(f, "{\"Replicated\":{\"Replicas\":1}}", 15, text);
	judge(f, false);
	assert_int_equal(f->v.state, HEALTH_PROGRESSING);
	assert_string_equal(f->v.why, "updating: update in progress");
	f->timeout_ms = 10 * 1000;
	judge(f, false);
	assert_int_equal(f->v.state, HEALTH_DEGRADED);
	assert_string_equal(f->v.why, "1/1 running after 15s (sync_timeout "
	    "10s)");
}

static void
test_global_and_missing(void **state)
{
	struct fixture *f = *state;

	service(f, "{\"Global\":{}}", 600, NULL);
	task(&f->tasks, "svc1", "running", 500, NULL, 0);
	task(&f->tasks, "svc1", "preparing", 1, NULL, 0);
	judge(f, false);
	assert_int_equal(f->v.state, HEALTH_PROGRESSING);
	assert_int_equal(f->v.desired, 2);
	assert_int_equal(f->v.running, 1);

	cJSON_Delete(f->service);
	f->service = NULL;
	judge(f, false);
	assert_int_equal(f->v.state, HEALTH_MISSING);
	assert_string_equal(f->v.why, "not on the engine");
	assert_int_equal(health_worst(HEALTH_PROGRESSING, HEALTH_DEGRADED),
	    HEALTH_DEGRADED);
	assert_int_equal(health_worst(HEALTH_MISSING, HEALTH_SUSPENDED),
	    HEALTH_MISSING);
	assert_string_equal(health_state_name(HEALTH_SUSPENDED), "suspended");
}

/* A hook's job: its first run (the engine leaves JobIteration's Index
 * out of it), a later run not to be judged by the earlier one's tasks, a
 * failure with its exit code, and a run past its timeout. */
static void
test_a_job_run_is_judged_by_its_own_tasks(void **state)
{
	struct fixture *f = *state;
	const char *job = "{\"ReplicatedJob\":{\"MaxConcurrent\":1,"
	    "\"TotalCompletions\":1}}";
	cJSON *run;
	char why[400];

	service(f, job, 5, NULL);
	cJSON_AddItemToObject(f->service, "JobStatus",
	    cJSON_Parse("{\"JobIteration\":{}}"));
	task(&f->tasks, "svc1", "running", 4, NULL, 0);
	assert_int_equal(health_job_judge(f->service, f->tasks, NOW, 60000,
	    why, sizeof(why)), HEALTH_JOB_RUNNING);
	assert_string_equal(why, "0 of 1 tasks complete");
	cJSON_Delete(f->tasks);
	f->tasks = NULL;
	task(&f->tasks, "svc1", "complete", 3, NULL, 0);
	assert_int_equal(health_job_judge(f->service, f->tasks, NOW, 60000,
	    why, sizeof(why)), HEALTH_JOB_DONE);

	/* Run again (update --force): the first run's task counts no more. */
	cJSON_ReplaceItemInObject(f->service, "JobStatus",
	    cJSON_Parse("{\"JobIteration\":{\"Index\":42}}"));
	assert_int_equal(health_job_judge(f->service, f->tasks, NOW, 60000,
	    why, sizeof(why)), HEALTH_JOB_RUNNING);
	assert_int_equal(health_job_judge(f->service, f->tasks, NOW, 4000,
	    why, sizeof(why)), HEALTH_JOB_FAILED);
	assert_string_equal(why, "did not finish within 4s (0 of 1 tasks "
	    "complete)");
	task(&f->tasks, "svc1", "failed", 1, "task: non-zero exit (3)", 3);
	run = cJSON_GetArrayItem(f->tasks, 1);
	cJSON_AddItemToObject(run, "JobIteration",
	    cJSON_Parse("{\"Index\":42}"));
	assert_int_equal(health_job_judge(f->service, f->tasks, NOW, 60000,
	    why, sizeof(why)), HEALTH_JOB_FAILED);
	assert_string_equal(why, "failed: task: non-zero exit (3)");
}

static void
test_engine_times(void **state)
{
	(void)state;
	assert_int_equal(clock_iso_parse("2027-01-15T08:00:00Z"), NOW);
	assert_int_equal(clock_iso_parse("2027-01-15T08:00:00.902604028Z"),
	    NOW);
	assert_int_equal(clock_iso_parse("2027-01-15T09:30:00+01:30"), NOW);
	assert_int_equal(clock_iso_parse("2027-01-15T06:00:00-02:00"), NOW);
	assert_int_equal(clock_iso_parse("2027-01-15 08:00:00Z"), -1);
	assert_int_equal(clock_iso_parse("2027-01-15T08:00:00"), -1);
	assert_int_equal(clock_iso_parse(NULL), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_every_task_running_is_healthy, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_start_in_flight_is_progressing_until_the_timeout,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_tasks_that_keep_failing_are_degraded, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_no_suitable_node_and_rejected_are_degraded, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_rollbacks_and_pauses_are_degraded, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_an_update_in_flight_is_progressing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_global_and_missing, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_job_run_is_judged_by_its_own_tasks, setup, teardown),
		cmocka_unit_test(test_engine_times),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
