/*
 * sops_yaml.c - SOPS YAML, decrypted by rewriting the text: each encrypted
 * scalar is replaced where it stands by its plaintext, and the top-level
 * sops block is cut out, so comments, anchors and layout reach the compose
 * loader as they were written.  libyaml's events give each scalar's place
 * (in characters; offsets are mapped back to bytes) and the key path that
 * is its AAD.
 */
#include <stdio.h>
#include <string.h>

#include <yaml.h>
#include <openssl/crypto.h>

#include "alloc.h"
#include "sops_int.h"

#define LEAVES_MAX 100000

struct leaf {
	char *keys[SOPS_PATH_MAX];
	size_t nkeys;
	char *text;
	size_t len;
	bool plain;		/* a plain scalar, typed like go-yaml */
	size_t start, end;	/* characters, then bytes (to_bytes) */
};

struct frame {
	bool map;
	bool want_key;		/* map: the next scalar is a key */
	char *key;		/* map: the current key */
	cJSON *meta;		/* inside sops: what this frame builds */
};

struct walk {
	const char *file;
	struct err *err;
	struct frame st[SOPS_PATH_MAX + 2];
	size_t depth;
	int in_meta;		/* depth where the sops block starts, or 0 */
	cJSON *meta;
	/* The sops block, "sops:" to its end: characters, then bytes. */
	size_t cut_start, cut_end;
	bool seen_sops;
	struct leaf *leaves;
	size_t n, cap;
};

static int
fail(struct walk *w, const yaml_event_t *e, const char *msg)
{
	return err_set(w->err, ERR_UNSUPPORTED, "%s:%zu: %s", w->file,
	    e->start_mark.line + 1, msg);
}

static void
add_leaf(struct walk *w, const yaml_event_t *e)
{
	struct leaf *l;
	size_t nk = 0;

	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 64;
		w->leaves = xrealloc(w->leaves, w->cap * sizeof(*w->leaves));
	}
	l = &w->leaves[w->n++];
	memset(l, 0, sizeof(*l));
	for (size_t i = 1; i <= w->depth; i++)
		if (w->st[i].map && w->st[i].key != NULL)
			l->keys[nk++] = xstrdup(w->st[i].key);
	l->nkeys = nk;
	l->len = e->data.scalar.length;
	l->text = xstrndup((const char *)e->data.scalar.value, l->len);
	l->plain = e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    e->data.scalar.tag == NULL;
	l->start = e->start_mark.index;
	l->end = e->end_mark.index;
}

/* Inside the sops block: build it as JSON (every scalar a string). */
static void
meta_value(struct walk *w, cJSON *v)
{
	struct frame *f = &w->st[w->depth];

	if (f->meta == NULL) {		/* the block itself */
		w->meta = v;
		return;
	}
	if (f->map) {
		cJSON_AddItemToObject(f->meta, f->key, v);
		free(f->key);
		f->key = NULL;
		f->want_key = true;
	} else
		cJSON_AddItemToArray(f->meta, v);
}

static int
push(struct walk *w, const yaml_event_t *e, bool map)
{
	struct frame *parent = &w->st[w->depth], *f;
	bool root = w->depth == 1 && parent->map;

	if (w->depth + 1 >= sizeof(w->st) / sizeof(w->st[0]))
		return fail(w, e, "nested too deep for a SOPS file");
	if (parent->map && parent->want_key)
		return fail(w, e, "a key must be a plain value, not a list or "
		    "a mapping");
	if (w->depth == 0 && !map)
		return fail(w, e, "a SOPS YAML file is a mapping");
	if (w->depth == 0 && e->data.mapping_start.style ==
	    YAML_FLOW_MAPPING_STYLE)
		return fail(w, e, "a SOPS file in flow style ({...}) is not "
		    "supported");
	f = &w->st[++w->depth];
	memset(f, 0, sizeof(*f));
	f->map = map;
	f->want_key = true;
	if (w->in_meta == 0 && root && parent->key != NULL &&
	    strcmp(parent->key, "sops") == 0)
		w->in_meta = (int)w->depth;
	if (w->in_meta > 0) {
		cJSON *v = map ? cJSON_CreateObject() : cJSON_CreateArray();
		w->depth--;
		meta_value(w, v);
		w->depth++;
		f->meta = v;
	}
	return 0;
}

static void
pop(struct walk *w, const yaml_event_t *e)
{
	struct frame *f = &w->st[w->depth--], *parent = &w->st[w->depth];

	free(f->key);
	if (w->in_meta > 0 && (size_t)w->in_meta == w->depth + 1) {
		w->in_meta = 0;
		w->cut_end = e->end_mark.index;
	}
	if (parent->map) {
		free(parent->key);
		parent->key = NULL;
		parent->want_key = true;
	}
}

