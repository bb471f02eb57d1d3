/*
 * config_read.c - the typed readers of stackd.yaml's values: strings,
 * paths, booleans, durations and the mode keys, each naming the key path,
 * file, line and column when a value is wrong.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "path.h"
#include "config_int.h"
#include "duration.h"

int
cfg_bad(struct reader *r, const struct ynode *n, const char *path,
    const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = ynode_verror(r->err, n, path, fmt, ap);
	va_end(ap);
	return rc;
}

/* Every key of map n must be one of keys[]. */
int
cfg_known_keys(struct reader *r, const struct ynode *n, const char *path,
    const char *const *keys)
{
	if (n->kind != YNODE_MAP)
		return cfg_bad(r, n, path, "must be a mapping");
	for (size_t i = 0; i < n->n; i++) {
		int k = 0;
		while (keys[k] != NULL && strcmp(keys[k], n->keys[i]->str) != 0)
			k++;
		if (keys[k] == NULL)
			return cfg_bad(r, n->keys[i], path, "unknown key \"%s\"",
			    n->keys[i]->str);
	}
	return 0;
}

int
cfg_get_str(struct reader *r, const struct ynode *map, const char *key,
    const char *path, char **out)
{
	const struct ynode *v = ynode_get(map, key);

	if (v == NULL)
		return 0;
	if (v->kind != YNODE_SCALAR || v->null)
		return cfg_bad(r, v, path, "%s must be a string", key);
	xstrset(out, v->str);
	return 0;
}

/* A path: relative ones are taken from the config file's directory. */
int
cfg_get_path(struct reader *r, const struct ynode *map, const char *key,
    const char *path, char **out)
{
	char *p = NULL, *full;
	int rc;

	if ((rc = cfg_get_str(r, map, key, path, &p)) < 0 || p == NULL)
		return rc;
	if (p[0] != '/' && r->dir != NULL) {
		full = path_join(r->dir, p);
		free(p);
		p = full;
	}
	free(*out);
	*out = p;
	return 0;
}

/* interpolation: docker-cli | compose-spec; *set tells it was there. */
int
cfg_get_interp(struct reader *r, const struct ynode *map, const char *path,
    enum compose_interp_mode *out, bool *set)
{
	const struct ynode *v = ynode_get(map, "interpolation");

	if (v == NULL)
		return 0;
	if (v->kind != YNODE_SCALAR || compose_interp_mode_parse(v->str,
	    out) < 0)
		return cfg_bad(r, v, path, "interpolation must be docker-cli (what "
		    "docker stack deploy does) or compose-spec (docker compose)");
	if (set != NULL)
		*set = true;
	return 0;
}

int
cfg_get_bool(struct reader *r, const struct ynode *map, const char *key,
    const char *path, bool *out)
{
	const struct ynode *v = ynode_get(map, key);

	if (v == NULL)
		return 0;
	if (v->kind == YNODE_SCALAR && !v->quoted &&
	    strcmp(v->str, "true") == 0)
		*out = true;
	else if (v->kind == YNODE_SCALAR && !v->quoted &&
	    strcmp(v->str, "false") == 0)
		*out = false;
	else
		return cfg_bad(r, v, path, "%s must be true or false", key);
	return 0;
}

int
ctl_duration_parse(const char *s, int *ms)
{
	char *end;
	double secs = strtod(s, &end);
	int64_t ns;

	/* A plain number is seconds, as stackd has always read it. */
	if (end != s && *end == '\0')
		ns = secs >= 0 && secs <= 86400 ? (int64_t)(secs * 1e9) : -1;
	else if (duration_parse(s, &ns) < 0)
		return -1;
	if (ns < 0 || ns > INT64_C(86400) * 1000000000)
		return -1;
	*ms = (int)(ns / 1000000);
	return 0;
}

/* resolve_image: always | changed | never; *set tells it was there. */
int
cfg_get_resolve(struct reader *r, const struct ynode *map, const char *path,
    enum images_mode *out, bool *set)
{
	const struct ynode *v = ynode_get(map, "resolve_image");

	if (v == NULL)
		return 0;
	if (v->kind != YNODE_SCALAR || images_mode_parse(v->str, out) < 0)
		return cfg_bad(r, v, path, "resolve_image must be always (pin every "
		    "image's digest, what docker stack deploy does), changed or "
		    "never");
	if (set != NULL)
		*set = true;
	return 0;
}

int
cfg_get_duration(struct reader *r, const struct ynode *map, const char *key,
    const char *path, int *out)
{
	const struct ynode *v = ynode_get(map, key);

	if (v == NULL)
		return 0;
	if (v->kind != YNODE_SCALAR || ctl_duration_parse(v->str, out) < 0 ||
	    *out <= 0)
		return cfg_bad(r, v, path, "%s must be a duration such as 500ms, "
		    "30s, 1h30m (at most 24h)", key);
	return 0;
}

