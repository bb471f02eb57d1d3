/*
 * reconciler.h - observe an engine, diff it against a stack's desired
 * objects, plan the changes, apply them in order.
 *
 * A cycle with nothing to change makes no write: desired and actual specs
 * are compared field by field (what the engine fills in must be its
 * default), and only differences become requests.
 */
#ifndef STACKD_RECONCILER_H
#define STACKD_RECONCILER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "compose.h"
#include "engine.h"
#include "err.h"
#include "images.h"

/* Labels stackd puts on what it writes, so that ownership survives a
 * restart or a replacement controller (nothing is kept on local disk). */
#define RECON_LABEL_OWNER "com.stackd.owner"
#define RECON_LABEL_HASH "com.stackd.spec-hash"
#define RECON_LABEL_NS "com.docker.stack.namespace"
/* On a hook service: the hook key of the stack it last ran for. */
#define RECON_LABEL_HOOK "com.stackd.hook-key"

struct recon_options {
	const char *owner;	/* owner label value; NULL = "stackd" */
	bool keep_replicas;	/* deploy.replicas omitted: leave the
				 * engine's count alone (default: manage) */
	/* {"service": "spec hash"} this process last sent, or NULL.  The
	 * engine forgets a rolled-back spec (it clears PreviousSpec), so
	 * only the caller can tell that a rollback was of the spec it would
	 * send again; then the service is held instead of re-updated. */
	const cJSON *attempted;
	/* A stack that left the source: also remove its secrets and configs
	 * (default: keep them, they may hold what cannot be recreated). */
	bool prune_secrets;
	/* The stack's policy "prune: false": what left its files stays on
	 * the engine (services, networks, secrets, configs, and secrets and
	 * configs replaced by a rotation); only creates and updates. */
	bool no_prune;
	/* How images are pinned (--resolve-image), from what images holds
	 * (looked up by the caller first: recon_stack_resolve).  NULL
	 * images: as "never". */
	enum images_mode resolve;
	struct images_cache *images;
	/* The services found needing nothing in earlier cycles, or NULL
	 * (every service is diffed in full). */
	struct recon_verified *verified;
};

/*
 * What a worker remembers of the services its plans found needing
 * nothing: per engine ID, the service's Version.Index, the load of the
 * desired stack (compose_stack.serial), the image the plan would pin and
 * a digest of everything else the plan reads (the observed networks,
 * secrets and configs, the stack's chosen secret and config names, the
 * options).  While all are the same the service is not diffed again: the
 * engine raises the version at every change of a service, drift and the
 * progress of an update included.  A service whose plan left a note (an
 * unpinned image, a paused or rolled-back update) is never remembered.
 * An entry stands for period_ms, then the service is diffed in full.
 * One worker's: not for sharing between threads.
 */
#define RECON_VERIFY_MS (10 * 60 * 1000LL)
struct recon_verified;
struct recon_verified *recon_verified_new(long long period_ms);
void recon_verified_free(struct recon_verified *v);
/* The end of a cycle: what it did not plan is forgotten. */
void recon_verified_sweep(struct recon_verified *v);
/* Everything is diffed in full again (SIGHUP). */
void recon_verified_forget(struct recon_verified *v);
struct recon_verified_stats {
	unsigned long hits;	/* services planned without a diff */
	unsigned long misses;	/* diffed in full */
	size_t entries;
};
void recon_verified_stats(const struct recon_verified *v,
    struct recon_verified_stats *out);

/* What one engine holds: four list calls, and an index by name. */
struct recon_index;

struct recon_observed {
	cJSON *services;
	cJSON *networks;
	cJSON *secrets;
	cJSON *configs;
	struct recon_index *index;
};

int recon_observe(struct recon_observed *out, struct engine *e,
    struct err *err);
/* (Re)build the index, for observed state made some other way (tests). */
int recon_observed_index(struct recon_observed *o, struct err *err);
/* The observed object of kind named name, or NULL.  Borrowed. */
const cJSON *recon_observed_find(const struct recon_observed *o,
    enum engine_kind kind, const char *name);
/* The observed objects of kind labelled with stack: *out[0..n-1]. */
size_t recon_observed_stack(const struct recon_observed *o,
    enum engine_kind kind, const char *stack, const cJSON *const **out);
void recon_observed_release(struct recon_observed *o);

/*
 * An engine's objects kept from one cycle to the next, as Kubernetes
 * informers keep theirs: listed in full once the event stream is taken
 * (recon_informer_stream(inf, true)) and every resync_ms, and in between
 * only the objects an event named (recon_informer_touch) are inspected
 * again.  So a cycle on a quiet engine costs no call.  Without a stream
 * (never taken, or dropped) every observe lists in full.  stream and
 * touch are for the event thread; observe and stats for the worker.
 */
#define RECON_RESYNC_MS (10 * 60 * 1000LL)
struct recon_informer;
struct recon_informer *recon_informer_new(long long resync_ms);
void recon_informer_free(struct recon_informer *inf);
/* The stream was taken (open) or lost: everything is listed next. */
void recon_informer_stream(struct recon_informer *inf, bool open);
/* Everything is listed at the next observe (after the caller's writes). */
void recon_informer_expire(struct recon_informer *inf);
/* An event named object id of kind k (services, networks, secrets,
 * configs; other kinds are ignored). */
