/*
 * plan.c - from a desired stack and an observed engine to an ordered list
 * of changes.
 *
 * Order: networks, then secrets and configs are created (or labelled),
 * services are removed, updated (those giving up published ports first) and
 * created, and last networks, secrets and configs no longer used are
 * removed.  Only objects labelled with this stack and this owner are ever
 * removed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "reconciler.h"
#include "json.h"

#define NAME_MAX_SWARM 64

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
	struct err *err;
};

/* --- observed objects ------------------------------------------------ */

/* Networks keep Name/Id/Labels at the top, the others under Spec. */
static const char *
obj_name(enum engine_kind k, const cJSON *o)
{
	return k == ENGINE_NETWORK ? json_str(o, "Name") : json_str(json_get(o, "Spec"),
	    "Name");
}

static const char *
obj_id(enum engine_kind k, const cJSON *o)
{
	return json_str(o, k == ENGINE_NETWORK ? "Id" : "ID");
}

static const cJSON *
obj_labels(enum engine_kind k, const cJSON *o)
{
	return k == ENGINE_NETWORK ? json_get(o, "Labels") : json_get(json_get(o, "Spec"),
	    "Labels");
}

static const char *
label(enum engine_kind k, const cJSON *o, const char *key)
{
	return json_str(obj_labels(k, o), key);
}

static const cJSON *
observed_list(const struct planner *pl, enum engine_kind k)
{
	switch (k) {
	case ENGINE_SERVICE:
		return pl->obs->services;
	case ENGINE_NETWORK:
		return pl->obs->networks;
	case ENGINE_SECRET:
		return pl->obs->secrets;
	default:
		return pl->obs->configs;
	}
}

static const cJSON *
find(const struct planner *pl, enum engine_kind k, const char *name)
{
	return recon_observed_find(pl->obs, k, name);
}

bool
recon_object_owned(enum engine_kind k, const cJSON *o, const char *owner)
{
	const char *who = label(k, o, RECON_LABEL_OWNER);

	return who != NULL && strcmp(who, owner ? owner : "stackd") == 0;
}

static bool
ours(const struct planner *pl, enum engine_kind k, const cJSON *o)
{
	const char *ns = label(k, o, RECON_LABEL_NS);

	return ns != NULL && strcmp(ns, pl->s->name) == 0 &&
	    recon_object_owned(k, o, pl->owner);
}

uint64_t
recon_object_version(const cJSON *o)
{
	const cJSON *v = json_get(json_get(o, "Version"), "Index");

	/* A version is a non-negative integer; anything else (a reply
	 * gone wrong) is 0, which the engine refuses as out of sequence. */
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) ||
	    v->valuedouble > 9007199254740992.0)
		return 0;
	return (uint64_t)v->valuedouble;
}

/* --- changes --------------------------------------------------------- */

static void
free_changes(struct recon_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->changes[i].name);
		free(p->changes[i].id);
		cJSON_Delete(p->changes[i].spec);
		cJSON_Delete(p->changes[i].diffs);
	}
	free(p->changes);
	p->changes = NULL;
	p->n = 0;
}

static int
add_change(struct planner *pl, enum recon_action a, enum engine_kind k,
    const char *name, const cJSON *obs, cJSON *spec, cJSON *diffs)
{
	struct recon_plan *p = pl->p;
	struct recon_change *c;

	c = realloc(p->changes, (p->n + 1) * sizeof(*c));
	if (c == NULL)
		goto nomem;
	p->changes = c;
	c = &p->changes[p->n];
	memset(c, 0, sizeof(*c));
	c->action = a;
	c->kind = k;
	c->spec = spec;
	c->diffs = diffs;
	if ((c->name = strdup(name)) == NULL)
		goto nomem;
	if (obs != NULL) {
		if ((c->id = strdup(obj_id(k, obs))) == NULL)
			goto nomem;
		c->version = recon_object_version(obs);
	}
	p->n++;
	return 0;
nomem:
	cJSON_Delete(spec);
	cJSON_Delete(diffs);
	return err_set(pl->err, ERR_NOMEM, "out of memory");
}

