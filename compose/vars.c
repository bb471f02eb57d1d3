/*
 * vars.c - where variable values come from, and interpolation of a whole
 * stack file.
 *
 * The process environment is consulted only when asked (--env-inherit), so
 * a deploy is reproducible from the source alone.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "compose_int.h"
#include "secret.h"

struct layer {
	char **names;
	char **values;
	size_t n;
};

struct compose_vars {
	struct layer low;	/* .env */
	struct layer high;	/* vars files, then --var */
	bool env_inherit;
	const struct compose_sops *sops;	/* for SOPS vars files */
};

struct compose_vars *
compose_vars_new(bool env_inherit, const struct compose_sops *sops)
{
	struct compose_vars *v = xcalloc(1, sizeof(*v));

	v->env_inherit = env_inherit;
	v->sops = sops;
	return v;
}

static void
layer_release(struct layer *l)
{
	/* A value may come from a SOPS file. */
	for (size_t i = 0; i < l->n; i++) {
		free(l->names[i]);
		secret_free(l->values[i]);
	}
	free(l->names);
	free(l->values);
}

void
compose_vars_free(struct compose_vars *v)
{
	if (v == NULL)
		return;
	layer_release(&v->low);
	layer_release(&v->high);
	free(v);
}

static void
layer_set(struct layer *l, const char *name, size_t namelen,
    const char *value)
{
	l->names = xrealloc(l->names, (l->n + 1) * sizeof(*l->names));
	l->values = xrealloc(l->values, (l->n + 1) * sizeof(*l->values));
	l->names[l->n] = xstrndup(name, namelen);
	l->values[l->n] = xstrdup(value);
	l->n++;
}

static const char *
layer_get(const struct layer *l, const char *name)
{
	for (size_t i = l->n; i > 0; i--)
		if (strcmp(l->names[i - 1], name) == 0)
			return l->values[i - 1];
	return NULL;
}

const char *
compose_vars_lookup(const char *name, void *payload)
{
	const struct compose_vars *v = payload;
	const char *s;

	if ((s = layer_get(&v->high, name)) != NULL)
		return s;
	if (v->env_inherit && (s = getenv(name)) != NULL)
		return s;
	return layer_get(&v->low, name);
}

static bool
valid_name(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (isspace((unsigned char)s[i]) || s[i] == '=' || s[i] == '$')
			return false;
	return true;
}

int
compose_vars_set(struct compose_vars *v, const char *assignment,
    struct err *err)
{
	const char *eq = strchr(assignment, '=');

	if (eq == NULL || !valid_name(assignment, (size_t)(eq - assignment)))
		return err_set(err, ERR_INVALID, "--var expects KEY=VALUE, got "
		    "\"%.*s...\"", (int)(eq ? eq - assignment : 20),
		    assignment);
	layer_set(&v->high, assignment, (size_t)(eq - assignment), eq + 1);
	return 0;
}

/* A quoted value; p points after the opening quote.  Returns the end. */
static const char *
quoted(const char *p, char q, struct buf *out, bool *ok)
{
	for (*ok = false; *p != '\0'; p++) {
		if (*p == q) {
			*ok = true;
			return p + 1;
		}
		if (q == '"' && *p == '\\' && p[1] != '\0') {
			const char *esc = strchr("nrtfvab\\\"$", p[1]);
			static const char repl[] = "\n\r\t\f\v\a\b\\\"$";
			if (esc != NULL) {
				buf_append(out, &repl[esc - "nrtfvab\\\"$"], 1);
				p++;
				continue;
			}
		}
		if (q == '\'' && *p == '\\' && p[1] == '\'') {
			buf_append(out, "'", 1);
			p++;
			continue;
		}
		buf_append(out, p, 1);
	}
	return p;
}

/* Set key to value, ${...} in it expanded against what is defined so far
 * (so "A=${A}x" sees the earlier A, not itself). */
static int
set_expanded(struct compose_vars *v, struct layer *l, const char *key,
    size_t keylen, const char *value, bool expand, const char *path,
    int line, struct err *err)
{
	struct compose_interp_result r;
	int rc;

	if (!expand || strchr(value, '$') == NULL) {
		layer_set(l, key, keylen, value);
		return 0;
	}
	/* vars files follow compose's .env syntax, so its reading too */
	if ((rc = compose_interpolate(&r, value, COMPOSE_INTERP_SPEC,
	    compose_vars_lookup, v, err)) < 0) {
		err_prefix(err, "%s:%d", path, line);
		return rc;
	}
	layer_set(l, key, keylen, r.value);
	compose_interp_result_release(&r);
	return 0;
}

