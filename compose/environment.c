/*
 * environment.c - a service's environment as the CLI builds it: env_file
 * entries, then environment:, bare keys filled from the stack's
 * variables, sorted (docker/cli cli/compose/convert/service.go).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "alloc.h"
#include "compose_int.h"

/* --- environment --------------------------------------------------- */

static void
env_set(cJSON *env, const char *key, size_t keylen, const char *value)
{
	char k[1024];

	snprintf(k, sizeof(k), "%.*s", (int)keylen, key);
	cJSON_DeleteItemFromObjectCaseSensitive(env, k);
	/* JSON null marks "no value": the entry becomes a bare KEY. */
	if (value != NULL)
		cJSON_AddStringToObject(env, k, value);
	else
		cJSON_AddNullToObject(env, k);
}

/* docker/cli's kvfile format: KEY=VALUE taken literally, # comments. */
static int
env_file(struct conv *c, const struct ynode *n, const char *path, cJSON *env)
{
	char file[4096], line[65536];
	const char *key, *eq, *inherited, *p;
	struct compose_file f;
	struct err ferr;
	size_t lineno = 0;
	int rc;

	if ((rc = conv_source_path(c, n, path, n->str, file)) < 0)
		return rc;
	if (compose_file_read(&f, file, COMPOSE_FILE_MAX, c->sops, &ferr) < 0) {
		compose_file_release(&f);
		return conv_fail(c, n, path, "cannot read env file %s",
		    ferr.msg);
	}
	for (p = f.data.data; *p != '\0'; p += strcspn(p, "\n") +
	    (p[strcspn(p, "\n")] == '\n')) {
		lineno++;
		snprintf(line, sizeof(line), "%.*s", (int)strcspn(p, "\n"), p);
		line[strcspn(line, "\r\n")] = '\0';
		key = line;
		if (lineno == 1 && strncmp(key, "\xef\xbb\xbf", 3) == 0)
			key += 3;
		while (*key == ' ' || *key == '\t')
			key++;
		if (*key == '\0' || *key == '#')
			continue;
		eq = strchr(key, '=');
		if (strcspn(key, " \t") < (eq ? (size_t)(eq - key) :
		    strlen(key))) {
			compose_file_release(&f);
			return conv_fail(c, n, path, "%s:%zu: variable '%.*s' "
			    "contains whitespaces", file, lineno,
			    (int)(eq ? eq - key : (long)strlen(key)), key);
		}
		/* a bare KEY takes the variable's value, else is left out */
		if (eq != NULL)
			env_set(env, key, (size_t)(eq - key), eq + 1);
		else if ((inherited = c->lookup(key, c->payload)) != NULL)
			env_set(env, key, strlen(key), inherited);
	}
	OPENSSL_cleanse(line, sizeof(line));
	compose_file_release(&f);
	return 0;
}

static int
environment(struct conv *c, const struct ynode *n, const char *path,
    cJSON *env)
{
	const struct ynode *v;
	const char *eq;
	char p[CONV_PATH_MAX];

	if (n->kind == YNODE_MAP) {
		for (size_t i = 0; i < n->n; i++) {
			v = n->vals[i];
			if (v->kind != YNODE_SCALAR)
				return conv_fail(c, v, conv_path(p, "%s.%s",
				    path, n->keys[i]->str), "expected a string");
			env_set(env, n->keys[i]->str, strlen(n->keys[i]->str),
			    v->null ? NULL : v->str);
		}
	} else if (n->kind == YNODE_SEQ) {
		for (size_t i = 0; i < n->n; i++) {
			v = n->vals[i];
			if (v->kind != YNODE_SCALAR)
				return conv_fail(c, v, conv_path(p, "%s[%zu]",
				    path, i), "expected \"KEY=VALUE\"");
			eq = strchr(v->str, '=');
			env_set(env, v->str, eq ? (size_t)(eq - v->str) :
			    strlen(v->str), eq ? eq + 1 : NULL);
		}
	} else if (!ynode_is_null(n))
		return conv_fail(c, n, path, "expected a mapping or a list");
	return 0;
}

/* env_file first, then environment; "K=V" sorted.  A null or empty value
 * takes the variable's value when it has one, as the CLI takes its
 * environment's: for stackd the stack's variables are that environment
 * (the process environment is one of them only with --env-inherit, so a
 * deploy is reproducible from the source alone). */
int
conv_env_resolve(struct conv *c, const char *name, const struct ynode *svc,
    cJSON **out)
{
	const struct ynode *files = ynode_get(svc, "env_file");
	const struct ynode *envn = ynode_get(svc, "environment");
	cJSON *env = cJSON_CreateObject(), *it, *next;
	const char *inherited;
	char p[CONV_PATH_MAX];
	int rc = 0;

	*out = env;
	conv_path(p, "services.%s.env_file", name);
	if (files != NULL && files->kind == YNODE_SCALAR && !files->null)
		rc = env_file(c, files, p, env);
	for (size_t i = 0; rc == 0 && files && files->kind == YNODE_SEQ &&
	    i < files->n; i++)
		rc = files->vals[i]->kind == YNODE_SCALAR ?
		    env_file(c, files->vals[i], p, env) :
		    conv_fail(c, files->vals[i], p, "expected a file name");
	if (rc == 0 && envn != NULL)
		rc = environment(c, envn, conv_path(p,
		    "services.%s.environment", name), env);
	/* (the item is replaced, so the loop keeps its next itself) */
	for (it = env->child; rc == 0 && it != NULL; it = next) {
		next = it->next;
		if ((!cJSON_IsString(it) || *it->valuestring == '\0') &&
		    (inherited = c->lookup(it->string, c->payload)) != NULL)
			cJSON_ReplaceItemInObjectCaseSensitive(env, it->string,
			    cJSON_CreateString(inherited));
	}
	if (rc < 0) {
		cJSON_Delete(env);
		*out = NULL;
	}
	return rc;
}

int
conv_env_convert(struct conv *c, const char *name, const struct ynode *svc,
    cJSON *cs)
{
	cJSON *env = NULL, *it, *out = NULL;
	char **items = NULL;
	size_t n = 0, i;
	int rc;

	if ((rc = conv_env_resolve(c, name, svc, &env)) < 0 ||
	    cJSON_GetArraySize(env) == 0)
		goto out;
	items = xcalloc((size_t)cJSON_GetArraySize(env), sizeof(*items));
	cJSON_ArrayForEach(it, env) {
		const char *val = cJSON_IsString(it) ? it->valuestring : NULL;
		size_t len;

		len = strlen(it->string) + (val ? strlen(val) + 2 : 1);
		items[n] = xmalloc(len);
		snprintf(items[n++], len, "%s%s%s", it->string, val ? "=" : "",
		    val ? val : "");
	}
	qsort(items, n, sizeof(*items), conv_str_cmp);
	out = cJSON_AddArrayToObject(cs, "Env");
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(out, cJSON_CreateString(items[i]));
out:
	for (i = 0; i < n; i++)
		free(items[i]);
	free(items);
	cJSON_Delete(env);
	return rc;
}