static void
keep(struct planner *pl, const char *name)
{
	cJSON_AddItemToArray(pl->kept, cJSON_CreateString(name));
}

static bool
kept(const struct planner *pl, const char *name)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, pl->kept)
		if (strcmp(it->valuestring, name) == 0)
			return true;
	return false;
}

/* Labels = desired labels + owner (+ hash), replacing what was there. */
static void
set_labels(const struct planner *pl, cJSON *labels, const char *hash)
{
	cJSON_DeleteItemFromObjectCaseSensitive(labels, RECON_LABEL_OWNER);
	cJSON_AddStringToObject(labels, RECON_LABEL_OWNER, pl->owner);
	if (hash != NULL) {
		cJSON_DeleteItemFromObjectCaseSensitive(labels,
		    RECON_LABEL_HASH);
		cJSON_AddStringToObject(labels, RECON_LABEL_HASH, hash);
	}
}

/* First 12 hex digits of sha256(JSON of obj). */
static void
hash_of(const cJSON *obj, char out[13])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	char *text = cJSON_PrintUnformatted(obj);

	EVP_Digest(text ? text : "", text ? strlen(text) : 0, md, &len,
	    EVP_sha256(), NULL);
	for (int i = 0; i < 6; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	cJSON_free(text);
}

/* --- networks -------------------------------------------------------- */

/* A network whose driver or flags changed in the file stays as it is:
 * say so, since the change will never be applied. */
static void
network_changed(struct planner *pl, const cJSON *desired,
    const cJSON *actual)
{
	static const char *const keys[] = { "Driver", "Attachable",
	    "Internal" };
	cJSON *want = cJSON_CreateObject(), *have = cJSON_CreateObject();
	cJSON *diffs = cJSON_CreateArray();
	const cJSON *v;
	char line[768];

	/* Only these keys: everything else of a network is the engine's. */
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if ((v = json_get(desired, keys[i])) != NULL)
			cJSON_AddItemToObject(want, keys[i],
			    cJSON_Duplicate(v, true));
		if ((v = json_get(actual, keys[i])) != NULL)
			cJSON_AddItemToObject(have, keys[i],
			    cJSON_Duplicate(v, true));
	}
	if (recon_diff(want, have, "", diffs) > 0) {
		char *what = cJSON_PrintUnformatted(diffs);
		snprintf(line, sizeof(line), "network %s: changed in the file "
		    "%s, but a network cannot be updated in place; it stays "
		    "as it is until the stack is removed and deployed again",
		    json_str(desired, "Name"), what ? what : "");
		cJSON_AddItemToArray(pl->p->notes, cJSON_CreateString(line));
		free(what);
	}
	cJSON_Delete(want);
	cJSON_Delete(have);
	cJSON_Delete(diffs);
}

static int
plan_networks(struct planner *pl)
{
	const cJSON *d, *actual;
	cJSON *spec;
	int rc;

	cJSON_ArrayForEach(d, pl->s->external_networks)
		if (find(pl, ENGINE_NETWORK, d->valuestring) == NULL)
			return err_set(pl->err, ERR_NOTFOUND, "stack %s: network "
			    "\"%s\" is declared as external, but could not be "
			    "found", pl->s->name, d->valuestring);
	cJSON_ArrayForEach(d, pl->s->networks) {
		const char *name = json_str(d, "Name");

		keep(pl, name);
		/* Networks cannot be updated; an existing one is used as
		 * it is, as docker stack deploy does, but not silently. */
		if ((actual = find(pl, ENGINE_NETWORK, name)) != NULL) {
			network_changed(pl, d, actual);
			continue;
		}
		spec = cJSON_Duplicate(d, true);
		set_labels(pl, json_get(spec, "Labels") ? (cJSON *)json_get(spec,
		    "Labels") : cJSON_AddObjectToObject(spec, "Labels"), NULL);
		if ((rc = add_change(pl, RECON_CREATE, ENGINE_NETWORK, name,
		    NULL, spec, NULL)) < 0)
			return rc;
	}
	return 0;
}

