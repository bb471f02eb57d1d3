/*
 * yaml.c - stack files into ynode trees, with libyaml.
 *
 * libyaml's document loader resolves anchors to shared nodes; we copy them
 * out into a tree, counting every node made so that an alias bomb ends in an
 * error instead of gigabytes.  Merge keys (<<: *a, <<: [*a, *b]) are applied
 * here: explicit keys win, then earlier merged maps win over later ones, as
 * the YAML merge-key spec says.  A key given twice is an error.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "alloc.h"
#include "buf.h"
#include "compose_int.h"
#include "secret.h"

struct loader {
	yaml_document_t *doc;
	const char *file;
	size_t nodes;
	struct err *err;
};

static int fail_at(struct loader *l, const yaml_node_t *yn, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

static int
fail_at(struct loader *l, const yaml_node_t *yn, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(l->err, ERR_INVALID, "%s (%s:%zu:%zu)", msg, l->file,
	    yn->start_mark.line + 1, yn->start_mark.column + 1);
}

static struct ynode *
node_new(struct loader *l, const yaml_node_t *yn, enum ynode_kind kind)
{
	struct ynode *n;

	if (++l->nodes > COMPOSE_NODES_MAX) {
		fail_at(l, yn, "%s", "too many YAML nodes after expanding "
		    "aliases (an alias bomb?)");
		return NULL;
	}
	n = xcalloc(1, sizeof(*n));
	/* Maps and sequences hold "", so that code reading ->str of a node
	 * it expected to be a scalar gets a wrong value and an error, never
	 * a NULL. */
	if (kind != YNODE_SCALAR)
		n->str = xstrdup("");
	n->kind = kind;
	n->line = (int)yn->start_mark.line + 1;
	n->col = (int)yn->start_mark.column + 1;
	n->file = l->file;
	return n;
}

void
ynode_free(struct ynode *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->n; i++) {
		if (n->keys != NULL)
			ynode_free(n->keys[i]);
		ynode_free(n->vals[i]);
	}
	free(n->keys);
	free(n->vals);
	secret_free(n->str);	/* a value may come from a SOPS file */
	free(n);
}

static struct ynode *
ynode_copy(const struct ynode *src, struct loader *l)
{
	struct ynode *n;

	if (++l->nodes > COMPOSE_NODES_MAX) {
		err_set(l->err, ERR_INVALID, "too many YAML nodes after "
		    "expanding aliases (an alias bomb?) (%s)", l->file);
		return NULL;
	}
	n = xmalloc(sizeof(*n));
	*n = *src;
	n->str = src->str != NULL ? xstrdup(src->str) : NULL;
	n->keys = NULL;
	n->vals = NULL;
	n->n = 0;
	if (src->n > 0) {
		n->vals = xcalloc(src->n, sizeof(*n->vals));
		if (src->keys != NULL)
			n->keys = xcalloc(src->n, sizeof(*n->keys));
		for (size_t i = 0; i < src->n; i++, n->n++) {
			if ((src->keys && (n->keys[i] = ynode_copy(src->keys[i],
			    l)) == NULL) ||
			    (n->vals[i] = ynode_copy(src->vals[i], l)) == NULL) {
				n->n++;
				ynode_free(n);
				return NULL;
			}
		}
	}
	return n;
}

static struct ynode *convert(struct loader *l, int index, int depth);

