/*
 * sync_history.c - what a worker did to each stack, kept: per stack the
 * last CTL_SYNCS operations (a plan carried out, or a failure), newest
 * first, in the engine's published state for the status API and in
 * STATE_DIR/history/ENGINE/STACK.json, so that "why did it fail
 * yesterday" survives a restart.
 *
 * A failure that repeats (the same revision and error, cycle after
 * cycle) stays one entry: its retries count up in "attempts", and a load
 * error seen again changes nothing, so a broken push does not write a
 * file every cycle.  Field paths only, never values: an environment
 * variable may hold a password.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "clock.h"
#include "json.h"
#include "log.h"
#include "path.h"
#include "worker_int.h"

#define FIELDS_MAX 32

/* A name as a file name: [A-Za-z0-9._-] kept, the rest as %XX. */
static void
file_name(char *out, size_t size, const char *name, const char *suffix)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)name;
	    *p != '\0' && n + 4 < size; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
		    (*p == '.' && p != (const unsigned char *)name))
			out[n++] = (char)*p;
		else
			n += (size_t)snprintf(out + n, size - n, "%%%02X", *p);
	}
	snprintf(out + n, size - n, "%s", suffix);
}

static void
file_unname(char *out, size_t size, const char *file)
{
	size_t n = 0;
	unsigned v;

	for (; *file != '\0' && n + 1 < size; file++)
		if (*file == '%' && sscanf(file + 1, "%2x", &v) == 1) {
			out[n++] = (char)v;
			file += 2;
		} else {
			out[n++] = *file;
		}
	out[n] = '\0';
}

static cJSON *
read_entries(const char *path)
{
	FILE *f = fopen(path, "re");
	char *text = NULL;
	size_t len = 0;
	cJSON *a = NULL;

	if (f == NULL)
		return NULL;
	if (getdelim(&text, &len, '\0', f) > 0)
		a = cJSON_Parse(text);
	free(text);
	fclose(f);
	if (!cJSON_IsArray(a)) {
		cJSON_Delete(a);
		return NULL;
	}
	while (cJSON_GetArraySize(a) > CTL_SYNCS)
		cJSON_DeleteItemFromArray(a, CTL_SYNCS);
	return a;
}

void
ctl_sync_history_open(struct ctl_worker *w)
{
	struct ctl_state *st = &w->d->st;
	char dir[4096], engine[768], stack[512];
	cJSON *syncs = cJSON_CreateObject(), *a;
	struct dirent *de;
	struct err err;
	DIR *dp;
	int n;

	ctl_state_dir(w->d->cfg, dir, sizeof(dir));
	file_name(engine, sizeof(engine), w->cfg->name, "");
	n = (int)strlen(dir);
	snprintf(dir + n, sizeof(dir) - (size_t)n, "/history/%s", engine);
	w->syncs_dir = xstrdup(dir);
	if (path_mkdirs(dir, &err) < 0)
		log_event(LOG_WARN, w->cfg->name, NULL, NULL, "sync history "
		    "is not kept: %s", err.msg);
	if ((dp = opendir(dir)) != NULL) {
		while ((de = readdir(dp)) != NULL) {
			char *path;
			if (!path_has_suffix(de->d_name, ".json"))
				continue;
			path = path_join(dir, de->d_name);
			a = read_entries(path);
			free(path);
			if (a == NULL) {
				log_event(LOG_WARN, w->cfg->name, NULL, NULL,
				    "sync history %s/%s unreadable, started "
				    "afresh", dir, de->d_name);
				continue;
			}
			de->d_name[strlen(de->d_name) - 5] = '\0';
			file_unname(stack, sizeof(stack), de->d_name);
			cJSON_AddItemToObject(syncs, stack, a);
		}
		closedir(dp);
	}
	pthread_mutex_lock(&st->mu);
	cJSON_Delete(st->engines[w->idx].syncs);
	st->engines[w->idx].syncs = syncs;
	st->stack_changes++;
	ctl_state_unlock(st);
}

/* The diff's field path ("TaskTemplate.ContainerSpec.Env: a -> b"). */
static int
field_len(const char *diff)
{
	const char *colon = strstr(diff, ": ");

	return colon ? (int)(colon - diff) : (int)strlen(diff);
}

/* The field a diff is about, without list indexes ("...Env[0]" is
 * "...Env"); false for stackd's own bookkeeping labels, which change
 * with every revision. */
static bool
field_name(char *out, size_t size, const char *diff)
{
	int n = field_len(diff);
	char *b;

	snprintf(out, size, "%.*s", n, diff);
	while ((b = strrchr(out, '[')) != NULL && b[strlen(b) - 1] == ']')
		*b = '\0';
	return strncmp(out, "Labels.com.stackd.", 18) != 0;
}

static bool
is_image_field(const char *diff)
{
	static const char image[] = "ContainerSpec.Image";
	int n = field_len(diff), m = (int)sizeof(image) - 1;

	return n >= m && strncmp(diff + n - m, image, (size_t)m) == 0;
}

/* What made this sync: a new revision (by a webhook or not), drift
 * repaired, an image that moved, or else the interval's look. */
static const char *
trigger_of(const struct cycle *c, const struct ctl_result *r,
    const char *previous)
{
	const struct recon_plan *p = r->plan;
	bool image = p != NULL && p->n > 0;

	if (r->removal)
		return "revision";
	if (r->snap != NULL && strcmp(previous, r->snap->revision) != 0) {
		for (size_t i = 0; i < c->w->d->st.nsources; i++)
			if (r->source != NULL && c->names[i] != NULL &&
			    strcmp(c->names[i], r->source) == 0 &&
			    c->webhook[i])
				return "webhook";
		return "revision";
	}
	for (size_t i = 0; p != NULL && i < p->n; i++) {
		const cJSON *d;
		if (p->changes[i].drift)
			return "drift";
		if (p->changes[i].action != RECON_UPDATE ||
		    cJSON_GetArraySize(p->changes[i].diffs) == 0)
			image = false;
		cJSON_ArrayForEach(d, p->changes[i].diffs)
			image = image && is_image_field(d->valuestring);
	}
	return image ? "image" : "interval";
}