/* --- secrets and configs --------------------------------------------- */

/*
 * Secret and config data is immutable.  Each content gets its own object:
 * the plain name (as docker stack deploy names it) while that is free or
 * holds the same content, else "<name>_<hash>".  Services switch to the
 * new one; the old one is removed once nothing uses it.
 */
static int
plan_file_object(struct planner *pl, enum engine_kind k, const cJSON *d)
{
	const char *base = json_str(d, "Name"), *h;
	char hash[13], name[NAME_MAX_SWARM + 1];
	const cJSON *o, *found = NULL;
	cJSON *content, *spec, *labels;

	/* The content: data, driver, templating; not names or labels. */
	content = cJSON_Duplicate(d, true);
	cJSON_DeleteItemFromObjectCaseSensitive(content, "Name");
	cJSON_DeleteItemFromObjectCaseSensitive(content, "Labels");
	hash_of(content, hash);
	cJSON_Delete(content);
	snprintf(name, sizeof(name), "%.*s_%s", NAME_MAX_SWARM - 13, base,
	    hash);
	cJSON_ArrayForEach(o, observed_list(pl, k)) {
		const char *n = obj_name(k, o);
		h = label(k, o, RECON_LABEL_HASH);
		if (n && h && strcmp(h, hash) == 0 && (strcmp(n, base) == 0 ||
		    strcmp(n, name) == 0))
			found = o;
	}
	/* Adoption: made by docker stack deploy, so no hash label.  A
	 * config's data can be checked; a secret's cannot be read back and
	 * is taken to match its file (see docs). */
	if (found == NULL && (o = find(pl, k, base)) != NULL &&
	    label(k, o, RECON_LABEL_HASH) == NULL && (k == ENGINE_SECRET ||
	    (json_str(json_get(o, "Spec"), "Data") && json_str(d, "Data") &&
	    strcmp(json_str(json_get(o, "Spec"), "Data"), json_str(d, "Data")) == 0)))
		found = o;
	if (found == NULL && find(pl, k, base) == NULL)
		snprintf(name, sizeof(name), "%s", base);
	if (found != NULL)
		snprintf(name, sizeof(name), "%s", obj_name(k, found));
	cJSON_AddStringToObject(pl->renames, base, name);
	keep(pl, name);
	spec = cJSON_Duplicate(d, true);
	cJSON_ReplaceItemInObjectCaseSensitive(spec, "Name",
	    cJSON_CreateString(name));
	labels = (cJSON *)json_get(spec, "Labels");
	set_labels(pl, labels, hash);
	if (found == NULL)
		return add_change(pl, RECON_CREATE, k, name, NULL, spec, NULL);
	/* Same content: only labels may differ; update them alone. */
	cJSON_DeleteItemFromObjectCaseSensitive(spec, "Data");
	cJSON *diffs = cJSON_CreateArray();
	if (recon_diff(labels, obj_labels(k, found), ".Labels", diffs) == 0) {
		cJSON_Delete(spec);
		cJSON_Delete(diffs);
		return 0;
	}
	return add_change(pl, RECON_UPDATE, k, name, found, spec, diffs);
}

static int
plan_file_objects(struct planner *pl)
{
	const cJSON *d;
	int rc;

	cJSON_ArrayForEach(d, pl->s->secrets)
		if ((rc = plan_file_object(pl, ENGINE_SECRET, d)) < 0)
			return rc;
	cJSON_ArrayForEach(d, pl->s->configs)
		if ((rc = plan_file_object(pl, ENGINE_CONFIG, d)) < 0)
			return rc;
	return 0;
}

/* --- services -------------------------------------------------------- */

/* Point secret/config references at the chosen objects, with their IDs
 * when they exist already (new ones get theirs at apply time). */
