/*
 * publish.c - the daemon's side of the status documents: render every
 * one from the state (under its lock, as a request did when the server
 * ran in the daemon), then send the status process only those that
 * differ from what it was last sent, and the removal of those gone.
 *
 * What was sent is remembered as a hash per path, not as a copy: at a
 * thousand stacks the documents are megabytes, their hashes kilobytes.
 * The per-stack documents (and the list of stacks) are rendered only
 * when a stack's state or history changed (ctl_state.stack_changes): a
 * no-op cycle renders the few documents that show its counters.  They
 * are rendered and sent a slice of stacks at a time, the lock let go in
 * between, so that all of them are never in memory at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "alloc.h"
#include "hash.h"
#include "daemon.h"
#include "status.h"
#include "status_int.h"

#define CONFIG_PATH "\001config"
/* Stacks whose documents are rendered under one hold of the lock. */
#define PUBLISH_SLICE 32

/* A document, rendered as its CTL_MSG_DOC message. */
struct msg {
	uint32_t type;
	char *path;	/* key of the table of what was sent */
	char *data;
	size_t len;
	bool stacky;	/* rendered only when the stacks changed */
};

/* What the table keeps of a document sent. */
struct sent {
	uint64_t hash;
	unsigned long round;	/* the last render that had it */
	bool stacky;
};

struct batch {
	struct msg *v;
	size_t n, cap;
	bool stacky;	/* what is added now */
};

struct ctl_publisher {
	struct ctl_pathmap sent;	/* path -> struct sent */
	unsigned long round;
	bool stacks_rendered;		/* in this round */
	bool stacks_known;		/* stack_changes is what was sent */
	unsigned long stack_changes;
	/* The parts of the page and the metrics the stacks make, as of
	 * stack_changes. */
	char *page_stacks, *metrics_stacks;
};

struct ctl_publisher *
ctl_publisher_new(void)
{
	return xcalloc(1, sizeof(struct ctl_publisher));
}

void
ctl_publisher_reset(struct ctl_publisher *p)
{
	ctl_pathmap_clear(&p->sent, free);
	p->stacks_known = false;
	free(p->page_stacks);
	free(p->metrics_stacks);
	p->page_stacks = p->metrics_stacks = NULL;
}

void
ctl_publisher_free(struct ctl_publisher *p)
{
	if (p == NULL)
		return;
	ctl_publisher_reset(p);
	free(p);
}

static void
add(struct batch *b, uint32_t type, const char *path, char *data, size_t len)
{
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 64;
		b->v = xrealloc(b->v, b->cap * sizeof(*b->v));
	}
	b->v[b->n++] = (struct msg){ type, xstrdup(path), data, len,
	    b->stacky };
}

/* "CODE PATH\nTYPE\n" BODY; takes body. */
static void
add_doc(struct batch *b, const char *path, unsigned code, const char *type,
    char *body)
{
	size_t blen, hlen;
	char *m;

	if (body == NULL)
		return;
	blen = strlen(body);
	hlen = (size_t)snprintf(NULL, 0, "%03u %s\n%s\n", code, path, type);
	m = xmalloc(hlen + blen + 1);
	snprintf(m, hlen + 1, "%03u %s\n%s\n", code, path, type);
	memcpy(m + hlen, body, blen + 1);
	free(body);
	add(b, CTL_MSG_DOC, path, m, hlen + blen);
}

static char *
json_text(cJSON *doc)
{
	char *text, *body;
	size_t n;

	if (doc == NULL)
		return NULL;
	text = cJSON_Print(doc);
	cJSON_Delete(doc);
	n = strlen(text);
	body = xmalloc(n + 2);
	memcpy(body, text, n);
	memcpy(body + n, "\n", 2);
	free(text);
	return body;
}

static void
add_json(struct batch *b, const char *path, cJSON *doc)
{
	add_doc(b, path, 200, "application/json", json_text(doc));
}

static void
note_name(struct ctl_pathmap *names, const cJSON *obj)
{
	const cJSON *s;

	cJSON_ArrayForEach(s, obj)
		*ctl_pathmap_slot(names, s->string) = (void *)1;
}

/* The stacks whose documents a render sends, a slice at a time, and the
 * list of them, sent last. */
struct names {
	struct ctl_pathmap set;
	const char **v;		/* the set's keys */
	size_t n;
	struct batch list;
};

static void
name_add(const char *name, void *val, void *arg)
{
	struct names *ns = arg;

	(void)val;
	ns->v[ns->n++] = name;
}

