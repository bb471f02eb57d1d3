/*
 * reconciler_int.h - what the reconciler's files share: the observed
 * objects' accessors (accessors.c) and the planner, whose parts
 * are plan.c (changes, the order, the public calls), plan_objects.c
 * (networks, secrets and configs) and plan_services.c.
 */
#ifndef STACKD_RECONCILER_INT_H
#define STACKD_RECONCILER_INT_H

#include "reconciler.h"

#define NAME_MAX_SWARM 64

/* Networks keep Name/Id/Labels at the top, the others under Spec. */
/* An observed object of kind k as the informer keeps it (o is taken):
 * without what no part of stackd reads, which it would otherwise keep
 * for every service -- a service's PreviousSpec (a second full spec after
 * any update), Endpoint (the spec's EndpointSpec again, and the virtual
 * IPs) and CreatedAt -- and packed (json_keep): never changed after, only
 * replaced whole. */
cJSON *recon_obj_keep(enum engine_kind k, cJSON *o);
const char *recon_obj_name(enum engine_kind k, const cJSON *o);
const char *recon_obj_id(enum engine_kind k, const cJSON *o);
const cJSON *recon_obj_labels(enum engine_kind k, const cJSON *o);
const char *recon_obj_label(enum engine_kind k, const cJSON *o,
    const char *key);
/* The observed objects of kind k (the list as the engine gave it). */
const cJSON *recon_observed_list(const struct recon_observed *o,
    enum engine_kind k);

/* A digest of what the observed networks, secrets and configs are (names,
 * IDs, scopes): built with the index. */
#define RECON_ENV_LEN 16
void recon_observed_digest(const struct recon_observed *o,
    unsigned char out[RECON_ENV_LEN]);

/* One service's verdict, as verified.c remembers it (borrowed strings). */
struct recon_verified_key {
	const char *id;
	uint64_t version;
	uint64_t serial;		/* 0: never remembered */
	unsigned char env[RECON_ENV_LEN];
	const char *pin;		/* what the plan pins, "" = nothing */
};
bool recon_verified_hit(struct recon_verified *v,
    const struct recon_verified_key *k);
void recon_verified_put(struct recon_verified *v,
    const struct recon_verified_key *k);

/* What recon_service_pin would write for spec's image, as a string that
 * differs whenever the pinned image does ("" when it pins nothing). */
void recon_pin_key(const cJSON *spec, const cJSON *actual,
    const struct recon_options *opt, char *out, size_t len);

struct planner {
	const struct compose_stack *s;
	const struct recon_observed *obs;
	const struct recon_options *opt;	/* may be NULL */
	const char *owner;
	bool keep_replicas;
	bool no_prune;		/* the stack's policy: never remove */
	const cJSON *attempted;
	bool keep_file_objects;	/* removal: leave secrets and configs */
	struct recon_plan *p;
	cJSON *renames;		/* secret/config base name -> chosen name */
	cJSON *kept;		/* names of observed objects still wanted */
	unsigned char env[RECON_ENV_LEN];	/* for opt->verified */
	struct err *err;
};

/* The observed objects of kind k; of kind k named name (or NULL). */
const cJSON *plan_observed_list(const struct planner *pl, enum engine_kind k);
const cJSON *plan_find(const struct planner *pl, enum engine_kind k,
    const char *name);
/* Labelled with this stack and this owner: may be removed. */
bool plan_ours(const struct planner *pl, enum engine_kind k, const cJSON *o);

/* Append a change (taking spec and diffs, freed on failure). */
int plan_add_change(struct planner *pl, enum recon_action a,
    enum engine_kind k, const char *name, const cJSON *obs, cJSON *spec,
    cJSON *diffs);
void plan_free_changes(struct recon_plan *p);
/* An observed object still wanted (never removed). */
void plan_keep(struct planner *pl, const char *name);
bool plan_kept(const struct planner *pl, const char *name);
/* Labels = desired labels + owner (+ hash), replacing what was there. */
void plan_set_labels(const struct planner *pl, cJSON *labels,
    const char *hash);
/* First 12 hex digits of sha256(JSON of obj). */
void plan_hash_of(const cJSON *obj, char out[13]);

/* The parts of a plan, in the order plan_all runs them. */
int plan_networks(struct planner *pl);
int plan_file_objects(struct planner *pl);
int plan_services(struct planner *pl);
/* Remove what this owner has of the stack of kind k and no longer wants. */
int plan_removals(struct planner *pl, enum engine_kind k);

#endif