static void
rename_refs(struct planner *pl, cJSON *cs)
{
	static const struct { const char *list, *name, *id;
	    enum engine_kind k; } refs[] = {
		{ "Secrets", "SecretName", "SecretID", ENGINE_SECRET },
		{ "Configs", "ConfigName", "ConfigID", ENGINE_CONFIG },
	};
	cJSON *r;

	for (int i = 0; i < 2; i++)
		cJSON_ArrayForEach(r, json_get(cs, refs[i].list)) {
			const char *base = json_str(r, refs[i].name);
			const char *to = json_str(pl->renames, base);
			const cJSON *o;

			if (to != NULL)
				cJSON_ReplaceItemInObjectCaseSensitive(r,
				    refs[i].name, cJSON_CreateString(to));
			o = find(pl, refs[i].k, json_str(r, refs[i].name));
			if (o != NULL)
				cJSON_AddStringToObject(r, refs[i].id,
				    obj_id(refs[i].k, o));
		}
}

/* The actual spec as stackd would have sent it: network IDs back to
 * names, reference IDs dropped (names are compared). */
static cJSON *
comparable_actual(const struct planner *pl, const cJSON *svc)
{
	cJSON *spec = cJSON_Duplicate(json_get(svc, "Spec"), true), *it;
	cJSON *tt = (cJSON *)json_get(spec, "TaskTemplate");
	cJSON *cs = (cJSON *)json_get(tt, "ContainerSpec");

	cJSON_ArrayForEach(it, json_get(tt, "Networks")) {
		const cJSON *n;
		const char *target = json_str(it, "Target");
		cJSON_ArrayForEach(n, pl->obs->networks)
			if (target && json_str(n, "Id") && strcmp(json_str(n, "Id"),
			    target) == 0) {
				cJSON_ReplaceItemInObjectCaseSensitive(it,
				    "Target", cJSON_CreateString(json_str(n,
				    "Name")));
				break;
			}
	}
	cJSON_ArrayForEach(it, json_get(cs, "Secrets"))
		cJSON_DeleteItemFromObjectCaseSensitive(it, "SecretID");
	cJSON_ArrayForEach(it, json_get(cs, "Configs"))
		cJSON_DeleteItemFromObjectCaseSensitive(it, "ConfigID");
	return spec;
}

static cJSON *
without_ids(const cJSON *spec)
{
	cJSON *c = cJSON_Duplicate(spec, true), *it;
	cJSON *cs = (cJSON *)json_get(json_get(c, "TaskTemplate"), "ContainerSpec");

	cJSON_ArrayForEach(it, json_get(cs, "Secrets"))
		cJSON_DeleteItemFromObjectCaseSensitive(it, "SecretID");
	cJSON_ArrayForEach(it, json_get(cs, "Configs"))
		cJSON_DeleteItemFromObjectCaseSensitive(it, "ConfigID");
	return c;
}

static void
drop_platforms(cJSON *spec)
{
	cJSON *pl = (cJSON *)json_get(json_get(spec, "TaskTemplate"),
	    "Placement");

	/* Placement itself stays: the CLI writes {} without platforms. */
	cJSON_DeleteItemFromObjectCaseSensitive(pl, "Platforms");
}

/* Follow the docker CLI where the engine's copy legitimately differs. */
static void
carry_over(const struct planner *pl, cJSON *spec, const cJSON *actual)
{
	const cJSON *aspec = json_get(actual, "Spec");
	cJSON *rep = (cJSON *)json_get(json_get(spec, "Mode"), "Replicated");
	if (pl->keep_replicas && rep != NULL && json_get(rep, "Replicas") == NULL) {
		const cJSON *n = json_get(json_get(json_get(aspec, "Mode"), "Replicated"),
		    "Replicas");
		if (cJSON_IsNumber(n))
			cJSON_AddNumberToObject(rep, "Replicas", n->valuedouble);
	}
	cJSON_ReplaceItemInObjectCaseSensitive((cJSON *)json_get(spec,
	    "TaskTemplate"), "ForceUpdate", cJSON_Duplicate(json_get(json_get(aspec,
	    "TaskTemplate"), "ForceUpdate"), true));
}