static int
scalar(struct walk *w, const yaml_event_t *e)
{
	struct frame *f = &w->st[w->depth];
	const char *v = (const char *)e->data.scalar.value;

	if (f->map && f->want_key) {
		if (w->depth == 1 && strcmp(v, "sops") == 0) {
			if (w->seen_sops)
				return fail(w, e, "two sops: blocks");
			w->seen_sops = true;
			w->cut_start = e->start_mark.index;
		}
		f->key = xstrdup(v);
		f->want_key = false;
		return 0;
	}
	if (w->in_meta > 0)
		meta_value(w, cJSON_CreateString(v));
	else if (w->depth == 1 && f->key != NULL && strcmp(f->key, "sops") ==
	    0)
		return fail(w, e, "sops: must be a mapping");
	else if (w->n == LEAVES_MAX)
		return fail(w, e, "too many values");
	else
		add_leaf(w, e);
	if (f->map) {
		free(f->key);
		f->key = NULL;
		f->want_key = true;
	}
	return 0;
}

static int
on_event(struct walk *w, const yaml_event_t *e, int *docs)
{
	switch (e->type) {
	case YAML_DOCUMENT_START_EVENT:
		return ++*docs > 1 ? fail(w, e, "a SOPS file with several "
		    "YAML documents is not supported") : 0;
	case YAML_MAPPING_START_EVENT:
	case YAML_SEQUENCE_START_EVENT:
		return push(w, e, e->type == YAML_MAPPING_START_EVENT);
	case YAML_MAPPING_END_EVENT:
	case YAML_SEQUENCE_END_EVENT:
		pop(w, e);
		return 0;
	case YAML_SCALAR_EVENT:
		if (w->st[w->depth].map && w->st[w->depth].want_key &&
		    e->data.scalar.style != YAML_PLAIN_SCALAR_STYLE &&
		    e->data.scalar.length == 0)
			return fail(w, e, "an empty key");
		return scalar(w, e);
	case YAML_ALIAS_EVENT:
		return fail(w, e, "YAML aliases in a SOPS file are not "
		    "supported (sops itself writes them out)");
	default:
		return 0;
	}
}

static void
walk_release(struct walk *w)
{
	for (size_t i = 0; i <= w->depth && i < sizeof(w->st) /
	    sizeof(w->st[0]); i++)
		free(w->st[i].key);
	for (size_t i = 0; i < w->n; i++) {
		for (size_t k = 0; k < w->leaves[i].nkeys; k++)
			free(w->leaves[i].keys[k]);
		OPENSSL_cleanse(w->leaves[i].text, w->leaves[i].len);
		free(w->leaves[i].text);
	}
	free(w->leaves);
	cJSON_Delete(w->meta);
}

static int
parse(struct walk *w, const char *text, size_t len)
{
	yaml_parser_t p;
	yaml_event_t e;
	int docs = 0, rc = 0;
	bool done = false;

	if (!yaml_parser_initialize(&p))
		alloc_fail();
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	while (rc == 0 && !done) {
		if (!yaml_parser_parse(&p, &e)) {
			rc = err_set(w->err, ERR_INVALID, "%s:%zu:%zu: invalid "
			    "YAML: %s", w->file, p.problem_mark.line + 1,
			    p.problem_mark.column + 1, p.problem ? p.problem :
			    "?");
			break;
		}
		done = e.type == YAML_STREAM_END_EVENT;
		rc = on_event(w, &e, &docs);
		yaml_event_delete(&e);
	}
	yaml_parser_delete(&p);
	return rc;
}

/* libyaml's marks count characters; the text is UTF-8.  A cursor walks
 * it forward, so marks asked for in document order cost one pass. */
struct cursor {
	const char *text;
	size_t len, chars, bytes;
};

static void
cursor_start(struct cursor *c)
{
	c->chars = 0;
	c->bytes = c->len >= 3 && memcmp(c->text, "\xef\xbb\xbf", 3) == 0 ?
	    3 : 0;
}

static size_t
cursor_seek(struct cursor *c, size_t chars)
{
	if (chars < c->chars)
		cursor_start(c);
	for (; c->chars < chars && c->bytes < c->len; c->chars++) {
		c->bytes++;
		while (c->bytes < c->len &&
		    ((unsigned char)c->text[c->bytes] & 0xc0) == 0x80)
			c->bytes++;
	}
	return c->bytes;
}

/* Every mark the rewrite uses, from characters to bytes: the leaves in
 * document order, then the block (one more pass when it comes first). */
static void
to_bytes(struct walk *w, const char *text, size_t len)
{
	struct cursor c = { .text = text, .len = len };

	cursor_start(&c);
	for (size_t i = 0; i < w->n; i++) {
		w->leaves[i].start = cursor_seek(&c, w->leaves[i].start);
		w->leaves[i].end = cursor_seek(&c, w->leaves[i].end);
	}
	w->cut_start = cursor_seek(&c, w->cut_start);
	w->cut_end = cursor_seek(&c, w->cut_end);
}

