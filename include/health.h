/*
 * health.h - how a service is doing, apart from whether its spec matches
 * its file: the states Argo CD users know, judged from what the engine
 * reports (the service, its tasks, its update status), never from a
 * probe of stackd's own.
 *
 * A task the engine reports "running" has passed its healthcheck when the
 * image or the stack defines one (swarm keeps it "starting" until then),
 * so "every desired task running" covers both.
 */
#ifndef STACKD_HEALTH_H
#define STACKD_HEALTH_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

/* Better to worse: a stack or an engine is as healthy as its worst. */
enum health_state {
	HEALTH_HEALTHY,
	HEALTH_SUSPENDED,	/* stackd leaves the stack alone */
	HEALTH_PROGRESSING,	/* a start or an update within sync_timeout */
	HEALTH_MISSING,		/* the file has it, the engine does not */
	HEALTH_DEGRADED,
};

#define HEALTH_NSTATES 5
/* sync_timeout's default: as long as a Kubernetes progress deadline. */
#define HEALTH_TIMEOUT_MS (10 * 60 * 1000)
/* Failed tasks since the spec changed that make a service degraded. */
#define HEALTH_FAILURES 2

const char *health_state_name(enum health_state s);
/* A name back into its state; an unknown one is healthy. */
enum health_state health_state_parse(const char *name);
enum health_state health_worst(enum health_state a, enum health_state b);

/* Tasks grouped by service (one sort of the list; borrowed from it). */
struct health_tasks;
struct health_tasks *health_tasks_index(const cJSON *tasks);
void health_tasks_free(struct health_tasks *t);
/* The tasks of service id: *out[0..n-1]. */
size_t health_tasks_of(const struct health_tasks *t, const char *id,
    const cJSON *const **out);

/* What a service's verdict is made of. */
struct health_facts {
	const cJSON *service;	/* the engine's; NULL: missing */
	/* Its tasks meant to run (the list filtered desired-state=running). */
	const struct health_tasks *current;
	/* Its tasks of any desired state (failures), or NULL: not read. */
	const struct health_tasks *history;
	/* The spec differs from the file (a change or a hold is planned):
	 * a rollback then means the file's spec failed. */
	bool drifted;
	long long now;		/* unix time */
	long long timeout_ms;	/* sync_timeout */
};

struct health_verdict {
	enum health_state state;
	int running, desired;
	char why[512];		/* one line; "" when healthy */
};

void health_service_judge(const struct health_facts *f,
    struct health_verdict *out);

/* Would the service's failed tasks change its verdict?  (Read them for
 * these only: a healthy fleet costs no task call beyond the list.) */
bool health_service_wants_history(const struct health_verdict *v);

/* A job's current run (the engine's JobStatus.JobIteration), from its
 * tasks of any desired state: done once TotalCompletions of them
 * completed; failed at the first that failed or was rejected ("failed:
 * task: non-zero exit (3)"), or when it ran past timeout_ms since the
 * service was updated; why says which, or how far it got. */
enum health_job { HEALTH_JOB_RUNNING, HEALTH_JOB_DONE, HEALTH_JOB_FAILED };
/* How many completed tasks make a run of the job: its TotalCompletions,
 * or 1 when the spec leaves it out. */
double health_job_completions(const cJSON *service);
enum health_job health_job_judge(const cJSON *service, const cJSON *tasks,
    long long now, long long timeout_ms, char *why, size_t size);

#endif