/* compose's .env syntax, from text (NUL-terminated). */
static int
dotenv_parse(struct compose_vars *v, const char *path, const char *text,
    bool high, struct err *err)
{
	struct layer *l = high ? &v->high : &v->low;
	struct buf val;
	const char *p, *key, *inherited;
	size_t keylen;
	int line = 1, rc = 0;
	bool ok, expand;

	buf_init(&val, 1024 * 1024);
	for (p = text; rc == 0 && *p != '\0'; line++) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '#' || *p == '\n' || *p == '\r') {
			p += strcspn(p, "\n");
			p += *p == '\n';
			continue;
		}
		if (strncmp(p, "export", 6) == 0 && (p[6] == ' ' ||
		    p[6] == '\t'))
			for (p += 6; *p == ' ' || *p == '\t'; p++)
				;
		key = p;
		keylen = strcspn(p, "=\n");
		while (keylen > 0 && isspace((unsigned char)key[keylen - 1]))
			keylen--;
		if (!valid_name(key, keylen)) {
			rc = err_set(err, ERR_INVALID, "%s:%d: invalid variable "
			    "name \"%.*s\"", path, line, (int)(keylen > 40 ? 40 :
			    keylen), key);
			break;
		}
		p = key + strcspn(key, "=\n");
		if (*p != '=') {	/* bare KEY: inherit or skip */
			char name[256];
			snprintf(name, sizeof(name), "%.*s", (int)keylen, key);
			if (v->env_inherit && (inherited = getenv(name)))
				rc = set_expanded(v, l, key, keylen, inherited,
				    false, path, line, err);
			p += *p == '\n';
			continue;
		}
		for (p++; *p == ' ' || *p == '\t'; p++)
			;
		buf_reset(&val);
		buf_append(&val, "", 0);
		expand = *p != '\'';
		if (*p == '\'' || *p == '"') {
			const char *start = p;
			int first = line;
			p = quoted(p + 1, *p, &val, &ok);
			for (const char *q = start; q < p; q++)
				line += *q == '\n';
			if (!ok) {
				rc = err_set(err, ERR_INVALID, "%s:%d: "
				    "unterminated quoted value", path, first);
				break;
			}
			p += strcspn(p, "\n");	/* trailing comment */
		} else {
			size_t n = strcspn(p, "\n");
			const char *hash = p;
			/* " #" starts a comment; "a#b" does not */
			while ((hash = memchr(hash, '#', (size_t)(p + n -
			    hash))) != NULL && hash > p && hash[-1] != ' ' &&
			    hash[-1] != '\t')
				hash++;
			size_t vlen = hash ? (size_t)(hash - p) : n;
			while (vlen > 0 && isspace((unsigned char)p[vlen - 1]))
				vlen--;
			buf_append(&val, p, vlen);
			p += n;
		}
		p += *p == '\n';
		rc = set_expanded(v, l, key, keylen, val.data, expand, path,
		    line, err);
	}
	buf_free(&val);
	return rc;
}

int
compose_vars_load_dotenv(struct compose_vars *v, const char *path,
    bool high, struct err *err)
{
	struct compose_file f;
	int rc;

	if ((rc = compose_file_read(&f, path, 1024 * 1024, v->sops, err)) == 0)
		rc = dotenv_parse(v, path, f.data.data, high, err);
	compose_file_release(&f);
	return rc;
}

int
compose_vars_load_file(struct compose_vars *v, const char *path,
    struct err *err)
{
	struct ynode *root = NULL;
	struct compose_file f;
	struct err yerr;
	int rc;

