/*
 * task_history.c - the tasks a cycle reads to judge health: the tasks
 * meant to run (listed by observe, grouped here by service), and for the
 * services those alone show in flight, their tasks of any state, whose
 * failures tell a start from a crash loop.
 *
 * The second read is one call per HISTORY_BATCH such services, and none
 * at all when every service is where it should be: a healthy fleet costs
 * what it cost before health was judged.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "worker_int.h"

/* Service IDs per call: each is 25 bytes of the URL. */
#define HISTORY_BATCH 64

/* Judged without failures and with no deadline: in flight or not. */
static bool
in_flight(const struct cycle *c, const cJSON *svc)
{
	struct health_facts f = { .service = svc, .current = c->current,
	    .now = (long long)time(NULL), .timeout_ms = LLONG_MAX / 4 };
	struct health_verdict v;

	health_service_judge(&f, &v);
	if (!health_service_wants_history(&v))
		return false;
	log_event(LOG_DEBUG, c->engine, NULL, json_str(json_get(svc, "Spec"),
	    "Name"), "reading its tasks: %s", v.why);
	return true;
}

static int
read_batch(struct ctl_worker *w, cJSON *filters, cJSON *into,
    struct err *err)
{
	cJSON *got = NULL, *t;
	int rc;

	rc = engine_object_list(w->e, ENGINE_TASK, filters, &got, err);
	while (rc == 0 && (t = cJSON_DetachItemFromArray(got, 0)) != NULL)
		cJSON_AddItemToArray(into, t);
	cJSON_Delete(got);
	return rc;
}

/* The history of the services in flight, into w->history. */
static void
read_history(struct ctl_worker *w, struct cycle *c)
{
	cJSON *hist = cJSON_CreateArray(), *filters = NULL;
	const cJSON *svc;
	struct err err;
	int batch = 0, rc = 0;

	cJSON_ArrayForEach(svc, c->obs.services) {
		if (rc < 0 || !in_flight(c, svc))
			continue;
		engine_filter_add(&filters, "service", json_str(svc, "ID"));
		if (++batch == HISTORY_BATCH) {
			rc = read_batch(w, filters, hist, &err);
			c->task_reads++;
			cJSON_Delete(filters);
			filters = NULL;
			batch = 0;
		}
	}
	if (rc == 0 && batch > 0) {
		rc = read_batch(w, filters, hist, &err);
		c->task_reads++;
	}
	cJSON_Delete(filters);
	cJSON_Delete(w->history);
	w->history = hist;
	/* Judged without failures then: in flight, not degraded. */
	if (rc < 0)
		log_event(LOG_WARN, c->engine, NULL, NULL, "reading the tasks "
		    "of services in flight: %s", err.msg);
}

void
ctl_task_history_read(struct ctl_worker *w, struct cycle *c)
{
	c->current = health_tasks_index(c->tasks);
	/* Tasks kept from an earlier cycle keep their history too. */
	if (c->tasks_listed || w->history == NULL)
		read_history(w, c);
	c->history = health_tasks_index(w->history);
}

void
ctl_task_history_done(struct cycle *c)
{
	health_tasks_free(c->current);
	health_tasks_free(c->history);
	c->current = c->history = NULL;
}
