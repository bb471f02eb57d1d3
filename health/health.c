/*
 * health.c - see health.h.
 *
 * The verdict is stateless: when a start or an update began is read
 * from the engine's own times (the update's StartedAt, a task's
 * CreatedAt, the service's UpdatedAt), so a restarted stackd judges a
 * service exactly as the one before it did.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "clock.h"
#include "health.h"
#include "json.h"

static const char *const names[HEALTH_NSTATES] = { "healthy", "suspended",
    "progressing", "missing", "degraded" };

const char *
health_state_name(enum health_state s)
{
	return (unsigned)s < HEALTH_NSTATES ? names[s] : "?";
}

enum health_state
health_state_parse(const char *name)
{
	for (int i = 0; name != NULL && i < HEALTH_NSTATES; i++)
		if (strcmp(names[i], name) == 0)
			return (enum health_state)i;
	return HEALTH_HEALTHY;
}

enum health_state
health_worst(enum health_state a, enum health_state b)
{
	return a > b ? a : b;
}

struct health_tasks {
	const cJSON **t;	/* sorted by ServiceID */
	size_t n;
};

static const char *
service_of(const cJSON *task)
{
	const char *id = json_str(task, "ServiceID");

	return id != NULL ? id : "";
}

static int
by_service(const void *a, const void *b)
{
	return strcmp(service_of(*(const cJSON *const *)a),
	    service_of(*(const cJSON *const *)b));
}

struct health_tasks *
health_tasks_index(const cJSON *tasks)
{
	struct health_tasks *ix = xcalloc(1, sizeof(*ix));
	const cJSON *t;

	ix->t = xcalloc((size_t)cJSON_GetArraySize(tasks) + 1,
	    sizeof(*ix->t));
	cJSON_ArrayForEach(t, tasks)
		ix->t[ix->n++] = t;
	qsort(ix->t, ix->n, sizeof(*ix->t), by_service);
	return ix;
}

void
health_tasks_free(struct health_tasks *ix)
{
	if (ix == NULL)
		return;
	free(ix->t);
	free(ix);
}