static int
published_ports(const cJSON *spec)
{
	const cJSON *p;
	int n = 0;

	cJSON_ArrayForEach(p, json_get(json_get(spec, "EndpointSpec"), "Ports"))
		n += json_get(p, "PublishedPort") != NULL;
	return n;
}

/*
 * Rollouts the engine gave up on.  A paused update of this very spec is
 * reported (sending it again would only restart it).  A rollback of the
 * spec this process last sent is held: sending it again would loop
 * deploy, fail, roll back until the file changes.  A rollback stackd did
 * not see itself (a one-shot apply, or a restart) is reported and the
 * update is sent again.
 */
static bool
held(struct planner *pl, const char *name, const cJSON *actual,
    const char *hash)
{
	const cJSON *us = json_get(actual, "UpdateStatus");
	const char *state = json_str(us, "State"), *msg = json_str(us, "Message");
	const char *cur = json_str(json_get(json_get(actual, "Spec"), "Labels"),
	    RECON_LABEL_HASH);
	const char *tried = json_str(pl->attempted, name);
	char line[768];

	if (state == NULL)
		return false;
	if (strcmp(state, "paused") == 0 && cur && strcmp(cur, hash) == 0) {
		snprintf(line, sizeof(line), "service %s: the update is paused "
		    "(%s); resume it with 'docker service update' or change "
		    "the stack file", name, msg ? msg : "");
		cJSON_AddItemToArray(pl->p->notes, cJSON_CreateString(line));
		return false;
	}
	if (strncmp(state, "rollback_", 9) != 0 || (cur && strcmp(cur,
	    hash) == 0))
		return false;
	if (tried != NULL && strcmp(tried, hash) == 0) {
		snprintf(line, sizeof(line), "service %s: the engine rolled "
		    "back this spec (%s); not retrying until the stack file "
		    "changes", name, msg ? msg : state);
		cJSON_AddItemToArray(pl->p->held, cJSON_CreateString(line));
		return true;
	}
	snprintf(line, sizeof(line), "service %s: the engine rolled back its "
	    "last update (%s); sending the spec again", name,
	    msg ? msg : state);
	cJSON_AddItemToArray(pl->p->notes, cJSON_CreateString(line));
	return false;
}

static bool
match_hash(const cJSON *actual, const char *hash)
{
	const char *cur = json_str(json_get(json_get(actual, "Spec"), "Labels"),
	    RECON_LABEL_HASH);

	return cur != NULL && strcmp(cur, hash) == 0;
}

static int
plan_service(struct planner *pl, const cJSON *d, struct recon_plan *updates)
{
	const char *name = json_str(d, "Name");
	const cJSON *actual = find(pl, ENGINE_SERVICE, name);
	cJSON *spec = cJSON_Duplicate(d, true), *cmp, *acmp, *diffs;
	cJSON *labels = (cJSON *)json_get(spec, "Labels");
	char hash[13];
	int n;

	keep(pl, name);
	rename_refs(pl, (cJSON *)json_get(json_get(spec, "TaskTemplate"),
	    "ContainerSpec"));
	recon_service_pin(spec, actual, pl->opt, pl->p->notes);
	if (actual != NULL)
		carry_over(pl, spec, actual);
	cmp = without_ids(spec);
	/* The platforms follow the digest; whether the CLI's rules wrote
	 * them (--resolve-image never drops them) is no new spec. */
	drop_platforms(cmp);
	hash_of(cmp, hash);
	cJSON_Delete(cmp);
	set_labels(pl, labels, hash);
	if (actual == NULL)
		return add_change(pl, RECON_CREATE, ENGINE_SERVICE, name, NULL,
		    spec, NULL);
	if (held(pl, name, actual, hash)) {
		cJSON_Delete(spec);
		return 0;
	}
	cmp = without_ids(spec);
	acmp = comparable_actual(pl, actual);
	diffs = cJSON_CreateArray();
	n = recon_diff(cmp, acmp, "", diffs);
	cJSON_Delete(cmp);
	cJSON_Delete(acmp);
	if (n == 0) {
		cJSON_Delete(spec);
		cJSON_Delete(diffs);
		return 0;
	}
	/* Collected apart, so port-releasing updates can go first. */
	struct recon_plan *saved = pl->p;
	pl->p = updates;
	int rc = add_change(pl, RECON_UPDATE, ENGINE_SERVICE, name, actual, spec,
	    diffs);
	pl->p = saved;
	/* The engine holds the spec stackd last wrote, changed since. */
	if (rc == 0 && updates->n > 0)
		updates->changes[updates->n - 1].drift = match_hash(actual,
		    hash);
	return rc;
}

