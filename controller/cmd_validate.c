/*
 * cmd_validate.c - `stackd validate`: the configuration and every stack
 * of its sources read as `stackd run` would read them, without touching
 * an engine.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller.h"


static const char validate_usage[] =
    "usage: stackd validate [-c FILE] [--dir DIR | --git URL [--ref REF]\n"
    "                       [--path SUBDIR] [--git-username NAME]\n"
    "                       [--git-token-file FILE] [--git-ca-file FILE]\n"
    "                       [--git-ssh-key FILE] [--git-known-hosts FILE]]\n"
    "                       [--env-inherit] [--strict-vars]\n"
    "                       [--interpolation docker-cli|compose-spec]\n"
    "                       [--sops-age-key-file FILE]\n"
    "\n"
    "Check a config file and load every stack of its source (a git source\n"
    "is fetched into a temporary cache), without touching an engine.\n"
    "Exit status: 0 all good, 1 any error.\n";

/* The stack's policies that are not the defaults, into out:
 * " (keep_replicas, prune: false, resolve_image: never)", or "". */
static const char *
policy_text(const struct ctl_config *c, const char *source,
    const char *stack, char *out, size_t size)
{
	struct recon_options ro = { .keep_replicas = c->keep_replicas };
	enum images_mode m = ctl_stacks_resolve(c, source, stack);
	char resolve[40] = "";

	ctl_stacks_policy(c, stack, &ro);
	if (m != IMAGES_ALWAYS)
		snprintf(resolve, sizeof(resolve), "resolve_image: %s",
		    images_mode_name(m));
	snprintf(out, size, "%s%s%s%s%s%s%s", ro.keep_replicas || ro.no_prune ||
	    *resolve ? " (" : "", ro.keep_replicas ? "keep_replicas" : "",
	    ro.keep_replicas && (ro.no_prune || *resolve) ? ", " : "",
	    ro.no_prune ? "prune: false" : "", ro.no_prune && *resolve ? ", " :
	    "", resolve, ro.keep_replicas || ro.no_prune || *resolve ? ")" : "");
	return out;
}

/* stacks.engines naming a stack no source holds: a typo, most likely,
 * that would leave the real stack on every engine.  names: every stack
 * of every source. */
static void
warn_untargeted(const struct ctl_config *c, const cJSON *names)
{
	const cJSON *t;

	cJSON_ArrayForEach(t, c->targets)
		if (!cJSON_HasObjectItem(names, t->string))
			fprintf(stderr, "stackd: warning: stacks.engines names "
			    "stack %s, which no source holds\n", t->string);
}

/* The SOPS files a stack read, and that they decrypted (never what). */
static void
print_decrypted(const cJSON *files, const char *root)
{
	char real[4096];
	const cJSON *f;
	size_t rl;

	if (realpath(root, real) != NULL)
		root = real;
	rl = strlen(root);
	cJSON_ArrayForEach(f, files) {
		const char *p = f->valuestring;
		if (strncmp(p, root, rl) == 0 && p[rl] == '/')
			p += rl + 1;
		printf("  %s: SOPS, decrypts with the identities given\n", p);
	}
}

/* Load one stack as the workers would; names maps stack -> source, to
 * catch a stack two sources hold. */
static int
validate_stack(const struct ctl_config *c, const struct sources_stack *s,
    const char *source, const struct sources_snapshot *snap,
    cJSON *names, cJSON *graph)
{
	struct compose_options base = { .env_inherit = c->env_inherit,
	    .strict_vars = c->strict_vars, .interp = c->interp }, o;
	struct compose_stack *st = NULL;
	cJSON *deps;
	const char *other = cJSON_GetStringValue(cJSON_GetObjectItem(names,
	    s->name));
	struct err err;
	char policies[128];

	if (other != NULL) {
		fprintf(stderr, "stackd: stack %s is in sources %s and %s; a "
		    "stack may come from one source only\n", s->name, other,
		    source);
		return 1;
	}
	cJSON_AddStringToObject(names, s->name, source);
	ctl_stack_compose_options(&o, &base, s, snap->root, c, source);
	o.sops.decrypted = cJSON_CreateArray();
	if (s->error != NULL || compose_stack_load(&st, &o, &err) < 0) {
		fprintf(stderr, "stackd: stack %s: %s\n", s->name,
		    s->error ? s->error : err.msg);
		cJSON_Delete(o.sops.decrypted);
		return 1;
	}
	if ((deps = ctl_depends_of(c, s->name, st)) != NULL)
		cJSON_AddItemToObject(graph, s->name, deps);
	printf("stack %s: ok, %d service%s%s\n", s->name,
	    cJSON_GetArraySize(st->services),
	    cJSON_GetArraySize(st->services) == 1 ? "" : "s",
	    policy_text(c, source, s->name, policies, sizeof(policies)));
	print_decrypted(o.sops.decrypted, snap->root);
	cJSON_Delete(o.sops.decrypted);
	for (size_t w = 0; w < st->nwarnings; w++)
		fprintf(stderr, "stackd: warning: stack %s: %s\n", s->name,
		    st->warnings[w]);
	compose_stack_free(st);
	return 0;
}