/* The plaintext as YAML: a string double-quoted, the rest as sops wrote
 * its type (True/False become true/false). */
static void
yaml_value(struct buf *out, const char *type, const struct buf *plain)
{
	if (strcmp(type, "bool") == 0) {
		buf_appendf(out, "%s", strcmp(plain->data, "True") == 0 ?
		    "true" : "false");
		return;
	}
	if (strcmp(type, "int") == 0 || strcmp(type, "float") == 0 ||
	    strcmp(type, "time") == 0) {
		buf_append(out, plain->data, plain->len);
		return;
	}
	buf_append(out, "\"", 1);
	for (size_t i = 0; i < plain->len; i++) {
		unsigned char c = (unsigned char)plain->data[i];

		if (c == '"' || c == '\\')
			buf_appendf(out, "\\%c", c);
		else if (c == '\n')
			buf_append(out, "\\n", 2);
		else if (c == '\t')
			buf_append(out, "\\t", 2);
		else if (c < 0x20 || c == 0x7f)
			buf_appendf(out, "\\x%02x", c);
		else
			buf_append(out, (const char *)&c, 1);
	}
	buf_append(out, "\"", 1);
}

/* Copy the text from *copied up to upto, leaving out the sops block (its
 * key to its end, and the line break after it). */
static void
copy_to(struct buf *out, const struct walk *w, const char *text, size_t len,
    size_t *copied, size_t upto)
{
	size_t s = w->cut_start, e = w->cut_end;

	if (e > s && s >= *copied && s < upto) {
		buf_append(out, text + *copied, s - *copied);
		while (e < len && (text[e] == ' ' || text[e] == '\t'))
			e++;
		if (e < len && text[e] == '\n')
			e++;
		*copied = e;
	}
	if (upto > *copied)
		buf_append(out, text + *copied, upto - *copied);
	*copied = upto > *copied ? upto : *copied;
}

/* One leaf through the run: its MAC bytes, and its replacement when it is
 * encrypted (appended to out, after the text before it). */
static int
leaf(struct sops_run *r, const struct walk *w, const struct leaf *l,
    const char *text, size_t len, size_t *copied, struct buf *out,
    struct buf *plain)
{
	char typed[128], type[8];
	size_t s, e;
	struct sops_leaf sl = { .keys = (const char *const *)l->keys,
	    .nkeys = l->nkeys, .text = l->text, .len = l->len,
	    .string = true };
	bool enc;
	int rc;

	if (l->plain) {
		enum sops_scalar t = sops_scalar_type(l->text, l->len, typed,
		    sizeof(typed));
		if (t == SCALAR_NULL)
			return 0;	/* neither encrypted nor in the MAC */
		if (t == SCALAR_TYPED) {
			sl.string = false;
			sl.mac_bytes = typed;
			sl.mac_len = strlen(typed);
		}
	}
	if ((rc = sops_run_leaf(r, &sl, plain, type, &enc)) < 0 || !enc)
		return rc;
	s = l->start;
	e = l->end;
	copy_to(out, w, text, len, copied, s);
	yaml_value(out, type, plain);
	/* A block scalar's end is the next line's start: keep the break. */
	if (e > s && text[e - 1] == '\n')
		buf_append(out, "\n", 1);
	*copied = e;
	OPENSSL_cleanse(plain->data, plain->len);
	return 0;
}

int
sops_yaml_decrypt(const struct sops_keys *k, const char *file,
    const char *text, size_t len, struct buf *out, unsigned char
    name_key[32], struct err *err)
{
	struct walk w = { .file = file, .err = err };
	struct sops_run r = { .file = file, .err = err };
	struct buf plain;
	size_t copied = 0;
	int rc;

	buf_init(&plain, SOPS_VALUE_MAX);
	if ((rc = parse(&w, text, len)) == 0 && w.meta == NULL)
		rc = err_set(err, ERR_INVALID, "%s: no sops metadata", file);
	if (rc == 0)
		to_bytes(&w, text, len);
	if (rc == 0)
		rc = sops_run_begin(&r, k, w.meta);
	for (size_t i = 0; rc == 0 && i < w.n; i++)
		rc = leaf(&r, &w, &w.leaves[i], text, len, &copied, out,
		    &plain);
	if (rc == 0)
		rc = sops_run_end(&r);
	if (rc == 0) {
		copy_to(out, &w, text, len, &copied, len);
		memcpy(name_key, r.name_key, 32);
	} else if (out->data != NULL) {
		OPENSSL_cleanse(out->data, out->len);
		buf_reset(out);
	}
	sops_run_release(&r);
	buf_free(&plain);
	walk_release(&w);
	return rc;
}