static int
move_changes(struct planner *pl, struct recon_plan *from, bool releasing)
{
	for (size_t i = 0; i < from->n; i++) {
		struct recon_change *c = &from->changes[i];
		const cJSON *actual;
		bool rel;

		if (c->name == NULL)
			continue;
		actual = find(pl, ENGINE_SERVICE, c->name);
		rel = actual && published_ports(c->spec) <
		    published_ports(json_get(actual, "Spec"));
		if (rel != releasing)
			continue;
		struct recon_change *n = realloc(pl->p->changes,
		    (pl->p->n + 1) * sizeof(*n));
		if (n == NULL)
			return err_set(pl->err, ERR_NOMEM, "out of memory");
		pl->p->changes = n;
		n[pl->p->n++] = *c;
		memset(c, 0, sizeof(*c));
	}
	return 0;
}

static int
plan_removals(struct planner *pl, enum engine_kind k)
{
	const cJSON *const *objs, *o;
	size_t n = recon_observed_stack(pl->obs, k, pl->s->name, &objs);
	int rc;

	for (size_t i = 0; i < n; i++) {
		const char *name = obj_name(k, o = objs[i]);
		if (name == NULL || !ours(pl, k, o) || kept(pl, name))
			continue;
		if (pl->no_prune) {
			char line[400];
			snprintf(line, sizeof(line), "%s %s: not in the files "
			    "any more; kept (the stack's policy is prune: "
			    "false)", engine_kind_name(k), name);
			cJSON_AddItemToArray(pl->p->notes,
			    cJSON_CreateString(line));
			continue;
		}
		if ((rc = add_change(pl, RECON_REMOVE, k, name, o, NULL,
		    NULL)) < 0)
			return rc;
	}
	return 0;
}

static int
plan_services(struct planner *pl)
{
	struct recon_plan updates = { 0 };
	const cJSON *d;
	int rc = 0;

	cJSON_ArrayForEach(d, pl->s->services)
		if (find(pl, ENGINE_SERVICE, json_str(d, "Name")) != NULL &&
		    (rc = plan_service(pl, d, &updates)) < 0)
			goto out;
	if ((rc = plan_removals(pl, ENGINE_SERVICE)) < 0 ||
	    (rc = move_changes(pl, &updates, true)) < 0 ||
	    (rc = move_changes(pl, &updates, false)) < 0)
		goto out;
	cJSON_ArrayForEach(d, pl->s->services)
		if (find(pl, ENGINE_SERVICE, json_str(d, "Name")) == NULL &&
		    (rc = plan_service(pl, d, &updates)) < 0)
			goto out;
out:
	free_changes(&updates);
	return rc;
}

/* --- the plan -------------------------------------------------------- */

