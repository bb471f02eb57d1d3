/*
 * cmd_reconcile.c - `stackd plan` and `stackd apply`: one pass over one
 * engine, for one stack (-f, -s) or every stack in a directory (--dir);
 * or, with -c FILE, one pass over every engine of a config file with the
 * stacks and policies the daemon would use (a preview of `stackd run`,
 * e.g. for a pull request).
 *
 * The engine is observed once, then pass.c plans (and applies) each
 * stack on its own.  With --dir, stacks this owner has on the engine but
 * the directory no longer holds are removed.
 *
 * plan exits 0 when everything matches, 2 when changes are pending, 1 on
 * any error; apply exits 0 or 1.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "controller.h"


static const char plan_usage[] =
    "usage: stackd plan (-f FILE [-f FILE]... -s STACK | --dir DIR)\n"
    "                   [--vars FILE]... [--var KEY=VALUE]... [--env-inherit]\n"
    "                   [--strict-vars] [--interpolation docker-cli|compose-spec]\n"
    "                   [--resolve-image always|changed|never]\n"
    "                   [--root DIR] [--engine URL]\n"
    "                   [--owner NAME] [--keep-replicas] [--prune-secrets]\n"
    "                   [--allow-empty] [--sops-age-key-file FILE] [--json]\n"
    "       stackd plan -c FILE [--resolve-image MODE] [--json]\n"
    "\n"
    "Show what apply would change on the engine (DOCKER_HOST or --engine),\n"
    "or with -c on every engine of a stackd.yaml, as stackd run would.\n"
    "Exit status: 0 in sync, 2 changes pending, 1 error.\n";

static const char apply_usage[] =
    "usage: stackd apply (-f FILE [-f FILE]... -s STACK | --dir DIR)\n"
    "                    [--vars FILE]... [--var KEY=VALUE]... [--env-inherit]\n"
    "                    [--strict-vars] [--interpolation docker-cli|compose-spec]\n"
    "                    [--resolve-image always|changed|never]\n"
    "                    [--root DIR] [--engine URL]\n"
    "                    [--owner NAME] [--keep-replicas] [--prune-secrets]\n"
    "                    [--allow-empty] [--prune-limit PCT]\n"
    "                    [--sops-age-key-file FILE]\n"
    "       stackd apply -c FILE [--resolve-image MODE] [--prune-limit PCT]\n"
    "\n"
    "Make the engine (DOCKER_HOST or --engine) match the stacks: create,\n"
    "update and remove only what differs, then exit (0 ok, 1 error).\n"
    "With -c, every engine of a stackd.yaml, as one cycle of stackd run.\n";

struct pass {
	struct ctl_pass p;
	int pending;		/* stacks not in sync (plan) */
	cJSON *json;		/* plan --json: the plans */
	const char *engine;	/* -c: the engine's name, for messages */
};

/* Does msg already start with "stack NAME:"? */
static bool
names_stack(const char *msg, const char *stack)
{
	size_t n = strlen(stack);

	return strncmp(msg, "stack ", 6) == 0 &&
	    strncmp(msg + 6, stack, n) == 0 && msg[6 + n] == ':';
}

static void
report(const struct ctl_result *r, void *payload)
{
	struct pass *ps = payload;

	if (r->loaded != NULL)
		for (size_t i = 0; i < r->loaded->nwarnings; i++)
			fprintf(stderr, "stackd: warning: %s\n",
			    r->loaded->warnings[i]);
	if (r->plan != NULL) {
		if (ps->json != NULL) {
			cJSON *j = recon_plan_json(r->plan);
			if (ps->engine != NULL)
				cJSON_AddStringToObject(j, "engine",
				    ps->engine);
			cJSON_AddItemToArray(ps->json, j);
		} else {
			recon_plan_print(r->plan, stdout);
		}
		if (!recon_plan_in_sync(r->plan))
			ps->pending++;
	}
	if (r->err != NULL) {
		char where[160] = "";
		if (ps->engine != NULL)
			snprintf(where, sizeof(where), "engine %s: ",
			    ps->engine);
		if (r->stack != NULL && r->plan == NULL && r->loaded == NULL &&
		    !names_stack(r->err->msg, r->stack))
			fprintf(stderr, "stackd: %sstack %s: %s\n", where,
			    r->stack, r->err->msg);
		else
			fprintf(stderr, "stackd: %s%s\n", where, r->err->msg);
		return;
	}
	if (r->hooks_run > 0)
		printf("stack %s: %u pre-sync hook%s run to completion\n",
		    r->stack, r->hooks_run, r->hooks_run > 1 ? "s" : "");
	if (!r->applied)
		return;
	printf("stack %s: %u created, %u updated, %u removed", r->stack,
	    r->stats.creates, r->stats.updates, r->stats.removes);
	if (r->stats.retries > 0)
		printf(", %u retried after a concurrent write",
		    r->stats.retries);
	printf("\n");
}

