/*
 * plan_services.c - the services of a plan: created, updated only where
 * the diff finds a difference (those giving up published ports first),
 * held after a rollback of their own spec, removed when they left.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "alloc.h"
#include "json.h"
#include "reconciler_int.h"

/* --- services -------------------------------------------------------- */

static const struct ref_kind {
	const char *list, *name, *id;
	enum engine_kind k;
} ref_kinds[] = {
	{ "Secrets", "SecretName", "SecretID", ENGINE_SECRET },
	{ "Configs", "ConfigName", "ConfigID", ENGINE_CONFIG },
};

/* Point secret/config references at the chosen objects (by name: what
 * the diff compares). */
static void
rename_refs(struct planner *pl, cJSON *cs)
{
	cJSON *r;

	for (int i = 0; i < 2; i++)
		cJSON_ArrayForEach(r, json_get(cs, ref_kinds[i].list)) {
			const char *to = json_str(pl->renames,
			    json_str(r, ref_kinds[i].name));

			if (to != NULL)
				cJSON_ReplaceItemInObjectCaseSensitive(r,
				    ref_kinds[i].name, cJSON_CreateString(to));
		}
}

/* The IDs of the referenced objects that exist already, for a request
 * body (new ones get theirs at apply time). */
static void
add_ref_ids(struct planner *pl, cJSON *spec)
{
	cJSON *cs = json_at(json_at(spec, "TaskTemplate"), "ContainerSpec");
	cJSON *r;

	for (int i = 0; i < 2; i++)
		cJSON_ArrayForEach(r, json_get(cs, ref_kinds[i].list)) {
			const cJSON *o = plan_find(pl, ref_kinds[i].k,
			    json_str(r, ref_kinds[i].name));
			if (o != NULL)
				cJSON_AddStringToObject(r, ref_kinds[i].id,
				    recon_obj_id(ref_kinds[i].k, o));
		}
}

/* A network of the node's own (scope local: the predefined "host") by
 * name?  The engine keeps swarmkit's ID of it in a service, which the
 * network list does not show. */
static bool
local_network(const struct planner *pl, const char *name)
{
	const cJSON *n;

	cJSON_ArrayForEach(n, pl->obs->networks)
		if (name && json_str(n, "Name") && strcmp(json_str(n, "Name"),
		    name) == 0 && json_str(n, "Scope") &&
		    strcmp(json_str(n, "Scope"), "local") == 0)
			return true;
	return false;
}

/* The actual spec as stackd would have sent it: network IDs back to
 * names (an ID the list lacks, where the desired spec names a local
 * network at that place, is that network), reference IDs dropped (names
 * are compared). */
static cJSON *
comparable_actual(const struct planner *pl, const cJSON *svc,
    const cJSON *desired)
{
	cJSON *spec = cJSON_Duplicate(json_get(svc, "Spec"), true), *it;
	cJSON *tt = json_at(spec, "TaskTemplate");
	cJSON *cs = json_at(tt, "ContainerSpec");
	const cJSON *want = json_get(json_get(desired, "TaskTemplate"),
	    "Networks");
	int i = 0;

	cJSON_ArrayForEach(it, json_get(tt, "Networks")) {
		const cJSON *n;
		const char *target = json_str(it, "Target"), *name = NULL;
		const char *wanted = json_str(cJSON_GetArrayItem(want, i++),
		    "Target");
		if (target == NULL)	/* nothing to name, nowhere to put it */
			continue;
		cJSON_ArrayForEach(n, pl->obs->networks)
			if (json_str(n, "Id") && strcmp(json_str(n, "Id"),
			    target) == 0) {
				name = json_str(n, "Name");
				break;
			}
		if (name == NULL && local_network(pl, wanted))
			name = wanted;
		if (name != NULL)
			cJSON_ReplaceItemInObjectCaseSensitive(it, "Target",
			    cJSON_CreateString(name));
	}
	cJSON_ArrayForEach(it, json_get(cs, "Secrets"))
		cJSON_DeleteItemFromObjectCaseSensitive(it, "SecretID");
	cJSON_ArrayForEach(it, json_get(cs, "Configs"))
		cJSON_DeleteItemFromObjectCaseSensitive(it, "ConfigID");
	return spec;
}

/*
 * The spec's hash label: of the spec as it is before its labels are set,
 * without the platforms, which follow the digest (whether the CLI's rules
 * wrote them, --resolve-image never drops them, is no new spec).  They
 * are put back where they were.
 */
static void
hash_spec(cJSON *spec, char out[13])
{
	cJSON *pl = json_at(json_at(spec, "TaskTemplate"), "Placement");
	cJSON *it, *platforms = NULL;
	int at = 0;

	cJSON_ArrayForEach(it, pl) {
		if (it->string != NULL && strcmp(it->string, "Platforms") == 0)
			break;
		at++;
	}
	if (it != NULL)
		platforms = cJSON_DetachItemViaPointer(pl, it);
	plan_hash_of(spec, out);
	if (platforms != NULL)
		cJSON_InsertItemInArray(pl, at, platforms);
}