size_t
health_tasks_of(const struct health_tasks *ix, const char *id,
    const cJSON *const **out)
{
	size_t lo = 0, hi = ix != NULL ? ix->n : 0, end;

	*out = NULL;
	if (id == NULL)
		return 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(service_of(ix->t[mid]), id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (end = lo; ix != NULL && end < ix->n &&
	    strcmp(service_of(ix->t[end]), id) == 0; end++)
		continue;
	*out = ix != NULL ? ix->t + lo : NULL;
	return end - lo;
}

static const char *
task_state(const cJSON *t)
{
	const char *s = json_str(json_get(t, "Status"), "State");

	return s != NULL ? s : "?";
}

/* "state: why" of a task not running, in out. */
static const char *
task_why(const cJSON *t, char *out, size_t size)
{
	const cJSON *st = json_get(t, "Status");
	const char *e = json_str(st, "Err");
	const cJSON *cs = json_get(st, "ContainerStatus");
	const cJSON *code = json_get(cs, "ExitCode");

	if (e == NULL || *e == '\0')
		e = json_str(st, "Message");
	/* "task: non-zero exit (1)" says it already. */
	if (cJSON_IsNumber(code) && code->valueint != 0 &&
	    (e == NULL || strstr(e, "exit (") == NULL))
		snprintf(out, size, "%s: %s (exit %d)", task_state(t),
		    e ? e : "", code->valueint);
	else
		snprintf(out, size, "%s: %s", task_state(t), e ? e : "");
	return out;
}

/* "1m30s" */
static const char *
span(long long ms, char *out, size_t size)
{
	long long s = ms / 1000;

	if (s >= 3600)
		snprintf(out, size, "%lldh%lldm", s / 3600, s / 60 % 60);
	else if (s >= 60)
		snprintf(out, size, "%lldm%llds", s / 60, s % 60);
	else
		snprintf(out, size, "%llds", s);
	return out;
}

static long long
time_of(const cJSON *o, const char *key)
{
	return clock_iso_parse(json_str(o, key));
}

/* The engine gave up on an update: paused, or rolling or rolled back.
 * A rollback of somebody else's update back to the file's spec is no
 * failure of the file's. */
static bool
gave_up(const struct health_facts *f, const cJSON *us,
    struct health_verdict *v)
{
	const char *st = json_str(us, "State"), *msg = json_str(us, "Message");
	const char *what = NULL;

	if (st == NULL)
		return false;
	if (strcmp(st, "paused") == 0)
		what = "update paused";
	else if (strcmp(st, "rollback_started") == 0)
		what = "rolling back";
	else if (strcmp(st, "rollback_paused") == 0)
		what = "rollback paused";
	else if (strcmp(st, "rollback_completed") == 0 && f->drifted)
		what = "rolled back";
	if (what == NULL)
		return false;
	v->state = HEALTH_DEGRADED;
	snprintf(v->why, sizeof(v->why), "%s: %s", what, msg ? msg : st);
	return true;
}

/* A current task no node will take, or the engine refused. */
static bool
stuck(const cJSON *const *t, size_t n, struct health_verdict *v)
{
	char why[400];

	for (size_t i = 0; i < n; i++) {
		const char *st = task_state(t[i]);
		const char *e = json_str(json_get(t[i], "Status"), "Err");
		if (strcmp(st, "rejected") == 0 || (strcmp(st, "pending") == 0 &&
		    e != NULL && strncmp(e, "no suitable node", 16) == 0)) {
			v->state = HEALTH_DEGRADED;
			snprintf(v->why, sizeof(v->why), "%s",
			    task_why(t[i], why, sizeof(why)));
			return true;
		}
	}
	return false;
}

/*
 * Tasks that ended since the spec last changed (or the update began),
 * within the last timeout: a replicated or global task that exits, even
 * with 0, is one the engine has to replace.  The newest one's reason in
 * last.
 */
static int
failures(const struct health_facts *f, long long since, long long *oldest,
    char *last, size_t size)
{
	const cJSON *const *t;
	size_t n = health_tasks_of(f->history, json_str(f->service, "ID"), &t);
	long long newest = -1;
	int count = 0;

	if (since < f->now - f->timeout_ms / 1000)
		since = f->now - f->timeout_ms / 1000;
	for (size_t i = 0; i < n; i++) {
		const char *st = task_state(t[i]);
		long long at = time_of(json_get(t[i], "Status"), "Timestamp");
		if ((strcmp(st, "failed") != 0 && strcmp(st, "rejected") != 0 &&
		    strcmp(st, "complete") != 0) || at < since)
			continue;
		count++;
		if (*oldest < 0 || at < *oldest)
			*oldest = at;
		if (at > newest) {
			newest = at;
			task_why(t[i], last, size);
		}
	}
	return count;
}

/* When what is awaited began: the update, else the oldest task not yet
 * running, else the spec's last change. */
static long long
awaited_since(const struct health_facts *f, const cJSON *us, bool updating,
    const cJSON *const *t, size_t n)
{
	long long since = -1;

	if (updating && (since = time_of(us, "StartedAt")) > 0)
		return since;
	for (size_t i = 0; i < n; i++) {
		long long at = time_of(t[i], "CreatedAt");
		if (strcmp(task_state(t[i]), "running") != 0 && at > 0 &&
		    (since < 0 || at < since))
			since = at;
	}
	return since > 0 ? since : time_of(f->service, "UpdatedAt");
}

static void
count_tasks(const struct health_facts *f, const cJSON *const *t, size_t n,
    struct health_verdict *v, char *why, size_t size)
{
	const cJSON *mode = json_get(json_get(f->service, "Spec"), "Mode");
	const cJSON *rep = json_get(mode, "Replicated");

	*why = '\0';
	for (size_t i = 0; i < n; i++) {
		if (strcmp(task_state(t[i]), "running") == 0)
			v->running++;
		else if (*why == '\0')
			task_why(t[i], why, size);
	}
	if (rep != NULL)
		v->desired = json_get(rep, "Replicas") != NULL ?
		    (int)json_num(rep, "Replicas") : 1;
	else if (json_get(mode, "Global") != NULL)
		v->desired = (int)n;
	else	/* a job: its outcome is not a steady state */
		v->running = v->desired = 0;
}

void
health_service_judge(const struct health_facts *f, struct health_verdict *v)
{
	const cJSON *us = json_get(f->service, "UpdateStatus");
	const char *ust = json_str(us, "State");
	bool updating = ust != NULL && strcmp(ust, "updating") == 0;
	const cJSON *const *t;
	size_t n;
	char why[400], last[400], took[32], limit[32];
	long long since, first = -1;
	int failed;

	memset(v, 0, sizeof(*v));
	if (f->service == NULL) {
		v->state = HEALTH_MISSING;
		snprintf(v->why, sizeof(v->why), "not on the engine");
		return;
	}
	n = health_tasks_of(f->current, json_str(f->service, "ID"), &t);
	count_tasks(f, t, n, v, why, sizeof(why));
	if (gave_up(f, us, v) || stuck(t, n, v))
		return;
	if (!updating && v->running >= v->desired)
		return;
	since = awaited_since(f, us, updating, t, n);
	failed = failures(f, updating ? since : time_of(f->service,
	    "UpdatedAt"), &first, last, sizeof(last));
	v->state = HEALTH_PROGRESSING;
	if (failed >= HEALTH_FAILURES) {
		v->state = HEALTH_DEGRADED;
		snprintf(v->why, sizeof(v->why), "tasks keep failing (%d in "
		    "%s): %s", failed, span((f->now - first) * 1000, took,
		    sizeof(took)), last);
	} else if (since > 0 && (f->now - since) * 1000 > f->timeout_ms) {
		v->state = HEALTH_DEGRADED;
		snprintf(v->why, sizeof(v->why), "%d/%d running after %s "
		    "(sync_timeout %s)%s%s", v->running, v->desired,
		    span((f->now - since) * 1000, took, sizeof(took)),
		    span(f->timeout_ms, limit, sizeof(limit)),
		    *why || failed ? ": " : "", failed ? last : why);
	} else if (updating) {
		snprintf(v->why, sizeof(v->why), "updating: %s",
		    json_str(us, "Message") ? json_str(us, "Message") : "");
	} else {
		snprintf(v->why, sizeof(v->why), "%d/%d running%s%s",
		    v->running, v->desired, *why || failed ? ": " : "",
		    failed ? last : why);
	}
}

bool
health_service_wants_history(const struct health_verdict *v)
{
	return v->state == HEALTH_PROGRESSING;
}

/* The run a job's service or task is of: the engine counts them in
 * JobIteration and leaves the first one's Index out (0). */
static double
job_run(const cJSON *o)
{
	const cJSON *n = json_get(json_get(o, "JobIteration"), "Index");

	return cJSON_IsNumber(n) ? n->valuedouble : 0;
}

/* Of the job's current run? */
static bool
this_run(const cJSON *service, const cJSON *t)
{
	return job_run(json_get(service, "JobStatus")) == job_run(t);
}

double
health_job_completions(const cJSON *service)
{
	const cJSON *n = json_get(json_get(json_get(json_get(service, "Spec"),
	    "Mode"), "ReplicatedJob"), "TotalCompletions");

	return cJSON_IsNumber(n) ? n->valuedouble : 1;
}

enum health_job
health_job_judge(const cJSON *service, const cJSON *tasks, long long now,
    long long timeout_ms, char *why, size_t size)
{
	const cJSON *t;
	double want = health_job_completions(service);
	long long since = time_of(service, "UpdatedAt");
	int done = 0;
	char buf[400], d[32];

	*why = '\0';
	cJSON_ArrayForEach(t, tasks) {
		const char *st = task_state(t);
		if (!this_run(service, t))
			continue;
		if (strcmp(st, "complete") == 0)
			done++;
		else if (strcmp(st, "failed") == 0 ||
		    strcmp(st, "rejected") == 0) {
			snprintf(why, size, "%s", task_why(t, buf,
			    sizeof(buf)));
			return HEALTH_JOB_FAILED;
		}
	}
	if (done >= want)
		return HEALTH_JOB_DONE;
	if (since > 0 && timeout_ms > 0 && (now - since) * 1000 > timeout_ms) {
		snprintf(why, size, "did not finish within %s (%d of %g tasks "
		    "complete)", span(timeout_ms, d, sizeof(d)), done, want);
		return HEALTH_JOB_FAILED;
	}
	snprintf(why, size, "%d of %g tasks complete", done, want);
	return HEALTH_JOB_RUNNING;
}
