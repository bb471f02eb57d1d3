/*
 * caps.c - cap_add and cap_drop as the CLI turns them into
 * CapabilityAdd and CapabilityDrop (opts.EffectiveCapAddCapDrop).
 *
 * Names are trimmed, upper-cased and given their CAP_ prefix (ALL and
 * RESET stay as they are) and each list is a sorted set.  ALL in a list
 * stands for the whole list; a capability both added and dropped is only
 * added; RESET is dropped from both.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "compose_int.h"

#define CAPS_MAX 128

struct capset {
	char *v[CAPS_MAX];
	size_t n;
};

static bool
capset_has(const struct capset *s, const char *cap)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], cap) == 0)
			return true;
	return false;
}

static void
capset_release(struct capset *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	s->n = 0;
}

/* " net_admin" -> "CAP_NET_ADMIN"; "all" -> "ALL". */
static char *
normalize(const char *s)
{
	size_t len, skip = 0;
	char *out;

	while (isspace((unsigned char)*s))
		s++;
	len = strlen(s);
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	out = xmalloc(len + 5);
	memcpy(out + 4, s, len);
	out[len + 4] = '\0';
	for (size_t i = 4; i < len + 4; i++)
		out[i] = (char)toupper((unsigned char)out[i]);
	if (strcmp(out + 4, "ALL") == 0 || strcmp(out + 4, "RESET") == 0 ||
	    strncmp(out + 4, "CAP_", 4) == 0)
		skip = 4;
	else
		memcpy(out, "CAP_", 4);
	memmove(out, out + skip, len + 5 - skip);
	return out;
}

/* The list at n as a set; ALL in it makes it {ALL}. */
static int
capset_read(struct conv *c, const struct ynode *n, const char *path,
    struct capset *s)
{
	cJSON *list = NULL;
	char *cap;
	int rc;

	s->n = 0;
	if (n == NULL || ynode_is_null(n))
		return 0;
	if ((rc = conv_strlist(c, n, path, false, &list)) < 0)
		return rc;
	for (int i = 0; i < cJSON_GetArraySize(list); i++) {
		cap = normalize(cJSON_GetArrayItem(list, i)->valuestring);
		if (capset_has(s, cap) || s->n == CAPS_MAX)
			free(cap);
		else
			s->v[s->n++] = cap;
	}
	cJSON_Delete(list);
	if (capset_has(s, "ALL")) {
		capset_release(s);
		s->v[s->n++] = xstrdup("ALL");
		if (s->v[0] == NULL)
			s->n = 0;
	}
	return 0;
}

/* field: the sorted members of s that are not RESET nor in except. */
static void
capset_add(cJSON *cs, const char *field, struct capset *s,
    const struct capset *except)
{
	cJSON *list = NULL;

	qsort(s->v, s->n, sizeof(*s->v), conv_str_cmp);
	for (size_t i = 0; i < s->n; i++) {
		if (strcmp(s->v[i], "RESET") == 0 ||
		    (except != NULL && capset_has(except, s->v[i])))
			continue;
		if (list == NULL)
			list = cJSON_AddArrayToObject(cs, field);
		cJSON_AddItemToArray(list, cJSON_CreateString(s->v[i]));
	}
}

int
conv_capabilities(struct conv *c, const struct ynode *svc, const char *path,
    cJSON *cs)
{
	struct capset add, drop;
	char p[CONV_PATH_MAX];
	int rc;

	if ((rc = capset_read(c, ynode_get(svc, "cap_add"), conv_path(p,
	    "%s.cap_add", path), &add)) < 0)
		return rc;
	if ((rc = capset_read(c, ynode_get(svc, "cap_drop"), conv_path(p,
	    "%s.cap_drop", path), &drop)) < 0) {
		capset_release(&add);
		return rc;
	}
	capset_add(cs, "CapabilityAdd", &add, NULL);
	capset_add(cs, "CapabilityDrop", &drop, &add);
	capset_release(&add);
	capset_release(&drop);
	return 0;
}
