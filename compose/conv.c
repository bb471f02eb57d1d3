/*
 * conv.c - what the conversion's files share while one stack is converted:
 * its warnings, names scoped to the stack ("web_default"), the stack
 * label, top-level objects and the network uses, and paths kept inside
 * the stack's root.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "compose_int.h"

#define NS_LABEL "com.docker.stack.namespace"

void
conv_warn(struct conv *c, const char *fmt, ...)
{
	struct compose_stack *s = c->out;
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < s->nwarnings; i++)
		if (strcmp(s->warnings[i], msg) == 0)
			return;
	s->warnings = xrealloc(s->warnings, (s->nwarnings + 1) *
	    sizeof(*s->warnings));
	s->warnings[s->nwarnings++] = xstrdup(msg);
}

void
conv_scope(const struct conv *c, const char *key, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s_%s", c->stack, key);
}

void
conv_stack_label(const struct conv *c, cJSON *labels)
{
	cJSON_DeleteItemFromObjectCaseSensitive(labels, NS_LABEL);
	cJSON_AddStringToObject(labels, NS_LABEL, c->stack);
}

const struct ynode *
conv_toplevel(const struct conv *c, const char *section, const char *key)
{
	return ynode_get(ynode_get(c->top, section), key);
}

int
conv_object_name(struct conv *c, const char *section, const char *key,
    char *out, size_t outlen, bool *external)
{
	const struct ynode *def = conv_toplevel(c, section, key);
	const struct ynode *ext = ynode_get(def, "external");
	const struct ynode *name = ynode_get(def, "name");
	const struct ynode *extname = ynode_get(ext, "name");
	char p[CONV_PATH_MAX];
	bool b = false;
	int rc;

	*external = false;
	conv_path(p, "%s.%s.external", section, key);
	if (ext != NULL && ext->kind == YNODE_MAP)
		*external = true;
	else if (ext != NULL && (rc = conv_bool(c, ext, p, &b)) < 0)
		return rc;
	else
		*external = b;
	if (name != NULL && extname != NULL)
		return conv_fail(c, extname, p, "conflicting parameters "
		    "\"external.name\" and \"name\"");
	if ((name != NULL && !ynode_is_null(name) &&
	    name->kind != YNODE_SCALAR) || (extname != NULL &&
	    !ynode_is_null(extname) && extname->kind != YNODE_SCALAR))
		return conv_fail(c, name ? name : extname, conv_path(p,
		    "%s.%s.name", section, key), "must be a string");
	if (name != NULL && !ynode_is_null(name))
		snprintf(out, outlen, "%s", name->str);
	else if (extname != NULL && !ynode_is_null(extname))
		snprintf(out, outlen, "%s", extname->str);
	else if (*external)
		snprintf(out, outlen, "%s", key);
	else
		conv_scope(c, key, out, outlen);
	return 0;
}

void
conv_network_use(struct conv *c, const char *key)
{
	cJSON *it;

	cJSON_ArrayForEach(it, c->used_networks)
		if (strcmp(it->valuestring, key) == 0)
			return;
	cJSON_AddItemToArray(c->used_networks, cJSON_CreateString(key));
}

int
conv_source_path(struct conv *c, const struct ynode *n, const char *path,
    const char *file, char *out)
{
	char joined[PATH_MAX * 2], root[PATH_MAX];
	size_t rlen;

	if (file[0] == '/')
		snprintf(joined, sizeof(joined), "%s", file);
	else
		snprintf(joined, sizeof(joined), "%s/%s", c->dir, file);
	if (realpath(c->root, root) == NULL)
		return conv_fail(c, n, path, "source root %s: %s", c->root,
		    strerror(errno));
	if (realpath(joined, out) == NULL)
		return conv_fail(c, n, path, "cannot read %s: %s", file,
		    strerror(errno));
	/* Symlinks are resolved first, so a link out of the tree fails too. */
	rlen = strlen(root);
	if (strncmp(out, root, rlen) != 0 || (out[rlen] != '/' &&
	    out[rlen] != '\0' && strcmp(root, "/") != 0))
		return conv_fail(c, n, path, "%s is outside the source root %s",
		    file, root);
	return 0;
}

int
compose_stack_name_check(const char *name, struct err *err)
{
	size_t len = strlen(name);

	if (len == 0 || len > 50 || !isalnum((unsigned char)name[0]))
		goto bad;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '_' &&
		    name[i] != '-' && name[i] != '.')
			goto bad;
	return 0;
bad:
	return err_set(err, ERR_INVALID, "invalid stack name \"%.64s\": use "
	    "letters, digits, '_', '-' and '.', starting with a letter or "
	    "digit, at most 50 characters", name);
}