/* Follow the docker CLI where the engine's copy legitimately differs. */
static void
carry_over(const struct planner *pl, cJSON *spec, const cJSON *actual)
{
	const cJSON *aspec = json_get(actual, "Spec");
	cJSON *rep = json_at(json_at(spec, "Mode"), "Replicated");
	if (pl->keep_replicas && rep != NULL && json_get(rep, "Replicas") == NULL) {
		const cJSON *n = json_get(json_get(json_get(aspec, "Mode"), "Replicated"),
		    "Replicas");
		if (cJSON_IsNumber(n))
			cJSON_AddNumberToObject(rep, "Replicas", n->valuedouble);
	}
	cJSON_ReplaceItemInObjectCaseSensitive(json_at(spec,
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
	const char *tried;
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
	/* Looked up last: the memory holds every service ever written, and
	 * a lookup is a walk over it. */
	tried = json_str(pl->attempted, name);
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

/* What the verdict on every service of this plan depends on besides the
 * service itself, its desired spec and its pin. */
static void
plan_env(struct planner *pl)
{
	unsigned char obs[RECON_ENV_LEN], md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	char *renames = cJSON_PrintUnformatted(pl->renames), opts[64];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	memset(pl->env, 0, sizeof(pl->env));
	recon_observed_digest(pl->obs, obs);
	snprintf(opts, sizeof(opts), "%d/%d/%d", pl->keep_replicas,
	    pl->opt->resolve, pl->opt->images != NULL);
	if (ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, obs, sizeof(obs)) == 1 &&
	    EVP_DigestUpdate(ctx, pl->owner, strlen(pl->owner) + 1) == 1 &&
	    EVP_DigestUpdate(ctx, opts, strlen(opts) + 1) == 1 &&
	    EVP_DigestUpdate(ctx, renames ? renames : "", renames ?
	    strlen(renames) : 0) == 1 && EVP_DigestFinal_ex(ctx, md, &len) == 1 &&
	    len >= RECON_ENV_LEN)
		memcpy(pl->env, md, RECON_ENV_LEN);
	EVP_MD_CTX_free(ctx);
	cJSON_free(renames);
}

/* The service's key in the verified memory; false when it has none. */
static bool
verified_key(const struct planner *pl, const cJSON *d, const cJSON *actual,
    char *pin, size_t len, struct recon_verified_key *k)
{
	if (pl->opt == NULL || pl->opt->verified == NULL || actual == NULL ||
	    pl->s->serial == 0)
		return false;
	recon_pin_key(d, actual, pl->opt, pin, len);
	*k = (struct recon_verified_key){ .id = recon_obj_id(ENGINE_SERVICE,
	    actual), .version = recon_object_version(actual),
	    .serial = pl->s->serial, .pin = pin };
	memcpy(k->env, pl->env, sizeof(k->env));
	return k->id != NULL;
}

static int
plan_service(struct planner *pl, const cJSON *d, struct recon_plan *updates)
{
	const char *name = json_str(d, "Name");
	const cJSON *actual = plan_find(pl, ENGINE_SERVICE, name);
	cJSON *spec, *acmp, *diffs, *labels;
	char hash[13], pin[ENGINE_IMAGE_REF_MAX + 80];
	struct recon_verified_key key;
	bool keyed = verified_key(pl, d, actual, pin, sizeof(pin), &key);
	int n, notes = cJSON_GetArraySize(pl->p->notes);

	plan_keep(pl, name);
	if (keyed && recon_verified_hit(pl->opt->verified, &key))
		return 0;
	/* One copy: compared by names, the IDs added only to a body sent. */
	spec = cJSON_Duplicate(d, true);
	labels = json_at(spec, "Labels");
	rename_refs(pl, json_at(json_at(spec, "TaskTemplate"),
	    "ContainerSpec"));
	recon_service_pin(spec, actual, pl->opt, pl->p->notes);
	if (actual != NULL)
		carry_over(pl, spec, actual);
	hash_spec(spec, hash);
	plan_set_labels(pl, labels, hash);
	if (actual == NULL) {
		add_ref_ids(pl, spec);
		return plan_add_change(pl, RECON_CREATE, ENGINE_SERVICE, name, NULL,
		    spec, NULL);
	}
	if (held(pl, name, actual, hash)) {
		cJSON_Delete(spec);
		return 0;
	}
	acmp = comparable_actual(pl, actual, spec);
	diffs = cJSON_CreateArray();
	n = recon_diff(spec, acmp, "", diffs);
	cJSON_Delete(acmp);
	if (n == 0) {
		if (keyed && cJSON_GetArraySize(pl->p->notes) == notes)
			recon_verified_put(pl->opt->verified, &key);
		cJSON_Delete(spec);
		cJSON_Delete(diffs);
		return 0;
	}
	add_ref_ids(pl, spec);
	/* Collected apart, so port-releasing updates can go first. */
	struct recon_plan *saved = pl->p;
	pl->p = updates;
	int rc = plan_add_change(pl, RECON_UPDATE, ENGINE_SERVICE, name, actual, spec,
	    diffs);
	pl->p = saved;
	/* The engine holds the spec stackd last wrote, changed since. */
	if (rc == 0 && updates->n > 0)
		updates->changes[updates->n - 1].drift = match_hash(actual,
		    hash);
	return rc;
}

/* A hook as the change that runs it now: never diffed (a finished job
 * is not drift), and a job runs again when its spec is updated, so the
 * update forces it (ForceUpdate one up). */
static int
plan_hook(struct planner *pl, const cJSON *d, const char *kind)
{
	const char *name = json_str(d, "Name");
	const cJSON *actual = plan_find(pl, ENGINE_SERVICE, name);
	struct recon_plan *saved = pl->p, one = { 0 };
	cJSON *spec = cJSON_Duplicate(d, true), *labels, *tt;
	char hash[13];
	int rc;

	plan_keep(pl, name);
	labels = json_at(spec, "Labels");
	rename_refs(pl, json_at(json_at(spec, "TaskTemplate"),
	    "ContainerSpec"));
	recon_service_pin(spec, actual, pl->opt, pl->p->notes);
	hash_spec(spec, hash);
	plan_set_labels(pl, labels, hash);
	cJSON_AddStringToObject(labels, RECON_LABEL_HOOK, pl->p->hook_key);
	if (actual != NULL) {
		tt = json_at(spec, "TaskTemplate");
		cJSON_DeleteItemFromObjectCaseSensitive(tt, "ForceUpdate");
		cJSON_AddNumberToObject(tt, "ForceUpdate", json_num(json_get(
		    json_get(actual, "Spec"), "TaskTemplate"), "ForceUpdate") +
		    1);
	}
	add_ref_ids(pl, spec);
	pl->p = &one;
	rc = plan_add_change(pl, actual ? RECON_UPDATE : RECON_CREATE,
	    ENGINE_SERVICE, name, actual, spec, NULL);
	pl->p = saved;
	if (saved->hooks == NULL) {
		saved->hooks = xcalloc(1, sizeof(*saved->hooks));
		saved->hooks->stack = xstrdup(saved->stack);
		saved->hooks->held = cJSON_CreateArray();
		saved->hooks->notes = cJSON_CreateArray();
	}
	one.changes[0].hook = strcmp(kind, "pre-sync") == 0 ? "pre-sync" :
	    "post-sync";
	saved->hooks->changes = xrealloc(saved->hooks->changes,
	    (saved->hooks->n + 1) * sizeof(*saved->hooks->changes));
	saved->hooks->changes[saved->hooks->n++] = one.changes[0];
	free(one.changes);
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
		actual = plan_find(pl, ENGINE_SERVICE, c->name);
		rel = actual && published_ports(c->spec) <
		    published_ports(json_get(actual, "Spec"));
		if (rel != releasing)
			continue;
		pl->p->changes = xrealloc(pl->p->changes, (pl->p->n + 1) *
		    sizeof(*pl->p->changes));
		pl->p->changes[pl->p->n++] = *c;
		memset(c, 0, sizeof(*c));
	}
	return 0;
}

int
plan_removals(struct planner *pl, enum engine_kind k)
{
	const cJSON *const *objs, *o;
	size_t n = recon_observed_stack(pl->obs, k, pl->s->name, &objs);
	int rc;

	for (size_t i = 0; i < n; i++) {
		const char *name = recon_obj_name(k, o = objs[i]);
		if (name == NULL || !plan_ours(pl, k, o) || plan_kept(pl, name))
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
		if ((rc = plan_add_change(pl, RECON_REMOVE, k, name, o, NULL,
		    NULL)) < 0)
			return rc;
	}
	return 0;
}

int
plan_services(struct planner *pl)
{
	struct recon_plan updates = { 0 };
	const cJSON *d;
	int rc = 0;

	if (pl->opt != NULL && pl->opt->verified != NULL)
		plan_env(pl);
	if (pl->s->hooks != NULL)
		plan_hash_of(pl->s->services, pl->p->hook_key);
	cJSON_ArrayForEach(d, pl->s->services) {
		const char *hook = compose_stack_hook(pl->s, json_str(d,
		    "Name"));
		if (hook != NULL && (rc = plan_hook(pl, d, hook)) < 0)
			goto out;
	}
	cJSON_ArrayForEach(d, pl->s->services)
		if (!compose_stack_hook(pl->s, json_str(d, "Name")) &&
		    plan_find(pl, ENGINE_SERVICE, json_str(d, "Name")) != NULL &&
		    (rc = plan_service(pl, d, &updates)) < 0)
			goto out;
	if ((rc = plan_removals(pl, ENGINE_SERVICE)) < 0 ||
	    (rc = move_changes(pl, &updates, true)) < 0 ||
	    (rc = move_changes(pl, &updates, false)) < 0)
		goto out;
	cJSON_ArrayForEach(d, pl->s->services)
		if (!compose_stack_hook(pl->s, json_str(d, "Name")) &&
		    plan_find(pl, ENGINE_SERVICE, json_str(d, "Name")) == NULL &&
		    (rc = plan_service(pl, d, &updates)) < 0)
			goto out;
out:
	plan_free_changes(&updates);
	return rc;
}