static bool
plain_null(const yaml_node_t *yn)
{
	const char *v = (const char *)yn->data.scalar.value;

	if (yn->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return *v == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
	    strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

static struct ynode *
convert_scalar(struct loader *l, const yaml_node_t *yn)
{
	struct ynode *n = node_new(l, yn, YNODE_SCALAR);
	size_t len = yn->data.scalar.length;

	if (n == NULL)
		return NULL;
	if (memchr(yn->data.scalar.value, '\0', len) != NULL) {
		fail_at(l, yn, "%s", "NUL byte in a value");
		ynode_free(n);
		return NULL;
	}
	n->str = xmalloc(len + 1);
	memcpy(n->str, yn->data.scalar.value, len);
	n->str[len] = '\0';
	n->quoted = yn->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
	n->null = plain_null(yn);
	return n;
}

static void
append(struct ynode *map, struct ynode *key, struct ynode *val)
{
	map->keys = xrealloc(map->keys, (map->n + 1) * sizeof(*map->keys));
	map->vals = xrealloc(map->vals, (map->n + 1) * sizeof(*map->vals));
	map->keys[map->n] = key;
	map->vals[map->n] = val;
	map->n++;
}

struct ynode *
ynode_get(const struct ynode *n, const char *key)
{
	if (n == NULL || n->kind != YNODE_MAP)
		return NULL;
	for (size_t i = 0; i < n->n; i++)
		if (strcmp(n->keys[i]->str, key) == 0)
			return n->vals[i];
	return NULL;
}

bool
ynode_is_null(const struct ynode *n)
{
	return n == NULL || (n->kind == YNODE_SCALAR && n->null);
}

/* Add src's pairs that map does not have yet (merge-key semantics). */
static int
merge_from(struct loader *l, struct ynode *map, const struct ynode *src,
    const yaml_node_t *at)
{
	struct ynode *k, *v;

	if (src->kind != YNODE_MAP)
		return fail_at(l, at, "%s", "<< (merge key) takes a mapping or "
		    "a list of mappings");
	for (size_t i = 0; i < src->n; i++) {
		if (ynode_get(map, src->keys[i]->str) != NULL)
			continue;
		if ((k = ynode_copy(src->keys[i], l)) == NULL)
			return l->err ? l->err->code : ERR_FAIL;
		if ((v = ynode_copy(src->vals[i], l)) == NULL) {
			ynode_free(k);
			return l->err ? l->err->code : ERR_FAIL;
		}
		append(map, k, v);

	}
	return 0;
}

static bool
is_merge_key(const yaml_node_t *k)
{
	return k->type == YAML_SCALAR_NODE &&
	    k->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    strcmp((const char *)k->data.scalar.value, "<<") == 0;
}

static int
apply_merges(struct loader *l, struct ynode *map, struct ynode **merges,
    const yaml_node_t **at, size_t nmerges)
{
	int rc = 0;

	for (size_t m = 0; m < nmerges && rc == 0; m++) {
		if (merges[m]->kind == YNODE_SEQ) {
			for (size_t i = 0; i < merges[m]->n && rc == 0; i++)
				rc = merge_from(l, map, merges[m]->vals[i],
				    at[m]);
		} else
			rc = merge_from(l, map, merges[m], at[m]);
	}
	return rc;
}

static struct ynode *
convert_map(struct loader *l, const yaml_node_t *yn, int depth)
{
	struct ynode *map = node_new(l, yn, YNODE_MAP), *k = NULL, *v = NULL;
	struct ynode *merges[8];
	const yaml_node_t *merge_at[8];
	size_t nmerges = 0;
	yaml_node_pair_t *p;
	const yaml_node_t *kn;

	if (map == NULL)
		return NULL;
	for (p = yn->data.mapping.pairs.start; p < yn->data.mapping.pairs.top;
	    p++) {
		kn = yaml_document_get_node(l->doc, p->key);
		if (is_merge_key(kn)) {
			if (nmerges == 8) {
				fail_at(l, kn, "%s", "more than 8 merge keys");
				goto fail;
			}
			merge_at[nmerges] = kn;
			if ((merges[nmerges] = convert(l, p->value,
			    depth + 1)) == NULL)
				goto fail;
			nmerges++;
			continue;
		}
		if (kn->type != YAML_SCALAR_NODE) {
			fail_at(l, kn, "%s", "a key must be a plain value, not "
			    "a list or a mapping");
			goto fail;
		}
		if ((k = convert(l, p->key, depth + 1)) == NULL)
			goto fail;
		if (ynode_get(map, k->str) != NULL) {
			fail_at(l, kn, "duplicate key \"%s\"", k->str);
			goto fail;
		}
		if ((v = convert(l, p->value, depth + 1)) == NULL)
			goto fail;
		append(map, k, v);
		k = v = NULL;
	}
	if (apply_merges(l, map, merges, merge_at, nmerges) < 0)
		goto fail;
	for (size_t i = 0; i < nmerges; i++)
		ynode_free(merges[i]);
	return map;
fail:
	for (size_t i = 0; i < nmerges; i++)
		ynode_free(merges[i]);
	ynode_free(k);
	ynode_free(v);
	ynode_free(map);
	return NULL;
}

static struct ynode *
convert_seq(struct loader *l, const yaml_node_t *yn, int depth)
{
	struct ynode *seq = node_new(l, yn, YNODE_SEQ), *item;
	yaml_node_item_t *it;

	if (seq == NULL)
		return NULL;
	for (it = yn->data.sequence.items.start;
	    it < yn->data.sequence.items.top; it++) {
		if ((item = convert(l, *it, depth + 1)) == NULL)
			goto fail;
		seq->vals = xrealloc(seq->vals, (seq->n + 1) *
		    sizeof(*seq->vals));
		seq->vals[seq->n++] = item;
	}
	return seq;
fail:
	ynode_free(seq);
	return NULL;
}

/*
 * libyaml's graph may share a node between several parents (aliases) and
 * may even contain cycles (an alias inside its own anchor); the depth limit
 * ends those.
 */
static struct ynode *
convert(struct loader *l, int index, int depth)
{
	const yaml_node_t *yn = yaml_document_get_node(l->doc, index);

	if (yn == NULL) {
		err_set(l->err, ERR_INVALID, "%s: broken YAML node", l->file);
		return NULL;
	}
	if (depth > COMPOSE_DEPTH_MAX) {
		fail_at(l, yn, "nesting deeper than %d levels (or an alias "
		    "that contains itself)", COMPOSE_DEPTH_MAX);
		return NULL;
	}
	switch (yn->type) {
	case YAML_SCALAR_NODE:
		return convert_scalar(l, yn);
	case YAML_MAPPING_NODE:
		return convert_map(l, yn, depth);
	case YAML_SEQUENCE_NODE:
		return convert_seq(l, yn, depth);
	default:
		fail_at(l, yn, "%s", "empty YAML node");
		return NULL;
	}
}

static int
parser_error(const yaml_parser_t *p, const char *file, struct err *err)
{
	const yaml_mark_t *m = p->problem ? &p->problem_mark : &p->context_mark;

	if (p->error == YAML_MEMORY_ERROR)
		alloc_fail();

	return err_set(err, ERR_INVALID, "invalid YAML: %s%s%s (%s:%zu:%zu)",
	    p->problem ? p->problem : "syntax error",
	    p->context ? " " : "", p->context ? p->context : "", file,
	    m->line + 1, m->column + 1);
}

int
compose_yaml_parse(struct ynode **out, const char *file, const char *text,
    size_t len, struct err *err)
{
	yaml_parser_t parser;
	yaml_document_t doc, extra;
	struct loader l = { .doc = &doc, .file = file, .err = err };
	const yaml_node_t *root;
	int rc = 0;

	*out = NULL;
	if (len > COMPOSE_FILE_MAX)
		return err_set(err, ERR_INVALID, "%s: larger than %u bytes",
		    file, COMPOSE_FILE_MAX);
	if (!yaml_parser_initialize(&parser))
		alloc_fail();
	yaml_parser_set_input_string(&parser, (const unsigned char *)text,
	    len);
	if (!yaml_parser_load(&parser, &doc)) {
		rc = parser_error(&parser, file, err);
		yaml_parser_delete(&parser);
		return rc;
	}
	root = yaml_document_get_root_node(&doc);
	if (root == NULL)
		rc = err_set(err, ERR_INVALID, "%s: the file is empty", file);
	else if (root->type != YAML_MAPPING_NODE)
		rc = err_set(err, ERR_INVALID, "%s: the top level must be a "
		    "mapping (services:, networks:, ...) (%s:%zu:%zu)", file,
		    file, root->start_mark.line + 1,
		    root->start_mark.column + 1);
	else if ((*out = convert(&l, 1, 0)) == NULL)
		rc = err != NULL && err->code < 0 ? err->code : ERR_FAIL;
	if (rc == 0) {
		/* A second document is almost always a mistake. */
		if (!yaml_parser_load(&parser, &extra))
			rc = parser_error(&parser, file, err);
		else {
			if (yaml_document_get_root_node(&extra) != NULL)
				rc = err_set(err, ERR_INVALID, "%s: more than "
				    "one YAML document (---)", file);
			yaml_document_delete(&extra);
		}
		if (rc < 0) {
			ynode_free(*out);
			*out = NULL;
		}
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rc;
}

int
compose_yaml_load(struct ynode **out, const char *path,
    const struct compose_sops *sops, struct err *err)
{
	struct compose_file f;
	int rc;

	*out = NULL;
	if ((rc = compose_file_read(&f, path, COMPOSE_FILE_MAX, sops,
	    err)) == 0)
		rc = compose_yaml_parse(out, path, f.data.data, f.data.len, err);
	compose_file_release(&f);
	return rc;
}

int
ynode_verror(struct err *e, const struct ynode *n, const char *path,
    const char *fmt, va_list ap)
{
	char msg[768];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n != NULL)
		return err_set(e, ERR_INVALID, "%s: %s (%s:%d:%d)", path, msg,
		    n->file, n->line, n->col);
	return err_set(e, ERR_INVALID, "%s: %s", path, msg);
}

/* --- nodes made by hand (the merge of several files) ----------------- */

struct ynode *
ynode_new(enum ynode_kind kind, const struct ynode *at, const char *str)
{
	struct ynode *n = xcalloc(1, sizeof(*n));

	n->str = xstrdup(str ? str : "");
	n->kind = kind;
	n->line = at->line;
	n->col = at->col;
	n->file = at->file;
	n->quoted = kind == YNODE_SCALAR;
	return n;
}

void
ynode_add(struct ynode *to, struct ynode *key, struct ynode *val)
{
	if (to->kind == YNODE_MAP) {
		to->keys = xrealloc(to->keys, (to->n + 1) * sizeof(*to->keys));
		to->keys[to->n] = key;
	}
	to->vals = xrealloc(to->vals, (to->n + 1) * sizeof(*to->vals));
	to->vals[to->n++] = val;
}