static int
plan_all(struct recon_plan **out, const struct compose_stack *s,
    const struct recon_observed *obs, const struct recon_options *opt,
    bool keep_file_objects, struct err *err)
{
	struct planner pl = { .s = s, .obs = obs, .opt = opt, .err = err,
	    .keep_file_objects = keep_file_objects };
	int rc;

	*out = NULL;
	pl.owner = opt && opt->owner ? opt->owner : "stackd";
	pl.keep_replicas = opt && opt->keep_replicas;
	pl.no_prune = opt && opt->no_prune;
	pl.attempted = opt ? opt->attempted : NULL;
	if ((pl.p = calloc(1, sizeof(*pl.p))) == NULL ||
	    (pl.p->stack = strdup(s->name)) == NULL ||
	    (pl.p->held = cJSON_CreateArray()) == NULL ||
	    (pl.p->notes = cJSON_CreateArray()) == NULL ||
	    (pl.renames = cJSON_CreateObject()) == NULL ||
	    (pl.kept = cJSON_CreateArray()) == NULL) {
		rc = err_set(err, ERR_NOMEM, "out of memory");
		goto out;
	}
	if (obs->index == NULL) {
		rc = err_set(err, ERR_INVALID, "observed state has no index "
		    "(use recon_observe or recon_observed_index)");
		goto out;
	}
	if ((rc = plan_networks(&pl)) < 0 ||
	    (rc = plan_file_objects(&pl)) < 0 ||
	    (rc = plan_services(&pl)) < 0 ||
	    (rc = plan_removals(&pl, ENGINE_NETWORK)) < 0 ||
	    (!pl.keep_file_objects &&
	    ((rc = plan_removals(&pl, ENGINE_SECRET)) < 0 ||
	    (rc = plan_removals(&pl, ENGINE_CONFIG)) < 0)))
		goto out;
	*out = pl.p;
	pl.p = NULL;
out:
	recon_plan_free(pl.p);
	cJSON_Delete(pl.renames);
	cJSON_Delete(pl.kept);
	return rc;
}

int
recon_plan_stack(struct recon_plan **out, const struct compose_stack *s,
    const struct recon_observed *obs, const struct recon_options *opt,
    struct err *err)
{
	int rc;

	*out = NULL;
	if ((rc = recon_ports_check(s, obs, err)) < 0)
		return rc;
	return plan_all(out, s, obs, opt, false, err);
}

int
recon_plan_removal(struct recon_plan **out, const char *stack,
    const struct recon_observed *obs, const struct recon_options *opt,
    struct err *err)
{
	struct compose_stack none = { .name = (char *)stack };
	/* prune: false is about what leaves a stack's files, not about a
	 * stack that left the source. */
	struct recon_options o = opt ? *opt : (struct recon_options){ 0 };
	int rc;

	*out = NULL;
	o.no_prune = false;
	/* An empty desired stack: everything owned goes. */
	if ((none.networks = cJSON_CreateArray()) == NULL ||
	    (none.external_networks = cJSON_CreateArray()) == NULL ||
	    (none.secrets = cJSON_CreateArray()) == NULL ||
	    (none.configs = cJSON_CreateArray()) == NULL ||
	    (none.services = cJSON_CreateArray()) == NULL)
		rc = err_set(err, ERR_NOMEM, "out of memory");
	else
		rc = plan_all(out, &none, obs, &o, !o.prune_secrets, err);
	cJSON_Delete(none.networks);
	cJSON_Delete(none.external_networks);
	cJSON_Delete(none.secrets);
	cJSON_Delete(none.configs);
	cJSON_Delete(none.services);
	return rc;
}

cJSON *
recon_observed_stacks(const struct recon_observed *obs, const char *owner)
{
	const cJSON *lists[] = { obs->services, obs->networks, obs->secrets,
	    obs->configs }, *o, *it;
	cJSON *names = cJSON_CreateArray();

	for (int k = ENGINE_SERVICE; names && k <= ENGINE_CONFIG; k++)
		cJSON_ArrayForEach(o, lists[k]) {
			const char *ns = label(k, o, RECON_LABEL_NS);
			bool seen = false;

			if (ns == NULL || !recon_object_owned(k, o, owner))
				continue;
			cJSON_ArrayForEach(it, names)
				seen |= strcmp(it->valuestring, ns) == 0;
			if (!seen)
				cJSON_AddItemToArray(names,
				    cJSON_CreateString(ns));
		}
	return names;
}

void
recon_plan_free(struct recon_plan *p)
{
	if (p == NULL)
		return;
	free_changes(p);
	cJSON_Delete(p->held);
	cJSON_Delete(p->notes);
	free(p->stack);
	free(p);
}
