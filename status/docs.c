/*
 * docs.c - what the status process serves: the documents the daemon
 * rendered, by path, and the few secrets it checks requests against.
 *
 * The daemon is the trusted side, but a message that is not what it
 * sends (a path without its slash, a type too long) is refused all the
 * same: the process then stops, and a fresh one gets everything again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>

#include "alloc.h"
#include "status_int.h"

struct ctl_docs {
	pthread_mutex_t mu;
	struct ctl_pathmap map;		/* path -> struct ctl_doc */
	cJSON *config;			/* CTL_MSG_CONFIG's */
};

struct ctl_docs *
ctl_docs_new(void)
{
	struct ctl_docs *d = xcalloc(1, sizeof(*d));

	pthread_mutex_init(&d->mu, NULL);
	d->config = cJSON_CreateObject();
	return d;
}

static void
doc_free(void *p)
{
	struct ctl_doc *doc = p;

	if (doc != NULL)
		free(doc->body);
	free(doc);
}

/* Secrets are wiped, not only freed: the heap outlives them. */
static void
config_free(cJSON *c)
{
	for (cJSON *it = c; it != NULL; it = it->next) {
		if (it->child != NULL)
			config_free(it->child);
		if (cJSON_IsString(it) && it->valuestring != NULL)
			OPENSSL_cleanse(it->valuestring, strlen(it->valuestring));
	}
}

void
ctl_docs_free(struct ctl_docs *d)
{
	if (d == NULL)
		return;
	ctl_pathmap_clear(&d->map, doc_free);
	config_free(d->config);
	cJSON_Delete(d->config);
	pthread_mutex_destroy(&d->mu);
	free(d);
}

/* "CODE PATH\nTYPE\n" BODY into a document and its path. */
static int
parse_doc(const struct frame *f, char *path, struct ctl_doc *doc,
    struct err *err)
{
	const char *p = f->data, *end = f->data + f->len, *nl, *type;
	char *num_end;
	long code;

	if (f->len < 6)
		goto bad;
	code = strtol(p, &num_end, 10);
	if (num_end != p + 3 || code < 100 || code > 599 || p[3] != ' ' ||
	    p[4] != '/')
		goto bad;
	p += 4;
	if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL ||
	    (size_t)(nl - p) >= CTL_MSG_PATH_MAX || memchr(p, '\0',
	    (size_t)(nl - p)) != NULL)
		goto bad;
	memcpy(path, p, (size_t)(nl - p));
	path[nl - p] = '\0';
	type = nl + 1;
	if ((nl = memchr(type, '\n', (size_t)(end - type))) == NULL ||
	    (size_t)(nl - type) >= sizeof(doc->type) || nl == type)
		goto bad;
	doc->code = (unsigned)code;
	memcpy(doc->type, type, (size_t)(nl - type));
	doc->type[nl - type] = '\0';
	doc->len = (size_t)(end - nl - 1);
	doc->body = xmalloc(doc->len + 1);
	memcpy(doc->body, nl + 1, doc->len);
	doc->body[doc->len] = '\0';
	return 0;
bad:
	return err_set(err, ERR_PROTOCOL, "status process: a malformed "
	    "document from the daemon");
}

/* A joined document's body: paths, one a line, each ending in one. */
static int
parse_join(struct ctl_doc *doc, struct err *err)
{
	const char *p = doc->body, *end = doc->body + doc->len, *nl;

	doc->join = true;
	for (; p < end; p = nl + 1)
		if (*p != '/' || (nl = memchr(p, '\n', (size_t)(end - p))) ==
		    NULL || (size_t)(nl - p) >= CTL_MSG_PATH_MAX ||
		    memchr(p, '\0', (size_t)(nl - p)) != NULL)
			return err_set(err, ERR_PROTOCOL, "status process: a "
			    "malformed joined document from the daemon");
	return 0;
}

/* n bytes at buf + *at when buf is set (the copying pass); *at moves on
 * in both passes. */
static void
put(char *buf, size_t *at, const char *p, size_t n)
{
	if (buf != NULL)
		memcpy(buf + *at, p, n);
	*at += n;
}

/* The documents a joined one names, as one JSON array; under d->mu. */
static void
join_get(struct ctl_docs *d, const struct ctl_doc *join,
    struct ctl_doc *out)
{
	char path[CTL_MSG_PATH_MAX], *buf = NULL;
	const char *p, *end = join->body + join->len, *nl;
	const struct ctl_doc *part;
	size_t at = 0, parts = 0;

	/* measured, then copied */
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1)
			buf = xmalloc(at + 1);
		at = parts = 0;
		put(buf, &at, "[", 1);
		for (p = join->body; p < end; p = nl + 1) {
			nl = memchr(p, '\n', (size_t)(end - p));
			memcpy(path, p, (size_t)(nl - p));
			path[nl - p] = '\0';
			part = ctl_pathmap_get(&d->map, path);
			if (part == NULL || part->join)
				continue;
			if (parts++ > 0)
				put(buf, &at, ",\n", 2);
			else
				put(buf, &at, "\n", 1);
			/* a part is a JSON document and its newline */
			put(buf, &at, part->body, part->len > 0 &&
			    part->body[part->len - 1] == '\n' ? part->len - 1 :
			    part->len);
		}
		put(buf, &at, parts ? "\n]\n" : "]\n", parts ? 3 : 2);
	}
	buf[at] = '\0';
	out->body = buf;
	out->len = at;
	out->join = false;
}