cJSON *
ctl_changes_json(const struct recon_plan *p, size_t n)
{
	static const char *const verbs[] = { "create", "update", "remove" };
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; p != NULL && i < n && i < p->n; i++) {
		const struct recon_change *ch = &p->changes[i];
		cJSON *o = cJSON_CreateObject(), *fields;
		const cJSON *d;
		char path[512];

		cJSON_AddStringToObject(o, "action", verbs[ch->action]);
		cJSON_AddStringToObject(o, "kind", engine_kind_name(ch->kind));
		cJSON_AddStringToObject(o, "name", ch->name);
		if (ch->drift)
			cJSON_AddTrueToObject(o, "drift");
		if (ch->diffs != NULL) {
			fields = cJSON_AddArrayToObject(o, "fields");
			cJSON_ArrayForEach(d, ch->diffs) {
				if (cJSON_GetArraySize(fields) == FIELDS_MAX)
					break;
				if (field_name(path, sizeof(path),
				    d->valuestring))
					json_add_unique(fields, path);
			}
		}
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

/* The same failure again: true if the newest entry took it in (attempts
 * counted when it was written again), *changed if it changed. */
static bool
same_failure(cJSON *newest, const struct ctl_result *r, const char *rev,
    const char *msg, long long now, bool *changed)
{
	cJSON *at;
	char ts[32];

	*changed = false;
	if (newest == NULL || msg == NULL || (r->applied && r->stats.done) ||
	    !json_str(newest, "error") ||
	    strcmp(json_str(newest, "error"), msg) != 0 ||
	    strcmp(json_str(newest, "revision") ?
	    json_str(newest, "revision") : "", rev) != 0)
		return false;
	if (!r->applied)
		return true;
	*changed = true;
	at = cJSON_GetObjectItemCaseSensitive(newest, "attempts");
	cJSON_SetNumberValue(at, json_num(newest, "attempts") + 1);
	cJSON_DeleteItemFromObjectCaseSensitive(newest, "finished");
	cJSON_AddStringToObject(newest, "finished", clock_iso_time(now, ts));
	return true;
}

static void
save(const struct ctl_worker *w, const char *stack, char *text)
{
	char file[768], *path;
	struct err err;

	file_name(file, sizeof(file), stack, ".json");
	path = path_join(w->syncs_dir, file);
	if (path_write_atomic(path, text, strlen(text), &err) < 0)
		log_event(LOG_WARN, w->cfg->name, stack, NULL, "sync history: "
		    "%s", err.msg);
	free(path);
	free(text);
}

void
ctl_sync_history_record(struct cycle *c, const struct ctl_result *r,
    const struct stack_mem *m, const char *msg)
{
	struct ctl_state *st = &c->w->d->st;
	bool wrote = r->applied && r->plan != NULL && r->plan->n > 0;
	long long now = (long long)time(NULL);
	const char *rev = r->snap != NULL ? r->snap->revision : m->revision;
	const char *previous = m->revision;
	cJSON *a, *e, *newest;
	char *text = NULL, ts[32];
	double secs;
	bool changed;

	if (!wrote && msg == NULL)
		return;
	pthread_mutex_lock(&st->mu);
	st->stack_changes++;
	if ((a = cJSON_GetObjectItemCaseSensitive(st->engines[c->w->idx].syncs,
	    r->stack)) == NULL)
		a = cJSON_AddArrayToObject(st->engines[c->w->idx].syncs,
		    r->stack);
	newest = cJSON_GetArrayItem(a, 0);
	/* After a restart, the revision the history last names. */
	if (*previous == '\0' && json_str(newest, "revision") != NULL)
		previous = json_str(newest, "revision");
	if (same_failure(newest, r, rev, msg, now, &changed)) {
		if (changed)
			text = cJSON_PrintUnformatted(a);
		ctl_state_unlock(st);
		if (text != NULL)
			save(c->w, r->stack, text);
		return;
	}
	secs = r->applied ? r->stats.seconds : 0;
	e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "started", clock_iso_time(now -
	    (long long)(secs + 0.5), ts));
	cJSON_AddStringToObject(e, "finished", clock_iso_time(now, ts));
	cJSON_AddNumberToObject(e, "duration_seconds", secs);
	cJSON_AddStringToObject(e, "trigger", trigger_of(c, r, previous));
	cJSON_AddStringToObject(e, "revision", rev);
	if (r->source != NULL)
		cJSON_AddStringToObject(e, "source", r->source);
	cJSON_AddStringToObject(e, "result", msg != NULL ? "failed" :
	    r->removal ? "removed" : "synced");
	cJSON_AddItemToObject(e, "changes", ctl_changes_json(r->plan,
	    r->applied ? r->stats.done : 0));
	if (msg != NULL) {
		cJSON_AddStringToObject(e, "error", msg);
		cJSON_AddNumberToObject(e, "attempts", 1);
	}
	cJSON_InsertItemInArray(a, 0, e);
	while (cJSON_GetArraySize(a) > CTL_SYNCS)
		cJSON_DeleteItemFromArray(a, CTL_SYNCS);
	text = cJSON_PrintUnformatted(a);
	ctl_state_unlock(st);
	save(c->w, r->stack, text);
}
