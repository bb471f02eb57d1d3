/*
 * daemon.h - the daemon room (daemon/): the `stackd run` process, its
 * lifecycle (signals, reload), its threads (one worker and one event
 * watch per engine, one watcher per source, the notifier) and the state
 * they publish.
 *
 * struct ctl_state is the one document between the daemon and the status
 * room: the workers write their engine's part, the source threads their
 * source's part, the status server only reads, all under ctl_state.mu
 * (which is never held across engine or registry calls).  What is set
 * before the status server starts is read without the lock.
 */
#ifndef STACKD_DAEMON_H
#define STACKD_DAEMON_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "controller.h"
#include "engine.h"
#include "images.h"
#include "reconciler.h"
#include "sandbox.h"
#include "sources.h"

/* `stackd run`. */
int daemon_cmd_run(int argc, char **argv);

/* Reconcile durations, seconds: Prometheus histogram buckets. */
#define CTL_BUCKETS 10
extern const double ctl_buckets[CTL_BUCKETS];
/* The bucket secs falls in (CTL_BUCKETS: above the last bound). */
size_t ctl_bucket_of(double secs);

/*
 * The writer's lease on an engine (lease.c): a thread of its own renews
 * it or, as a standby, watches it and takes over once it was left
 * unrenewed for a TTL.  on_change (from that thread) when this instance
 * wins or loses it.  ctl_lease_held is true while this instance may
 * write (always for NULL: no lease).  stop gives a held lease up.
 */
#define CTL_LEASE_TTL_MS 15000
struct ctl_lease;
struct ctl_lease_status {
	bool enabled, held;
	char holder[300];	/* this instance or the other, HOST/PID */
	long long since;	/* unix time the holder acquired it */
	char problem[ERR_MSG_MAX];	/* the last read or write failure */
};
int ctl_lease_start(struct ctl_lease **out, const struct engine_config *cfg,
    const char *owner, long long ttl_ms, void (*on_change)(void *arg),
    void *arg, struct err *err);
bool ctl_lease_held(struct ctl_lease *l);
void ctl_lease_status(struct ctl_lease *l, struct ctl_lease_status *out);
void ctl_lease_stop(struct ctl_lease *l, bool give_up);

/* What one engine worker reports; guarded by ctl_state.mu. */
struct ctl_engine_state {
	const char *name;	/* borrowed from the config */
	const char *host;	/* the preferred address */
	char *address;		/* the address in use */
	long long address_since;	/* unix time it took over; 0: never */
	unsigned long failovers;
	char *failover;		/* why the last failover happened */
	struct ctl_lease_status lease;
	bool reachable;
	bool reached;		/* at least once */
	char api_version[16];
	char *error;		/* last cycle's engine error, or NULL */
	long long last_cycle;	/* unix time */
	double last_duration;
	double last_observe;	/* of it, the engine's list calls */
	unsigned long cycles;
	unsigned long failed_cycles;
	unsigned long hist[CTL_BUCKETS + 1];
	double hist_sum;
	struct engine_counters calls;
	struct images_stats images;	/* digest lookups */
	/* What a cycle did not redo: stacks converted once per revision,
	 * services not diffed again (hits, misses, kept). */
	unsigned long loads[2];
	size_t loads_kept;
	struct recon_verified_stats verified;
	struct recon_informer_stats informer;	/* how cycles observed */
	unsigned long task_reads;	/* task lists for health's history */
	/* Stacks' applies (their writes), over ctl_buckets. */
	unsigned long sync_hist[CTL_BUCKETS + 1];
	double sync_sum;
	unsigned long writes[3][4];	/* recon_action x engine_kind */
	unsigned long drift;		/* drift corrections */
	unsigned long events;		/* engine events that woke it */
	cJSON *stacks;	/* {"name": {state, revision, ...}} */
	/* {"name": [operation, ...]}: each stack's last CTL_SYNCS writes
	 * or failures, newest first (sync_history.c). */
	cJSON *syncs;
};

/* Sync operations kept per stack and engine. */
#define CTL_SYNCS 50

struct ctl_source_state {
	char *name;
	const char *kind;	/* "dir" or "git" */
	char *location;		/* never with credentials */
	struct sources_snapshot *snap;	/* in force; NULL before the first */
	size_t nstacks;		/* its stacks: listed, or else discovered */
	char *error;		/* last read failed: why */
	long long last_read;	/* unix time */
	unsigned long snapshots;
	unsigned long errors;
	struct sources_git_stats git;	/* git sources */
	/* Webhook deliveries: accepted (a fetch was triggered), ignored
	 * (signed, but not a push), refused (bad or no signature, bad
	 * request). */
	unsigned long hooks_accepted, hooks_ignored, hooks_refused;
	/* The snapshot in force was fetched after a webhook came in. */
	bool by_webhook;
	unsigned long hooks_seen;	/* hooks_accepted at the last fetch */
	bool fetch_sandbox_said;	/* its fetch sandbox's gaps, logged */
	/* Set before the status server starts, then only read:
	 * sources_trigger is thread-safe. */
	char *webhook_secret;		/* NULL: no webhook route */
	struct sources_source *src;
	pthread_t thread;		/* its watcher */
	bool watching;
};

