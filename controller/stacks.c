/*
 * stacks.c - which stacks a source holds: the ones discovered in its
 * snapshot, or, with stacks.list in the config, exactly the ones listed,
 * each with its own compose and vars files under the snapshot's root.
 *
 * The list is built per use from the config and the snapshot rather than
 * stored in the snapshot: a snapshot is immutable and shared, and a
 * reloaded config with another list must take effect without a new
 * revision of the source.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc.h"
#include "controller.h"
#include "health.h"
#include "path.h"


/* One listed stack; a missing file is that stack's error, not the list's. */
static void
listed_stack(struct sources_stack *s, const cJSON *def, const char *root)
{
	const cJSON *f;
	struct stat st;
	char msg[512];

	memset(s, 0, sizeof(*s));
	s->name = xstrdup(cJSON_GetStringValue(cJSON_GetObjectItem(def,
	    "name")));
	cJSON_ArrayForEach(f, cJSON_GetObjectItem(def, "files")) {
		char *p = path_join(root, f->valuestring);
		sources_stack_add_file(s, p);
		if (s->error == NULL && stat(p, &st) < 0) {
			snprintf(msg, sizeof(msg), "stacks.list: %s: cannot "
			    "read it (%s)", f->valuestring, strerror(errno));
			s->error = xstrdup(msg);
		}
	}
	cJSON_ArrayForEach(f, cJSON_GetObjectItem(def, "vars")) {
		s->var_files = xrealloc(s->var_files, (s->nvar_files + 1) *
		    sizeof(*s->var_files));
		s->var_files[s->nvar_files++] = path_join(root, f->valuestring);
	}
}

/* Is this stacks.list entry one of source's?  (An entry without a source
 * is the only source's.) */
static bool
of_source(const cJSON *def, const char *source)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(def,
	    "source"));

	return s == NULL || source == NULL || strcmp(s, source) == 0;
}

void
ctl_stacks_listed(struct sources_list *out, const struct ctl_config *c,
    const struct sources_snapshot *snap, const char *source)
{
	int n = cJSON_GetArraySize(c->stack_list);
	const cJSON *def;

	memset(out, 0, sizeof(*out));
	if (n == 0)
		return;
	out->stacks = xcalloc((size_t)n, sizeof(*out->stacks));
	cJSON_ArrayForEach(def, c->stack_list)
		if (of_source(def, source))
			listed_stack(&out->stacks[out->n++], def, snap->root);
}

static bool
prefixed(const char *object, const char *stack)
{
	size_t n = strlen(stack);

	return strncmp(object, stack, n) == 0 && object[n] == '_';
}

bool
ctl_stacks_object(const struct ctl_config *c,
    const struct sources_snapshot *snap, const char *object)
{
	const cJSON *it;

	if (c->stack_list != NULL) {
		cJSON_ArrayForEach(it, c->stack_list)
			if (prefixed(object, cJSON_GetStringValue(
			    cJSON_GetObjectItem(it, "name"))))
				return true;
		return false;
	}
	for (size_t i = 0; snap != NULL && i < snap->list.n; i++)
		if (prefixed(object, snap->list.stacks[i].name))
			return true;
	return false;
}

size_t
ctl_stacks_count(const struct ctl_config *c,
    const struct sources_snapshot *snap, const char *source)
{
	const cJSON *def;
	size_t n = 0;

	if (c->stack_list == NULL)
		return snap != NULL ? snap->list.n : 0;
	cJSON_ArrayForEach(def, c->stack_list)
		n += of_source(def, source);
	return n;
}

void
ctl_stacks_policy(const struct ctl_config *c, const char *stack,
    struct recon_options *ro)
{
	const cJSON *it, *v;

	if (c == NULL)
		return;
	cJSON_ArrayForEach(it, c->stack_list) {
		if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(it,
		    "name")), stack) != 0)
			continue;
		if ((v = cJSON_GetObjectItem(it, "keep_replicas")) != NULL)
			ro->keep_replicas = cJSON_IsTrue(v);
		ro->no_prune = cJSON_IsFalse(cJSON_GetObjectItem(it,
		    "prune"));
	}
}

/* The source named source, or NULL. */
static const struct ctl_source_config *
source_named(const struct ctl_config *c, const char *source)
{
	for (size_t i = 0; i < c->nsources; i++)
		if (source != NULL && strcmp(c->sources[i].name, source) == 0)
			return &c->sources[i];
	return NULL;
}

/* The string key of stack's stacks.list entry, or NULL. */
static const char *
listed(const struct ctl_config *c, const char *stack, const char *key)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, c->stack_list)
		if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(it,
		    "name")), stack) == 0)
			return cJSON_GetStringValue(cJSON_GetObjectItem(it,
			    key));
	return NULL;
}

enum images_mode
ctl_stacks_resolve(const struct ctl_config *c, const char *source,
    const char *stack)
{
	const struct ctl_source_config *s = source_named(c, source);
	const char *v = listed(c, stack, "resolve_image");
	enum images_mode m = s != NULL && s->resolve > 0 ?
	    (enum images_mode)(s->resolve - 1) : c->resolve;

	if (v != NULL)
		images_mode_parse(v, &m);
	return m;
}