/* Room for a stack's longest path ("/api/v1/stacks/NAME/history"). */
static bool
path_fits(const char *name)
{
	return strlen(name) + 32 <= CTL_MSG_PATH_MAX;
}

static void
list_line(const char *name, void *arg)
{
	if (path_fits(name))
		buf_appendf(arg, "/api/v1/stacks/%s\n", name);
}

/*
 * /api/v1/stacks: every stack any engine reports, in the order the
 * sources list them, each as /api/v1/stacks/NAME shows it.  The status
 * process joins those documents (CTL_MSG_JOIN): at a thousand stacks the
 * list is megabytes the daemon would render again at every change of
 * any stack, and hold twice while printing it.
 */
static void
stacks_list(const struct ctl_state *st, struct batch *b)
{
	struct buf m;
	size_t len;

	buf_init(&m, CTL_MSG_DOC_MAX);
	buf_appendf(&m, "200 /api/v1/stacks\napplication/json\n");
	ctl_stacks_each(st, list_line, &m);
	b->stacky = true;
	len = m.len;
	add(b, CTL_MSG_JOIN, "/api/v1/stacks", buf_steal(&m), len);
}

static void
stack_docs(const struct ctl_state *st, const char *name, struct batch *b)
{
	char path[CTL_MSG_PATH_MAX];

	if (!path_fits(name))
		return;
	snprintf(path, sizeof(path), "/api/v1/stacks/%s", name);
	add_json(b, path, ctl_stacks_json(st, name));
	snprintf(path, sizeof(path), "/api/v1/stacks/%s/history", name);
	add_json(b, path, ctl_history_json(st, name));
	snprintf(path, sizeof(path), "/stacks/%s", name);
	add_doc(b, path, 200, "text/html; charset=utf-8",
	    ctl_stack_page_html(st, name));
}

/* What the status process needs of the daemon's secrets: the status
 * token, the webhooks' secrets, and nothing else. */
static char *
config_text(const struct ctl_state *st, const char *user, bool sandbox)
{
	cJSON *c = cJSON_CreateObject(), *hooks;
	char *text;

	if (st->token != NULL)
		cJSON_AddStringToObject(c, "token", st->token);
	if (st->registry_secret != NULL)
		cJSON_AddStringToObject(c, "registry_secret",
		    st->registry_secret);
	hooks = cJSON_AddObjectToObject(c, "hooks");
	for (size_t i = 0; i < st->nsources; i++)
		if (st->sources[i].webhook_secret != NULL &&
		    st->sources[i].src != NULL)
			cJSON_AddStringToObject(hooks, st->sources[i].name,
			    st->sources[i].webhook_secret);
	cJSON_AddStringToObject(c, "user", user);
	cJSON_AddBoolToObject(c, "sandbox", sandbox);
	text = cJSON_PrintUnformatted(c);
	cJSON_Delete(c);
	return text;
}

/* Every document but the stacks' own, rendered under the state lock;
 * and, when the stacks changed since p last rendered them, the names of
 * the stacks whose documents are due. */
static void
render(struct ctl_publisher *p, struct ctl_state *st, const char *user,
    bool sandbox, struct batch *b, struct names *ns)
{
	bool ready;
	char *config;

	pthread_mutex_lock(&st->mu);
	config = config_text(st, user, sandbox);
	add(b, CTL_MSG_CONFIG, CONFIG_PATH, config, strlen(config));
	ready = ctl_ready(st);
	add_doc(b, "/readyz", ready ? 200 : 503, "text/plain",
	    xstrdup(ready ? "ready\n" : "not ready\n"));
	p->stacks_rendered = !p->stacks_known ||
	    p->stack_changes != st->stack_changes;
	p->stacks_known = true;
	p->stack_changes = st->stack_changes;
	if (p->stacks_rendered) {
		free(p->page_stacks);
		free(p->metrics_stacks);
		p->page_stacks = ctl_page_stacks_html(st);
		p->metrics_stacks = ctl_metrics_stacks_text(st);
	}
	add_doc(b, "/", 200, "text/html; charset=utf-8",
	    ctl_page_html(st, p->page_stacks));
	add_doc(b, "/metrics", 200, "text/plain; version=0.0.4; charset=utf-8",
	    ctl_metrics_text(st, p->metrics_stacks));
	add_json(b, "/api/v1/status", ctl_status_json(st));
	if (p->stacks_rendered) {
		stacks_list(st, &ns->list);
		for (size_t i = 0; i < st->nengines; i++) {
			note_name(&ns->set, st->engines[i].stacks);
			note_name(&ns->set, st->engines[i].syncs);
		}
		ns->v = xcalloc(ns->set.n + 1, sizeof(*ns->v));
		ctl_pathmap_each(&ns->set, name_add, ns);
	}
	pthread_mutex_unlock(&st->mu);
}