void recon_informer_touch(struct recon_informer *inf, enum engine_kind k,
    const char *id);
/* Bring inf up to date on e and lend its objects: *out is inf's own, valid
 * until the next observe or the free, and never released by the caller. */
int recon_informer_observe(struct recon_informer *inf, struct engine *e,
    struct recon_observed *out, struct err *err);
struct recon_informer_stats {
	unsigned long lists;	/* full lists (four calls each) */
	unsigned long events;	/* observes that inspected what events named */
	unsigned long inspects;	/* objects inspected so */
	unsigned long quiet;	/* observes that needed no call */
};
void recon_informer_stats(struct recon_informer *inf,
    struct recon_informer_stats *out);

enum recon_action {
	RECON_CREATE,
	RECON_UPDATE,
	RECON_REMOVE,
};

struct recon_change {
	enum recon_action action;
	enum engine_kind kind;
	char *name;
	char *id;		/* update/remove: the existing object */
	uint64_t version;	/* update: the version observed */
	cJSON *spec;		/* create/update: the request body */
	cJSON *diffs;		/* update: ["path: old -> new", ...] */
	bool drift;		/* update of a spec stackd wrote and someone
				 * changed since (not a source change) */
	const char *hook;	/* "pre-sync", "post-sync" or NULL (static) */
};

struct recon_plan {
	char *stack;
	struct recon_change *changes;
	size_t n;
	cJSON *held;	/* ["service: why it is left alone", ...] */
	cJSON *notes;	/* rollout states worth a look, not changes */
	/* The stack's hooks (x-stackd-hook), never among the changes: each
	 * as the change that runs it now (a create, or an update with
	 * ForceUpdate one up), labelled RECON_LABEL_HOOK = hook_key, the
	 * key of the stack's desired services.  NULL: no hook. */
	struct recon_plan *hooks;
	char hook_key[13];
};

/*
 * The changes that bring the observed engine to the desired stack, in the
 * order they must be applied.  Prunes only objects of this stack that
 * carry this owner's label.
 */
int recon_plan_stack(struct recon_plan **out, const struct compose_stack *s,
    const struct recon_observed *obs, const struct recon_options *opt,
    struct err *err);
void recon_plan_free(struct recon_plan *p);

/* Look up, on engine e (images_cache_resolve), the images of s's services
 * that the plan will pin, each once: what a caller does before
 * recon_plan_stack.  0 with nothing to look up (opt->images NULL). */
int recon_stack_resolve(const struct compose_stack *s,
    const struct recon_observed *obs, const struct recon_options *opt,
    struct engine *e, struct err *err);

/* Set a service's image (and its platforms) as the CLI does, from
 * opt->images; why an image stays unpinned goes to notes (pins.c). */
void recon_service_pin(cJSON *spec, const cJSON *actual,
    const struct recon_options *opt, cJSON *notes);

/* An ingress port the stack publishes twice, or that a service outside
 * the stack already publishes: ERR_CONFLICT naming both (ports.c).
 * recon_plan_stack checks it before planning anything. */
int recon_ports_check(const struct compose_stack *s,
    const struct recon_observed *obs, struct err *err);

/* Remove what this owner has of stack (it left the source): services and
 * networks, and secrets and configs only with opt->prune_secrets. */
int recon_plan_removal(struct recon_plan **out, const char *stack,
    const struct recon_observed *obs, const struct recon_options *opt,
    struct err *err);

/* Does o (of kind k) carry owner's label (NULL owner = "stackd")? */
bool recon_object_owned(enum engine_kind k, const cJSON *o,
    const char *owner);

/* Names of the stacks with objects labelled as this owner's (array,
 * sorted). */
cJSON *recon_observed_stacks(const struct recon_observed *obs,
    const char *owner);

/* Add {"service": "spec hash"} for every service the first n changes of
 * the plan write, for recon_options.attempted of later cycles. */
void recon_plan_attempted(const struct recon_plan *p, size_t n,
    cJSON *attempted);

/* An object's Version.Index, or 0 when it has none that is valid. */
uint64_t recon_object_version(const cJSON *o);

/* Nothing to change and nothing held back. */
bool recon_plan_in_sync(const struct recon_plan *p);

/* Human text (one line per change, indented field differences). */
void recon_plan_print(const struct recon_plan *p, FILE *f);
/* {"stack": ..., "changes": [{"action","kind","name","diffs"}]} */
cJSON *recon_plan_json(const struct recon_plan *p);

struct recon_stats {
	unsigned creates;
	unsigned updates;
	unsigned removes;
	unsigned retries;	/* "update out of sequence" retried */
	size_t done;		/* the first `done` changes were made */
	double seconds;		/* the writes took */
};

/* Apply every change in order; stops at the first failure, which is
 * then change number stats->done of the plan. */
int recon_apply(struct engine *e, const struct recon_plan *p,
    struct recon_stats *stats, struct err *err);

/*
 * Compare desired with actual: every field of desired must be equal in
 * actual, and every field only actual has must be an engine default.
 * Appends "path: old -> new" strings to diffs (if not NULL).  Returns the
 * number of differences.  Exposed for tests.
 */
int recon_diff(const cJSON *desired, const cJSON *actual, const char *path,
    cJSON *diffs);

#endif