/* The engine's lists, asked on a thread of their own. */
struct observing {
	struct engine *e;
	struct recon_observed *obs;
	struct err err;
	int rc;
};

static void *
observe_main(void *arg)
{
	struct observing *o = arg;

	o->rc = recon_observe(o->obs, o->e, &o->err);
	return NULL;
}

/*
 * The stacks of a directory: converted while the engine answers its list
 * calls (the engine works on its own CPU meanwhile), then planned.  The
 * conversions wait in a loads cache under a revision of "one-shot": the
 * files are read once.
 */
static int
dir_stacks(struct pass *ps, const struct controller_stack_opts *so,
    struct recon_observed *obs, struct err *err)
{
	struct observing o = { .e = ps->p.e, .obs = obs };
	struct sources_list l;
	pthread_t t;
	bool threaded;

	if (sources_discover(&l, so->dir, err) < 0) {
		/* An unreachable engine is the first thing to say. */
		if (recon_observe(obs, ps->p.e, &o.err) < 0) {
			*err = o.err;
			return -1;
		}
		return 1;
	}
	ps->p.loads = ctl_loads_new(0);
	ps->p.revision = "one-shot";
	threaded = pthread_create(&t, NULL, observe_main, &o) == 0;
	ctl_pass_prefetch(&ps->p, &l, &so->compose, so->dir);
	if (threaded)
		pthread_join(t, NULL);
	else
		observe_main(&o);
	if (o.rc == 0)
		ctl_pass_list(&ps->p, &l, &so->compose, so->dir);
	else
		*err = o.err;
	sources_list_release(&l);
	ctl_loads_free(ps->p.loads);
	ps->p.loads = NULL;
	return o.rc < 0 ? -1 : 0;
}

/* The sources of a config, read once for every engine. */
struct read_sources {
	struct sources_snapshot **snaps;
	const char **names;
	char (*tmp)[4096];
	size_t n;
};

/* One engine of the config: observed once, then its stacks. */
static void
config_engine(struct pass *ps, const struct ctl_config *c,
    const struct engine_config *ec, const struct read_sources *rs,
    const struct compose_options *base)
{
	struct recon_observed obs = { 0 };
	struct err err;

	ps->engine = ec->name;
	ps->p.obs = &obs;
	ps->p.pruned = 0;
	/* Digests are the engine's answer: each engine asks its own. */
	images_cache_free(ps->p.ro.images);
	ps->p.ro.images = images_cache_new(IMAGES_POLL_MS,
	    c->image_timeout_ms, NULL, NULL);
	if (ps->json == NULL)
		printf("engine %s (%s):\n", ec->name, ec->host);
	if (engine_open(&ps->p.e, ec, &err) < 0 ||
	    recon_observe(&obs, ps->p.e, &err) < 0) {
		fprintf(stderr, "stackd: %s\n", err.msg);
		ps->p.failed++;
	} else
		ctl_pass_sources(&ps->p, c, rs->snaps, rs->names, rs->n,
		    ec->name, base);
	recon_observed_release(&obs);
	engine_free(ps->p.e);
	ps->p.e = NULL;
}

static int
read_all(struct read_sources *rs, const struct ctl_config *c)
{
	struct err err;

	rs->n = c->nsources;
	rs->snaps = xcalloc(c->nsources, sizeof(*rs->snaps));
	rs->names = xcalloc(c->nsources, sizeof(*rs->names));
	rs->tmp = xcalloc(c->nsources, sizeof(*rs->tmp));
	for (size_t i = 0; i < c->nsources; i++) {
		rs->names[i] = c->sources[i].name;
		if (ctl_source_read(c, i, &rs->snaps[i], rs->tmp[i],
		    &err) < 0) {
			fprintf(stderr, "stackd: source %s: %s\n",
			    c->sources[i].name, err.msg);
			return -1;
		}
	}
	return 0;
}

static void
release_all(struct read_sources *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		if (rs->snaps != NULL)
			sources_snapshot_unref(rs->snaps[i]);
		if (rs->tmp != NULL && *rs->tmp[i] != '\0')
			sources_remove_tree(rs->tmp[i]);
	}
	free(rs->snaps);
	free(rs->names);
	free(rs->tmp);
}

/* --resolve-image with -c: the command line's word beats the config's,
 * for every source and stack. */