bool
ctl_stacks_suspended(const struct ctl_config *c, const char *source,
    const char *stack)
{
	const struct ctl_source_config *s;
	const cJSON *it;

	if (c == NULL)
		return false;
	if ((s = source_named(c, source)) != NULL && s->suspend)
		return true;
	cJSON_ArrayForEach(it, c->stack_list)
		if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(it,
		    "name")), stack) == 0)
			return cJSON_IsTrue(cJSON_GetObjectItem(it, "suspend"));
	return false;
}

/* A duration of the stack's stacks.list entry (key_ms), or else d. */
static long long
entry_ms(const struct ctl_config *c, const char *stack, const char *key_ms,
    long long d)
{
	const cJSON *it, *v, *list = c != NULL ? c->stack_list : NULL;

	cJSON_ArrayForEach(it, list)
		if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(it,
		    "name")), stack) == 0 && cJSON_IsNumber(v =
		    cJSON_GetObjectItem(it, key_ms)))
			return (long long)v->valuedouble;
	return d;
}

long long
ctl_stacks_sync_timeout(const struct ctl_config *c, const char *stack)
{
	return entry_ms(c, stack, "sync_timeout_ms", c != NULL &&
	    c->sync_timeout_ms > 0 ? c->sync_timeout_ms : HEALTH_TIMEOUT_MS);
}

long long
ctl_stacks_hook_timeout(const struct ctl_config *c, const char *stack)
{
	return entry_ms(c, stack, "hook_timeout_ms", c != NULL &&
	    c->hook_timeout_ms > 0 ? c->hook_timeout_ms : CTL_HOOK_TIMEOUT_MS);
}

long
ctl_image_poll_ms(const struct ctl_config *c)
{
	if (c->image_poll_ms == CTL_IMAGE_POLL_EVERY)
		return 0;
	return c->image_poll_ms > 0 ? c->image_poll_ms : IMAGES_POLL_MS;
}

enum compose_interp_mode
ctl_stacks_interp(const struct ctl_config *c, const char *source,
    const char *stack)
{
	const struct ctl_source_config *s = source_named(c, source);
	const char *v = listed(c, stack, "interpolation");
	enum compose_interp_mode m = s != NULL && s->interp > 0 ?
	    (enum compose_interp_mode)(s->interp - 1) : c->interp;

	if (v != NULL)
		compose_interp_mode_parse(v, &m);
	return m;
}

void
ctl_stacks_for_engine(struct ctl_stack_set *set, const struct ctl_config *c,
    const struct sources_snapshot *snap, const char *source,
    const char *engine)
{
	const struct sources_list *all = &snap->list;

	memset(set, 0, sizeof(*set));
	if (c->stack_list != NULL) {
		ctl_stacks_listed(&set->listed, c, snap, source);
		all = &set->listed;
	}
	if (all->n == 0)
		return;
	set->mine.stacks = xcalloc(all->n, sizeof(*all->stacks));
	for (size_t i = 0; i < all->n; i++)
		if (ctl_config_targets(c, all->stacks[i].name, engine))
			set->mine.stacks[set->mine.n++] = all->stacks[i];
}

void
ctl_stack_set_release(struct ctl_stack_set *set)
{
	free(set->mine.stacks);
	set->mine.stacks = NULL;
	set->mine.n = 0;
	sources_list_release(&set->listed);
}

/* The groups of an engine from n sources (a NULL snapshot, not read yet,
 * makes no group); sets[i] hold what group i borrows.  Returns how many
 * groups. */
static size_t
groups_for_engine(struct ctl_group *g, struct ctl_stack_set *sets,
    const struct ctl_config *c, struct sources_snapshot *const *snaps,
    const char *const *names, size_t n, const char *engine)
{
	size_t ng = 0;

	for (size_t i = 0; i < n; i++) {
		if (snaps[i] == NULL)
			continue;
		ctl_stacks_for_engine(&sets[i], c, snaps[i], names[i], engine);
		g[ng++] = (struct ctl_group){ .source = names[i],
		    .root = snaps[i]->root, .snap = snaps[i],
		    .list = &sets[i].mine };
	}
	return ng;
}

void
ctl_pass_sources(struct ctl_pass *p, const struct ctl_config *c,
    struct sources_snapshot *const *snaps, const char *const *names,
    size_t n, const char *engine, const struct compose_options *base)
{
	struct ctl_stack_set *sets = xcalloc(n, sizeof(*sets));
	struct ctl_group *g = xcalloc(n, sizeof(*g));
	size_t ng = groups_for_engine(g, sets, c, snaps, names, n, engine);

	ctl_pass_groups(p, g, ng, ng == n, base);
	for (size_t i = 0; i < n; i++)
		ctl_stack_set_release(&sets[i]);
	free(sets);
	free(g);
}