/* The documents of stacks names[0..n-1], rendered under the lock.  A
 * stack gone in between renders as one not found, and is dropped with
 * the rest at the end of the round. */
static void
render_stacks(struct ctl_state *st, const char *const *names, size_t n,
    struct batch *b)
{
	b->stacky = true;
	pthread_mutex_lock(&st->mu);
	for (size_t i = 0; i < n; i++)
		stack_docs(st, names[i], b);
	pthread_mutex_unlock(&st->mu);
}

struct drop_arg {
	struct ctl_publisher *p;
	struct batch *b;
};

static void
find_gone(const char *path, void *val, void *arg)
{
	struct drop_arg *a = arg;
	const struct sent *s = val;

	if (s->round != a->p->round && (a->p->stacks_rendered || !s->stacky))
		add(a->b, CTL_MSG_DROP, path, xstrdup(path), strlen(path));
}

/* Send m unless the process has it already: 0 or < 0 (err). */
static int
send_changed(struct ctl_publisher *p, int fd, const struct msg *m,
    size_t *sent, struct err *err)
{
	struct sent **slot = (struct sent **)ctl_pathmap_slot(&p->sent, m->path);
	uint64_t h = hash_fnv1a(m->data, m->len);

	if (*slot == NULL) {
		*slot = xcalloc(1, sizeof(**slot));
	} else if ((*slot)->hash == h) {
		(*slot)->round = p->round;
		return 0;
	}
	(*slot)->hash = h;
	(*slot)->round = p->round;
	(*slot)->stacky = m->stacky;
	(*sent)++;
	/* Held back on a failure: sent again, in full, to the next one. */
	return frame_send(fd, m->type, m->data, m->len, err);
}

/* The configuration carries secrets: wiped, not only freed. */
static void
release(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		if (b->v[i].type == CTL_MSG_CONFIG)
			OPENSSL_cleanse(b->v[i].data, b->v[i].len);
		free(b->v[i].path);
		free(b->v[i].data);
	}
	free(b->v);
}

/* Send what of b the process lacks, then let b go. */
static int
send_batch(struct ctl_publisher *p, int fd, struct batch *b, size_t *sent,
    struct err *err)
{
	int rc = 0;

	for (size_t i = 0; i < b->n && rc == 0; i++)
		rc = send_changed(p, fd, &b->v[i], sent, err);
	release(b);
	memset(b, 0, sizeof(*b));
	return rc;
}

int
ctl_publisher_send(struct ctl_publisher *p, struct ctl_state *st,
    const char *user, bool sandbox, int fd, size_t *sent, struct err *err)
{
	struct batch b = { 0 }, gone = { 0 };
	struct drop_arg a = { p, &gone };
	struct names ns = { 0 };
	int rc;

	*sent = 0;
	p->round++;
	render(p, st, user, sandbox, &b, &ns);
	rc = send_batch(p, fd, &b, sent, err);
	/* The stacks' documents a slice at a time: at a thousand stacks
	 * they are megabytes, and each slice is freed once sent. */
	for (size_t i = 0; i < ns.n && rc == 0; i += PUBLISH_SLICE) {
		render_stacks(st, ns.v + i, ns.n - i < PUBLISH_SLICE ?
		    ns.n - i : PUBLISH_SLICE, &b);
		rc = send_batch(p, fd, &b, sent, err);
	}
	/* after its parts, which the status process joins as they are */
	if (rc == 0)
		rc = send_batch(p, fd, &ns.list, sent, err);
	release(&ns.list);
	free(ns.v);
	ctl_pathmap_clear(&ns.set, NULL);
	if (rc == 0)
		ctl_pathmap_each(&p->sent, find_gone, &a);
	for (size_t i = 0; i < gone.n && rc == 0; i++) {
		free(ctl_pathmap_take(&p->sent, gone.v[i].path));
		(*sent)++;
		rc = frame_send(fd, CTL_MSG_DROP, gone.v[i].data,
		    gone.v[i].len, err);
	}
	release(&gone);
	return rc;
}