static void
resolve_everywhere(struct ctl_config *c, enum images_mode mode)
{
	cJSON *it;

	c->resolve = mode;
	for (size_t i = 0; i < c->nsources; i++)
		c->sources[i].resolve = 0;
	cJSON_ArrayForEach(it, c->stack_list)
		cJSON_DeleteItemFromObjectCaseSensitive(it, "resolve_image");
}

/* -c FILE: every engine of the config, with the config's sources, stacks,
 * targets and policies; what one cycle of the daemon would do, without
 * its memory of earlier cycles.  Every source must be read: a plan
 * without one of them would remove its stacks. */
static int
config_reconcile(struct pass *ps, const struct controller_stack_opts *so)
{
	struct ctl_config c;
	struct read_sources rs = { 0 };
	struct compose_options base = { 0 };
	struct err err;
	int rc = -1, loaded;

	if ((loaded = ctl_config_load(&c, so->config, &err)) == 0 &&
	    so->age_key_file != NULL)
		xstrset(&c.age_key_file, so->age_key_file);
	if (loaded < 0 || ctl_config_defaults(&c, NULL, &err) < 0) {
		fprintf(stderr, "stackd: %s\n", err.msg);
		goto out;
	}
	if (read_all(&rs, &c) < 0)
		goto out;
	base.env_inherit = c.env_inherit;
	base.strict_vars = c.strict_vars;
	base.interp = c.interp;
	if (so->resolve_set)
		resolve_everywhere(&c, so->resolve);
	ps->p.cfg = &c;
	ps->p.ro.owner = c.owner;
	ps->p.ro.keep_replicas = c.keep_replicas;
	ps->p.ro.prune_secrets = c.prune_secrets;
	ps->p.allow_empty = c.allow_empty || so->allow_empty;
	if (ps->p.prune_limit == 0)
		ps->p.prune_limit = c.prune_limit;
	for (size_t i = 0; i < c.nengines; i++)
		config_engine(ps, &c, &c.engines[i], &rs, &base);
	ps->p.cfg = NULL;
	rc = 0;
out:
	release_all(&rs);
	ctl_config_release(&c);
	return rc;
}

static int
reconcile(int argc, char **argv, bool apply)
{
	struct controller_stack_opts so;
	struct pass ps = { .p = { .apply = apply, .wait_hooks = apply,
	    .report = report } };
	struct recon_observed obs = { 0 };
	struct engine_config cfg;
	struct err err;
	int rc = 1;

	if (controller_stack_options(&so, argc, argv, apply ? apply_usage :
	    plan_usage, true) != 0)
		return so.help ? 0 : 1;
	ps.p.payload = &ps;
	ps.p.obs = &obs;
	ps.p.allow_empty = so.allow_empty;
	ps.p.prune_limit = so.prune_limit;
	ps.p.ro.owner = so.owner;
	ps.p.ro.keep_replicas = so.keep_replicas;
	ps.p.ro.prune_secrets = so.prune_secrets;
	ps.p.ro.resolve = so.resolve;
	ps.p.ro.images = images_cache_new(IMAGES_POLL_MS, 0, NULL, NULL);
	if (so.json && !apply)
		ps.json = cJSON_CreateArray();
	if (so.config != NULL) {
		memset(&cfg, 0, sizeof(cfg));
		if (config_reconcile(&ps, &so) < 0)
			goto out;
		goto done;
	}
	engine_config_from_env(&cfg);
	if (so.engine != NULL) {
		free(cfg.host);
		cfg.host = xstrdup(so.engine);
	}
	if (engine_open(&ps.p.e, &cfg, &err) < 0)
		goto fail;
	if (so.dir != NULL) {
		switch (dir_stacks(&ps, &so, &obs, &err)) {
		case -1:
			goto fail;
		case 1:	/* the directory could not be read */
			fprintf(stderr, "stackd: %s\n", err.msg);
			ps.p.failed++;
		}
	} else if (recon_observe(&obs, ps.p.e, &err) < 0)
		goto fail;
	else
		ctl_pass_stack(&ps.p, &so.compose);
done:
	if (ps.json != NULL) {
		char *text = cJSON_Print(ps.json);
		printf("%s\n", text ? text : "[]");
		free(text);
	}
	rc = ps.p.failed ? 1 : !apply && ps.pending ? 2 : 0;
	goto out;
fail:
	fprintf(stderr, "stackd: %s\n", err.msg);
out:
	cJSON_Delete(ps.json);
	images_cache_free(ps.p.ro.images);
	recon_observed_release(&obs);
	engine_free(ps.p.e);
	engine_config_release(&cfg);
	controller_stack_options_release(&so);
	return rc;
}

int
controller_cmd_plan(int argc, char **argv)
{
	return reconcile(argc, argv, false);
}

int
controller_cmd_apply(int argc, char **argv)
{
	return reconcile(argc, argv, true);
}
