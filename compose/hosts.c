/*
 * hosts.c - extra_hosts as the CLI reads them: "host=ip" looked for
 * first, then "host:ip", IPv6 brackets dropped, a map sorted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose_int.h"

/* An entry "host:ip" as swarmkit wants it, "ip host", split at its first
 * ':' (a bracketed IPv6 address loses its brackets), added to out. */
static int
host_entry(cJSON *out, const char *entry)
{
	const char *colon = strchr(entry, ':'), *ip = colon + 1;
	size_t iplen = strlen(ip);
	char *line;
	int rc;

	if (iplen > 2 && ip[0] == '[' && ip[iplen - 1] == ']') {
		ip++;
		iplen -= 2;
	}
	if ((line = malloc(strlen(entry) + 2)) == NULL)
		return ERR_NOMEM;
	snprintf(line, strlen(entry) + 2, "%.*s %.*s", (int)iplen, ip,
	    (int)(colon - entry), entry);
	rc = cJSON_AddItemToArray(out, cJSON_CreateString(line)) ? 0 :
	    ERR_NOMEM;
	free(line);
	return rc;
}

/* A map: its "host:ip" entries sorted as strings (null values left out),
 * as the CLI's loader turns a map into a list. */
static int
hosts_map(struct conv *c, const struct ynode *n, cJSON *out)
{
	char **items = calloc(n->n ? n->n : 1, sizeof(*items));
	size_t k = 0;
	int rc = 0;

	if (items == NULL)
		return err_set(c->err, ERR_NOMEM, "out of memory");
	for (size_t i = 0; rc == 0 && i < n->n; i++) {
		size_t len = strlen(n->keys[i]->str) + strlen(n->vals[i]->str) + 2;
		if (ynode_is_null(n->vals[i]))
			continue;
		if ((items[k] = malloc(len)) == NULL)
			rc = err_set(c->err, ERR_NOMEM, "out of memory");
		else
			snprintf(items[k++], len, "%s:%s", n->keys[i]->str,
			    n->vals[i]->str);
	}
	qsort(items, k, sizeof(*items), conv_str_cmp);
	for (size_t i = 0; i < k; i++) {
		if (rc == 0 && host_entry(out, items[i]) < 0)
			rc = err_set(c->err, ERR_NOMEM, "out of memory");
		free(items[i]);
	}
	free(items);
	return rc;
}

/* extra_hosts: "host:ip" or "host=ip" ('=' looked for first), or a map;
 * an entry with neither separator is dropped, as by the CLI. */
int
conv_extra_hosts(struct conv *c, const struct ynode *n, const char *path,
    cJSON *cs)
{
	cJSON *in = NULL, *out;
	const char *s, *sep;
	char *joined;
	int rc;

	if (n == NULL || ynode_is_null(n))
		return 0;
	out = cJSON_AddArrayToObject(cs, "Hosts");
	if (n->kind == YNODE_MAP)
		return hosts_map(c, n, out);
	if ((rc = conv_strlist(c, n, path, false, &in)) < 0)
		return rc;
	for (int i = 0; i < cJSON_GetArraySize(in); i++) {
		s = cJSON_GetArrayItem(in, i)->valuestring;
		if ((sep = strchr(s, '=')) == NULL && (sep = strchr(s,
		    ':')) == NULL) {
			conv_warn(c, "%s[%d]: \"%s\" is no host:ip entry; "
			    "docker stack deploy drops it, so does stackd", path,
			    i, s);
			continue;
		}
		/* "host=ip" is "host:ip" to the CLI */
		if ((joined = strdup(s)) != NULL) {
			joined[sep - s] = ':';
			rc = host_entry(out, joined);
			free(joined);
		}
		if (joined == NULL || rc < 0) {
			cJSON_Delete(in);
			return err_set(c->err, ERR_NOMEM, "out of memory");
		}
	}
	cJSON_Delete(in);
	return 0;
}