	if ((rc = compose_file_read(&f, path, COMPOSE_FILE_MAX, v->sops,
	    err)) < 0) {
		compose_file_release(&f);
		return rc;
	}
	if (compose_yaml_parse(&root, path, f.data.data, f.data.len,
	    &yerr) < 0) {
		/* Not a YAML mapping: a KEY=VALUE file. */
		rc = dotenv_parse(v, path, f.data.data, true, err);
		compose_file_release(&f);
		return rc;
	}
	compose_file_release(&f);
	for (size_t i = 0; i < root->n; i++) {
		const struct ynode *val = root->vals[i];
		if (val->kind != YNODE_SCALAR) {
			rc = err_set(err, ERR_INVALID, "%s: variable %s must be "
			    "a plain value, not a list or mapping (%s:%d:%d)",
			    path, root->keys[i]->str, path, val->line, val->col);
			ynode_free(root);
			return rc;
		}
		layer_set(&v->high, root->keys[i]->str,
		    strlen(root->keys[i]->str), val->null ? "" : val->str);
	}
	ynode_free(root);
	return 0;
}

/* --- whole-tree interpolation ---------------------------------------- */

struct walk {
	enum compose_interp_mode mode;
	compose_lookup_fn lookup;
	void *payload;
	struct compose_interp_report *rep;
	struct err *err;
};

/* The warning for a value the two readings differ on.  It names the
 * position, never the value: a variable may hold a secret. */
static void
note_differs(struct walk *w, const struct ynode *n, const char *path,
    const struct compose_interp_result *r)
{
	char msg[768];

	if (r->cli_refused && w->mode == COMPOSE_INTERP_CLI)
		snprintf(msg, sizeof(msg), "%s: docker stack deploy refuses "
		    "this value (%s); stackd reads it as compose-spec does "
		    "(%s:%d:%d)", path, r->differs, n->file, n->line, n->col);
	else
		snprintf(msg, sizeof(msg), "%s: docker stack deploy and "
		    "compose-spec read this value differently (%s); stackd "
		    "takes the %s reading (%s:%d:%d)", path, r->differs,
		    w->mode == COMPOSE_INTERP_CLI ? "docker stack deploy" :
		    "compose-spec (interpolation: compose-spec)", n->file,
		    n->line, n->col);
	interp_list_add(&w->rep->notes, &w->rep->nnotes, msg, strlen(msg));
}

static int
walk_scalar(struct walk *w, struct ynode *n, const char *path)
{
	struct compose_interp_result r;
	int rc;

	if (strchr(n->str, '$') == NULL)
		return 0;
	if ((rc = compose_interpolate(&r, n->str, w->mode, w->lookup,
	    w->payload, w->err)) < 0) {
		err_prefix(w->err, "%s", path);
		if (w->err != NULL) {
			size_t m = strlen(w->err->msg);
			snprintf(w->err->msg + m, sizeof(w->err->msg) - m,
			    " (%s:%d:%d)", n->file, n->line, n->col);
		}
		return rc;
	}
	for (size_t i = 0; i < r.nunset; i++)
		interp_list_add(&w->rep->unset, &w->rep->nunset, r.unset[i],
		    strlen(r.unset[i]));
	if (r.differs != NULL)
		note_differs(w, n, path, &r);
	if (strcmp(r.value, n->str) != 0) {
		free(n->str);
		n->str = r.value;
		r.value = NULL;
		n->interpolated = true;
		n->null = false;
	}
	compose_interp_result_release(&r);
	return rc;
}

static int
walk(struct walk *w, struct ynode *n, char *path, size_t pathlen)
{
	size_t len = strlen(path);
	int rc = 0;

	if (n->kind == YNODE_SCALAR)
		return walk_scalar(w, n, path);
	for (size_t i = 0; rc == 0 && i < n->n; i++) {
		if (n->kind == YNODE_MAP)
			snprintf(path + len, pathlen - len, "%s%s",
			    len ? "." : "", n->keys[i]->str);
		else
			snprintf(path + len, pathlen - len, "[%zu]", i);
		rc = walk(w, n->vals[i], path, pathlen);
		path[len] = '\0';
	}
	return rc;
}

int
compose_interpolate_tree(struct ynode *root, enum compose_interp_mode mode,
    compose_lookup_fn lookup, void *payload, struct compose_interp_report *rep,
    struct err *err)
{
	struct walk w = { mode, lookup, payload, rep, err };
	char path[1024] = "";
	int rc = walk(&w, root, path, sizeof(path));

	return rc;
}

void
compose_interp_report_release(struct compose_interp_report *rep)
{
	for (size_t i = 0; i < rep->nunset; i++)
		free(rep->unset[i]);
	for (size_t i = 0; i < rep->nnotes; i++)
		free(rep->notes[i]);
	free(rep->unset);
	free(rep->notes);
	memset(rep, 0, sizeof(*rep));
}