/* Load every stack of source i; returns how many failed. */
static int
validate_source(const struct ctl_config *c, size_t i, cJSON *names,
    cJSON *graph)
{
	const char *name = c->sources[i].name;
	struct sources_snapshot *snap = NULL;
	struct sources_list listed = { 0 };
	const struct sources_list *all;
	char tmp[4096] = "";
	struct err err = { 0 };
	int failed = 0;

	if (ctl_source_read(c, i, &snap, tmp, &err) < 0 || snap == NULL) {
		fprintf(stderr, "stackd: source %s: %s\n", name,
		    snap == NULL && err.msg[0] == '\0' ? "nothing read" :
		    err.msg);
		failed = 1;
	} else if (snap->subject != NULL) {
		printf("source %s: commit %.12s \"%s\" by %s\n", name,
		    snap->revision, snap->subject,
		    snap->author ? snap->author : "?");
	}
	if (snap != NULL && c->stack_list != NULL)
		ctl_stacks_listed(&listed, c, snap, name);
	all = c->stack_list != NULL ? &listed : snap ? &snap->list : NULL;
	for (size_t k = 0; all != NULL && k < all->n; k++)
		failed += validate_stack(c, &all->stacks[k], name, snap, names,
		    graph);
	sources_list_release(&listed);
	sources_snapshot_unref(snap);
	if (*tmp != '\0')
		sources_remove_tree(tmp);
	return failed;
}

static bool
named(const char *name, void *names)
{
	return cJSON_HasObjectItem(names, name);
}

/* depends_on naming no stack of any source, or making a cycle. */
static int
check_order(const cJSON *graph, cJSON *names)
{
	const cJSON *it;
	char why[400];
	int failed = 0;

	cJSON_ArrayForEach(it, graph)
		if (ctl_depends_check(graph, it->string, named, names, why,
		    sizeof(why)) < 0) {
			fprintf(stderr, "stackd: stack %s: %s\n", it->string,
			    why);
			failed++;
		}
	return failed;
}

/* Load every stack of every source, as the workers would. */
static int
validate_stacks(struct ctl_config *c)
{
	cJSON *names = cJSON_CreateObject(), *graph = cJSON_CreateObject();
	int failed = 0;

	for (size_t i = 0; i < c->nsources; i++)
		failed += validate_source(c, i, names, graph);
	failed += check_order(graph, names);
	warn_untargeted(c, names);
	cJSON_Delete(graph);
	cJSON_Delete(names);
	return failed ? 1 : 0;
}

int
controller_cmd_validate(int argc, char **argv)
{
	struct ctl_config c;
	struct ctl_flags f;
	struct err err;
	int rc;

	if ((rc = ctl_flags_parse(&f, argc, argv, validate_usage)) != 0)
		return rc < 0 ? 0 : 1;
	if (ctl_flags_configure(&c, &f, &err) < 0) {
		fprintf(stderr, "stackd: %s\n", err.msg);
		ctl_config_release(&c);
		return 1;
	}
	if (f.config != NULL)
		printf("config %s: ok, %zu engine%s\n", f.config, c.nengines,
		    c.nengines == 1 ? "" : "s");
	rc = validate_stacks(&c);
	ctl_config_release(&c);
	return rc;
}