/* A registry push the workers have to hear of (the registry webhook). */
#define CTL_PUSHES 64
struct ctl_push {
	char host[256];		/* the registry, "127.0.0.1:5000" */
	char repository[256];	/* "app", "team/app" */
};

/* The status server's process, as its supervisor (status/) sees it;
 * guarded by ctl_state.mu. */
struct ctl_sandbox_state {
	bool enabled;		/* false: --no-sandbox */
	long pid;		/* the one serving now, 0: none */
	unsigned long starts;	/* processes started, the first included */
	bool reported;		/* report is the running one's */
	struct sandbox_report report;
	char last_exit[ERR_MSG_MAX + 128];	/* how the last one ended, or "" */
};

struct ctl_state {
	pthread_mutex_t mu;
	/* Bumped by each change of what the status documents show
	 * (ctl_state_unlock): the status server renders them again. */
	unsigned long changes;
	/* Bumped by each change of an engine's stacks or syncs: only then
	 * are the per-stack documents rendered again. */
	unsigned long stack_changes;
	struct ctl_sandbox_state sandbox;
	long long started;
	char *token;		/* status bearer token, or NULL */
	struct ctl_engine_state *engines;
	size_t nengines;
	struct ctl_source_state *sources;	/* as the config's */
	size_t nsources;
	unsigned long generation;	/* bumped with each new snapshot */
	struct ctl_notifier *notifier;	/* NULL: none configured */
	/* Set before the status server starts, then only read: */
	char *registry_secret;	/* the registry webhook's bearer token,
				 * NULL: no such route */
	int wake_fd;		/* a write wakes every worker */
	/* Registry pushes, a ring: push i is pushes[i % CTL_PUSHES]. */
	struct ctl_push pushes[CTL_PUSHES];
	unsigned long npushes;		/* ever received */
	unsigned long registry_hooks[2];	/* accepted, refused */
};

/* Release st->mu after a change the status documents show. */
void ctl_state_unlock(struct ctl_state *st);

/* Record a registry push (takes st->mu) and wake the workers. */
void ctl_state_push(struct ctl_state *st, const char *host,
    const char *repository);

/*
 * Outgoing notifications (notify.c): a JSON document POSTed to
 * c->notify_url when a stack's result on an engine changes (synced <->
 * failed), retried, from a thread of its own.  compare runs under the
 * state lock with a cycle's stacks document and never blocks.
 */
struct ctl_notifier;
int ctl_notifier_start(struct ctl_notifier **out, const struct ctl_config *c,
    struct err *err);
void ctl_notifier_compare(struct ctl_notifier *n, const char *engine,
    const cJSON *stacks);
void ctl_notifier_stats(struct ctl_notifier *n, unsigned long *sent,
    unsigned long *failed, unsigned long *dropped);
void ctl_notifier_stop(struct ctl_notifier *n);

/* One engine: its worker thread and its events thread. */
struct ctl_worker;

struct ctl_daemon {
	struct ctl_config *cfg;
	struct ctl_state st;
	struct ctl_worker **workers;
	size_t nworkers;
	bool leaving;		/* stopping for good: leases are given up */
	/* {"engine": its worker's ctl_pass.depends}: what each stack last
	 * named in depends_on outlives a reload, so that stacks a new
	 * config drops are still removed dependents first.  The main
	 * thread's, handed over while the workers are stopped. */
	cJSON *depends;
};

/* Open every source of d->cfg into d->st.sources (name, kind, location,
 * webhook secret).  A git fetch gives up when *cancel is set. */
int ctl_sources_open(struct ctl_daemon *d, const atomic_int *cancel,
    struct err *err);
/* One thread per source until *stop: each publishes what it reads into
 * the state and writes to wake_fd (an eventfd) when the engine workers
 * should look.  The threads block every signal. */
int ctl_sources_watch(struct ctl_daemon *d, int wake_fd,
    const atomic_int *stop, struct err *err);
/* Join the threads (after *stop) and free the sources' state. */
void ctl_sources_close(struct ctl_state *st);

int ctl_worker_start(struct ctl_worker **out, struct ctl_daemon *d,
    size_t index, struct err *err);
/* Wake the worker for a cycle now (new snapshot, reload, signal). */
void ctl_worker_kick(struct ctl_worker *w);
/* Kick, and read every stack's files again first (SIGHUP). */
void ctl_worker_reread(struct ctl_worker *w);
/* Ends both threads (after the cycle in flight) and frees the worker. */
void ctl_worker_join(struct ctl_worker *w);

#endif