static int
apply_config(struct ctl_docs *d, const struct frame *f, struct err *err)
{
	cJSON *c = cJSON_ParseWithLength(f->data ? f->data : "", f->len);

	if (!cJSON_IsObject(c)) {
		cJSON_Delete(c);
		return err_set(err, ERR_PROTOCOL, "status process: a malformed "
		    "configuration from the daemon");
	}
	pthread_mutex_lock(&d->mu);
	config_free(d->config);
	cJSON_Delete(d->config);
	d->config = c;
	pthread_mutex_unlock(&d->mu);
	return 0;
}

int
ctl_docs_apply(struct ctl_docs *d, const struct frame *f, struct err *err)
{
	char path[CTL_MSG_PATH_MAX];
	struct ctl_doc *doc, **slot;
	int rc;

	switch (f->type) {
	case CTL_MSG_CONFIG:
		return apply_config(d, f, err);
	case CTL_MSG_DOC:
	case CTL_MSG_JOIN:
		doc = xcalloc(1, sizeof(*doc));
		if ((rc = parse_doc(f, path, doc, err)) < 0 ||
		    (f->type == CTL_MSG_JOIN && (rc = parse_join(doc, err)) < 0)) {
			doc_free(doc);
			return rc;
		}
		pthread_mutex_lock(&d->mu);
		slot = (struct ctl_doc **)ctl_pathmap_slot(&d->map, path);
		doc_free(*slot);
		*slot = doc;
		pthread_mutex_unlock(&d->mu);
		return 0;
	case CTL_MSG_DROP:
		if (f->len == 0 || f->data[0] != '/' || f->len >= CTL_MSG_PATH_MAX)
			return err_set(err, ERR_PROTOCOL, "status process: a "
			    "malformed removal from the daemon");
		pthread_mutex_lock(&d->mu);
		doc_free(ctl_pathmap_take(&d->map, f->data));
		pthread_mutex_unlock(&d->mu);
		return 0;
	default:
		return err_set(err, ERR_PROTOCOL, "status process: message type "
		    "%u from the daemon", (unsigned)f->type);
	}
}

bool
ctl_docs_get(struct ctl_docs *d, const char *path, struct ctl_doc *out)
{
	const struct ctl_doc *doc;

	pthread_mutex_lock(&d->mu);
	doc = ctl_pathmap_get(&d->map, path);
	if (doc != NULL) {
		*out = *doc;
		if (doc->join)
			join_get(d, doc, out);
		else {
			out->body = xmalloc(doc->len + 1);
			memcpy(out->body, doc->body, doc->len + 1);
		}
	}
	pthread_mutex_unlock(&d->mu);
	return doc != NULL;
}

static const char *
config_str(const struct ctl_docs *d, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(d->config, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

bool
ctl_docs_bearer(struct ctl_docs *d, int which, const char *header)
{
	const char *token;
	bool ok;

	pthread_mutex_lock(&d->mu);
	token = config_str(d, which == 0 ? "token" : "registry_secret");
	if (token == NULL)
		ok = which == 0;
	else if (header == NULL || strncmp(header, "Bearer ", 7) != 0)
		ok = false;
	else	/* constant time in the token's content; its length shows */
		ok = strlen(header + 7) == strlen(token) &&
		    CRYPTO_memcmp(header + 7, token, strlen(token)) == 0;
	pthread_mutex_unlock(&d->mu);
	return ok;
}

bool
ctl_docs_has_registry(struct ctl_docs *d)
{
	bool has;

	pthread_mutex_lock(&d->mu);
	has = config_str(d, "registry_secret") != NULL;
	pthread_mutex_unlock(&d->mu);
	return has;
}

char *
ctl_docs_hook_secret(struct ctl_docs *d, const char *source)
{
	const cJSON *v;
	char *s = NULL;

	pthread_mutex_lock(&d->mu);
	v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(
	    d->config, "hooks"), source);
	if (cJSON_IsString(v))
		s = xstrdup(v->valuestring);
	pthread_mutex_unlock(&d->mu);
	return s;
}

void
ctl_docs_secret_free(char *s)
{
	if (s != NULL)
		OPENSSL_cleanse(s, strlen(s));
	free(s);
}

void
ctl_docs_sandbox(struct ctl_docs *d, char *user, size_t size, bool *enabled)
{
	const char *u;

	pthread_mutex_lock(&d->mu);
	u = config_str(d, "user");
	snprintf(user, size, "%s", u != NULL ? u : "nobody");
	*enabled = !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(d->config,
	    "sandbox"));
	pthread_mutex_unlock(&d->mu);
}
