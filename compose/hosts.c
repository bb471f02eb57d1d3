/*
 * hosts.c - extra_hosts as the CLI reads them: "host=ip" looked for
 * first, then "host:ip", IPv6 brackets dropped, a map sorted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "compose_int.h"

/* An entry "host:ip" as swarmkit wants it, "ip host", split at its first
 * ':' (a bracketed IPv6 address loses its brackets), added to out. */
static void
host_entry(cJSON *out, const char *entry)
{
	const char *colon = strchr(entry, ':'), *ip = colon + 1;
	size_t iplen = strlen(ip);
	char *line;

	if (iplen > 2 && ip[0] == '[' && ip[iplen - 1] == ']') {
		ip++;
		iplen -= 2;
	}
	line = xmalloc(strlen(entry) + 2);
	snprintf(line, strlen(entry) + 2, "%.*s %.*s", (int)iplen, ip,
	    (int)(colon - entry), entry);
	cJSON_AddItemToArray(out, cJSON_CreateString(line));
	free(line);
}

/* A map: its "host:ip" entries sorted as strings (null values left out),
 * as the CLI's loader turns a map into a list. */
static void
hosts_map(const struct ynode *n, cJSON *out)
{
	char **items = xcalloc(n->n, sizeof(*items));
	size_t k = 0;

	for (size_t i = 0; i < n->n; i++) {
		size_t len = strlen(n->keys[i]->str) + strlen(n->vals[i]->str) + 2;
		if (ynode_is_null(n->vals[i]))
			continue;
		items[k] = xmalloc(len);
		snprintf(items[k++], len, "%s:%s", n->keys[i]->str,
		    n->vals[i]->str);
	}
	qsort(items, k, sizeof(*items), conv_str_cmp);
	for (size_t i = 0; i < k; i++) {
		host_entry(out, items[i]);
		free(items[i]);
	}
	free(items);
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
	if (n->kind == YNODE_MAP) {
		hosts_map(n, out);
		return 0;
	}
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
		joined = xstrdup(s);
		joined[sep - s] = ':';
		host_entry(out, joined);
		free(joined);
	}
	cJSON_Delete(in);
	return 0;
}

