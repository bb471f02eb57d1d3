/*
 * worker_int.h - an engine worker's insides, shared by worker.c (the
 * cycle), results.c (what each stack's result leaves behind),
 * engine_watch.c (the event stream that wakes it) and stack_status.c
 * (what a cycle reports per stack).
 */
#ifndef STACKD_WORKER_INT_H
#define STACKD_WORKER_INT_H

#include "daemon.h"
#include "health.h"

/* What a worker remembers of a stack between cycles. */
struct stack_mem {
	char *name;
	unsigned failures;	/* in a row */
	long long retry_at;	/* ms (monotonic): no apply before */
	char *error;		/* the last failure, or NULL */
	long long last_change;	/* unix time of the last write */
	char revision[65];	/* the revision deployed ("" = unknown) */
	/* As last reported, for the stacks that depend on it. */
	char state[16];
	enum health_state health;
};

struct ctl_worker {
	struct ctl_daemon *d;
	size_t idx;
	const struct engine_config *cfg;
	struct engine *e;	/* the worker's connection */
	struct engine *ev;	/* the events thread's */
	struct images_cache *images;	/* digests looked up on this engine */
	struct ctl_lease *lease;	/* NULL: lease.enabled is false */
	pthread_t thread, ev_thread;
	bool running, ev_running;
	atomic_int stop;	/* both threads end */
	atomic_int reread;	/* read every stack again (SIGHUP) */
	atomic_int tasks_stale;	/* a node event: list the tasks again */
	pthread_mutex_t mu;	/* guards due and own */
	pthread_cond_t cv;
	long long due;		/* ms (monotonic): the next cycle */
	cJSON *own;		/* {"object name": ms written} */
	/* The worker thread's alone: */
	struct ctl_loads *loads;	/* stacks converted per revision */
	struct recon_verified *verified;	/* services needing no diff */
	struct recon_informer *informer;	/* the engine's objects */
	cJSON *tasks;		/* the last tasks listed, and when */
	long long tasks_at;
	cJSON *history;		/* of the services then in flight */
	bool settled;		/* the last cycle wrote nothing, saw nothing
				 * progressing, did not fail */
	cJSON *attempted;	/* recon_options.attempted */
	cJSON *depends;		/* ctl_pass.depends */
	cJSON *hooks_done;	/* ctl_pass.hooks_done */
	struct stack_mem *mem;
	size_t nmem;
	unsigned long generation;	/* of the snapshot last seen */
	unsigned long pushes_seen;	/* ctl_state.npushes, last cycle */
	long long retry_ms;	/* engine unreachable: next try */
	bool up;		/* the last cycle reached the engine */
	unsigned seed;
	char *syncs_dir;	/* where its sync history is kept */
};

/* One cycle's working set. */
struct cycle {
	struct ctl_worker *w;
	const char *engine;
	struct sources_snapshot **snaps;	/* per source; NULL: not read */
	const char **names;		/* the sources' names */
	bool *webhook;		/* each snapshot came of a webhook's fetch */
	struct recon_observed obs;	/* the informer's, borrowed */
	cJSON *tasks;		/* tasks meant to run (w->tasks) */
	bool tasks_listed;	/* this cycle, not kept */
	struct health_tasks *current;	/* c->tasks by service */
	struct health_tasks *history;	/* w->history by service */
	unsigned long task_reads;	/* calls for the history */
	unsigned long sync_hist[CTL_BUCKETS + 1];	/* applies' times */
	double sync_sum;
	cJSON *stacks;		/* the status being built */
	unsigned long writes[3][4];
	unsigned long drift;
	double observe_secs;	/* the list calls took */
	bool progressing;	/* look again soon */
	bool failed;
	bool source_error;
};

/* A settled engine's tasks are listed at least this often. */
#define CTL_TASKS_SETTLED_MS (60 * 1000)

/* A converted stack is kept this long for its revision; then files from
 * outside the source (vars named with ../) are read again. */
#define CTL_LOADS_REFRESH_MS (10 * 60 * 1000)

/* An object the worker wrote this recently may still have echoes of its
 * writes to come: w->own["KIND NAME"] = {"at": ms, "echoes": n}. */
#define OWN_WRITE_MS 3000
void ctl_own_key(char *out, size_t size, const char *kind, const char *name);

/* A failed stack is tried again after 1 s, then twice as long each time. */
#define RETRY_MIN_MS 1000

/* ctl_pass callbacks, with the cycle as payload (results.c): may this
 * stack's plan be written now, are the stacks it depends on synced and
 * healthy, and a stack's result. */
bool ctl_worker_may_apply(const struct recon_plan *plan, void *payload);
bool ctl_worker_ready(const cJSON *deps, void *payload, char *why,
    size_t size);
void ctl_worker_result(const struct ctl_result *r, void *payload);

/* Wake the worker within delay_ms (sooner if already due sooner). */
void ctl_worker_wake(struct ctl_worker *w, long long delay_ms);
/* The events thread. */
void *ctl_events_main(void *arg);
/* The tasks health is judged from (task_history.c): c->current, and
 * c->history read for the services in flight; _done frees both. */
void ctl_task_history_read(struct ctl_worker *w, struct cycle *c);
void ctl_task_history_done(struct cycle *c);
/* The sync history (sync_history.c): load w's from the state directory
 * into its engine's state (ctl_engine_state.syncs), before its threads
 * start; record a stack's result (msg: its error as shown, or NULL) if
 * it wrote or failed, before ctl_stack_status_add moves m->revision. */
void ctl_sync_history_open(struct ctl_worker *w);
/* The first n changes of p: [{action, kind, name, drift, fields}], the
 * fields as paths without list indexes, never values. */
cJSON *ctl_changes_json(const struct recon_plan *p, size_t n);
void ctl_sync_history_record(struct cycle *c, const struct ctl_result *r,
    const struct stack_mem *m, const char *msg);
/* Add r's stack to c->stacks: state, services, errors. */
void ctl_stack_status_add(struct cycle *c, const struct ctl_result *r,
    struct stack_mem *m);
/* Move into stacks (a cycle's, about to replace old, the state's) the
 * reports of old that stacks holds references to (the unchanged ones);
 * under the state lock. */
void ctl_stack_status_adopt(cJSON *stacks, cJSON *old);

#endif
