#define _GNU_SOURCE /* memrchr */
/*
 * refs.c - the parts of a service that refer to other things: published
 * ports, networks, secrets and configs, and volumes (mounts).
 *
 * Each follows docker/cli's cli/compose/convert (service.go, volume.go) and
 * its loader, so that the engine stores the same spec either way.
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "compose_int.h"

/* --- ports --------------------------------------------------------- */

static int
port_range(const char *s, size_t len, long *lo, long *hi)
{
	char buf[32], *end;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	*lo = strtol(buf, &end, 10);
	*hi = *lo;
	if (*end == '-')
		*hi = strtol(end + 1, &end, 10);
	if (*end != '\0' || *lo < 0 || *hi > 65535 || *lo > *hi ||
	    !isdigit((unsigned char)buf[0]))
		return -1;
	return 0;
}

static void
add_port(cJSON *ports, const char *proto, long target, long published,
    const char *mode)
{
	cJSON *p = cJSON_CreateObject();

	cJSON_AddItemToArray(ports, p);
	if (proto != NULL)
		cJSON_AddStringToObject(p, "Protocol", proto);
	cJSON_AddNumberToObject(p, "TargetPort", (double)target);
	if (published > 0)
		cJSON_AddNumberToObject(p, "PublishedPort", (double)published);
	if (mode != NULL)
		cJSON_AddStringToObject(p, "PublishMode", mode);
}

/* The CLI expands a short port through a map keyed "port/proto" and walks
 * the keys sorted as strings: "10000/tcp" comes before "9999/tcp". */
static int
key_cmp(const void *a, const void *b)
{
	char x[8], y[8];

	snprintf(x, sizeof(x), "%ld", *(const long *)a);
	snprintf(y, sizeof(y), "%ld", *(const long *)b);
	return strcmp(x, y);
}

/* Target ports tlo..thi, each with its published port (plo..phi maps one
 * to one; one target with a published range takes each of them). */
static void
short_expand(cJSON *ports, const char *proto, long tlo, long thi, long plo,
    long phi)
{
	long n = thi - tlo + 1, *keys = xcalloc((size_t)n, sizeof(*keys));

	for (long i = 0; i < n; i++)
		keys[i] = tlo + i;
	qsort(keys, (size_t)n, sizeof(*keys), key_cmp);
	for (long i = 0; i < n; i++) {
		if (n == 1 && phi > plo)
			for (long p = plo; p <= phi; p++)
				add_port(ports, proto, keys[i], p, "ingress");
		else
			add_port(ports, proto, keys[i], plo ? plo + keys[i] -
			    tlo : 0, "ingress");
	}
	free(keys);
}

/* "[ip:][published[-end]:]target[-end][/proto]" */
static int
port_short(struct conv *c, const struct ynode *n, const char *path,
    cJSON *ports)
{
	char proto[8] = "tcp";
	const char *s = n->str, *slash = strrchr(s, '/'), *colon;
	long tlo, thi, plo = 0, phi = 0;
	size_t len = slash ? (size_t)(slash - s) : strlen(s);

	if (slash != NULL) {
		if (strlen(slash + 1) >= sizeof(proto))
			return conv_fail(c, n, path, "invalid protocol in "
			    "port \"%s\"", s);
		for (size_t i = 0; slash[i + 1] != '\0'; i++)
			proto[i] = (char)tolower((unsigned char)slash[i + 1]);
		proto[strlen(slash + 1)] = '\0';
		if (strcmp(proto, "tcp") && strcmp(proto, "udp") &&
		    strcmp(proto, "sctp"))
			return conv_fail(c, n, path, "invalid protocol in "
			    "port \"%s\"", s);
	}
	colon = memrchr(s, ':', len);
	if (port_range(colon ? colon + 1 : s, colon ? len - (size_t)(colon +
	    1 - s) : len, &tlo, &thi) < 0)
		return conv_fail(c, n, path, "invalid port \"%s\"", s);
	if (colon != NULL) {
		const char *pstart = memrchr(s, ':', (size_t)(colon - s));
		const char *p0 = pstart ? pstart + 1 : s;

		if (pstart != NULL)
			conv_warn(c, "%s: the host IP in \"%s\" is ignored by "
			    "swarm", path, s);
		if (colon > p0 && port_range(p0, (size_t)(colon - p0), &plo,
		    &phi) < 0)
			return conv_fail(c, n, path, "invalid published port "
			    "in \"%s\"", s);
		/* One target may take a range of published ports. */
		if (colon > p0 && phi - plo != thi - tlo && thi != tlo)
			return conv_fail(c, n, path, "published and target "
			    "port ranges differ in size in \"%s\"", s);
	}
	short_expand(ports, proto, tlo, thi, plo, phi);
	return 0;
}

static int
port_long(struct conv *c, const struct ynode *n, const char *path,
    cJSON *ports)
{
	static const char *const keys[] = { "target", "published", "protocol",
	    "mode", "host_ip", "name", "app_protocol", NULL };
	const char *proto = NULL, *mode = NULL;
	int64_t target = 0, published = 0;
	const struct ynode *v;
	char p[CONV_PATH_MAX];
	int rc;

	if ((rc = conv_keys(c, n, path, keys)) < 0)
		return rc;
	conv_path(p, "%s.target", path);
	if ((v = ynode_get(n, "target")) == NULL)
		return conv_fail(c, n, p, "required");
	if ((rc = conv_int(c, v, p, &target)) < 0)
		return rc;
	/* An integer, as the CLI's schema wants ("8080" is refused). */
	if ((v = ynode_get(n, "published")) != NULL &&
	    (rc = conv_int(c, v, conv_path(p, "%s.published", path),
	    &published)) < 0)
		return rc;
	if (published < 0 || published > 65535 || target < 1 ||
	    target > 65535)
		return conv_fail(c, n, path, "port numbers run from 1 to "
		    "65535");
	conv_path(p, "%s.protocol", path);
	if ((v = ynode_get(n, "protocol")) && (rc = conv_str(c, v, p,
	    &proto)) < 0)
		return rc;
	conv_path(p, "%s.mode", path);
	if ((v = ynode_get(n, "mode")) && (rc = conv_str(c, v, p, &mode)) < 0)
		return rc;
	add_port(ports, proto, (long)target, (long)published, mode);
	return 0;
}

/* The CLI's order: by published port alone, with Go's sort.Slice. */
static bool
port_less(const cJSON *a, const cJSON *b)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(a, "PublishedPort");
	const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, "PublishedPort");

	return (x ? x->valuedouble : 0) < (y ? y->valuedouble : 0);
}

int
conv_ports(struct conv *c, const struct ynode *ports, const char *path,
    cJSON **out)
{
	int rc;

	if ((rc = conv_ports_loaded(c, ports, path, out)) < 0)
		return rc;
	conv_go_sort(*out, port_less);
	return 0;
}

int
conv_ports_loaded(struct conv *c, const struct ynode *ports, const char *path,
    cJSON **out)
{
	cJSON *a = cJSON_CreateArray();
	char p[CONV_PATH_MAX];
	int rc = 0;

	*out = NULL;
	if (ports->kind != YNODE_SEQ && !ynode_is_null(ports))
		rc = conv_fail(c, ports, path, "expected a list of ports");
	for (size_t i = 0; rc == 0 && ports->kind == YNODE_SEQ &&
	    i < ports->n; i++) {
		conv_path(p, "%s[%zu]", path, i);
		if (ports->vals[i]->kind == YNODE_MAP)
			rc = port_long(c, ports->vals[i], p, a);
		else if (ports->vals[i]->kind == YNODE_SCALAR)
			rc = port_short(c, ports->vals[i], p, a);
		else
			rc = conv_fail(c, ports->vals[i], p, "expected a port");
	}
	if (rc < 0) {
		cJSON_Delete(a);
		return rc;
	}
	*out = a;
	return 0;
}

/* --- networks ------------------------------------------------------ */

bool
conv_network_user_defined(const char *target)
{
	return strcmp(target, "host") && strcmp(target, "bridge") &&
	    strcmp(target, "none") && strcmp(target, "default") &&
	    strncmp(target, "container:", 10);
}

static int
target_cmp(const cJSON *a, const cJSON *b)
{
	return strcmp(cJSON_GetObjectItemCaseSensitive(a, "Target")->valuestring,
	    cJSON_GetObjectItemCaseSensitive(b, "Target")->valuestring);
}

static int
attach(struct conv *c, const char *svc, const char *key,
    const struct ynode *cfg, const char *path, cJSON *list)
{
	static const char *const keys[] = { "aliases", "ipv4_address",
	    "ipv6_address", "driver_opts", "priority", "link_local_ips",
	    "mac_address", NULL };
	char target[256], p[CONV_PATH_MAX];
	cJSON *att, *aliases = NULL, *opts = NULL;
	const struct ynode *v;
	bool external;
	int rc;

	if (strcmp(key, "default") != 0 &&
	    conv_toplevel(c, "networks", key) == NULL)
		return conv_fail(c, cfg, path, "undefined network \"%s\"", key);
	if ((rc = conv_object_name(c, "networks", key, target, sizeof(target),
	    &external)) < 0)
		return rc;
	conv_network_use(c, key);
	if (cfg != NULL && (rc = conv_map(c, cfg, path)) < 0)
		return rc;
	if (cfg != NULL && (rc = conv_keys(c, cfg, path, keys)) < 0)
		return rc;
	if ((v = ynode_get(cfg, "aliases")) != NULL) {
		conv_path(p, "%s.aliases", path);
		if ((rc = conv_strlist(c, v, p, false, &aliases)) < 0)
			return rc;
	}
	if ((v = ynode_get(cfg, "driver_opts")) != NULL) {
		conv_path(p, "%s.driver_opts", path);
		if ((rc = conv_strmap(c, v, p, &opts)) < 0) {
			cJSON_Delete(aliases);
			return rc;
		}
	}
	att = cJSON_CreateObject();
	cJSON_AddItemToArray(list, att);
	cJSON_AddStringToObject(att, "Target", target);
	if (conv_network_user_defined(target)) {
		if (aliases == NULL)
			aliases = cJSON_CreateArray();
		cJSON_AddItemToArray(aliases, cJSON_CreateString(svc));
	}
	if (aliases != NULL)
		cJSON_AddItemToObject(att, "Aliases", aliases);
	if (opts != NULL)
		cJSON_AddItemToObject(att, "DriverOpts", opts);
	return 0;
}

int
conv_networks(struct conv *c, const char *svc, const struct ynode *nets,
    const char *path, cJSON **out)
{
	cJSON *list = cJSON_CreateArray();
	char p[CONV_PATH_MAX];
	int rc = 0;

	*out = NULL;
	if (nets == NULL || ynode_is_null(nets) || nets->n == 0)
		rc = attach(c, svc, "default", NULL, path, list);
	else if (nets->kind == YNODE_SEQ) {
		for (size_t i = 0; rc == 0 && i < nets->n; i++) {
			conv_path(p, "%s[%zu]", path, i);
			if (nets->vals[i]->kind != YNODE_SCALAR)
				rc = conv_fail(c, nets->vals[i], p, "expected a "
				    "network name");
			else
				rc = attach(c, svc, nets->vals[i]->str, NULL, p,
				    list);
		}
	} else if (nets->kind == YNODE_MAP) {
		for (size_t i = 0; rc == 0 && i < nets->n; i++) {
			conv_path(p, "%s.%s", path,
			    nets->keys[i]->str);
			rc = attach(c, svc, nets->keys[i]->str,
			    ynode_is_null(nets->vals[i]) ? NULL : nets->vals[i],
			    p, list);
		}
	} else
		rc = conv_fail(c, nets, path, "expected a list or a mapping of "
		    "networks");
	if (rc < 0) {
		cJSON_Delete(list);
		return rc;
	}
	conv_sort(list, target_cmp);
	*out = list;
	return 0;
}

/* --- secrets and configs -------------------------------------------- */

/* YAML 1.1-style integers as the CLI's YAML library reads them: 0440 is
 * octal, as are 0o440; 0x1f is hex. */
static int
parse_mode(const struct ynode *n, int64_t *out)
{
	const char *s = n->str;
	char *end;

	if (n->kind != YNODE_SCALAR || *s == '\0')
		return -1;
	if (s[0] == '0' && (s[1] == 'o' || s[1] == 'O'))
		*out = strtoll(s + 2, &end, 8);
	else
		*out = strtoll(s, &end, 0);
	return *end == '\0' ? 0 : -1;
}

static int
file_ref(struct conv *c, bool secrets, const struct ynode *n,
    const char *path, cJSON *list)
{
	static const char *const keys[] = { "source", "target", "uid", "gid",
	    "mode", NULL };
	const char *section = secrets ? "secrets" : "configs";
	const char *source = NULL, *target = NULL, *uid = "0", *gid = "0";
	const struct ynode *v;
	char name[256], p[CONV_PATH_MAX];
	cJSON *ref, *file;
	int64_t mode = 0444;
	bool external;
	int rc;

	if (n->kind == YNODE_SCALAR)
		source = n->str;
	else if (n->kind == YNODE_MAP) {
		if ((rc = conv_keys(c, n, path, keys)) < 0)
			return rc;
		conv_path(p, "%s.source", path);
		if ((v = ynode_get(n, "source")) == NULL)
			return conv_fail(c, n, p, "required");
		if ((rc = conv_str(c, v, p, &source)) < 0)
			return rc;
		if ((v = ynode_get(n, "target")) != NULL &&
		    (rc = conv_str(c, v, path, &target)) < 0)
			return rc;
		if ((v = ynode_get(n, "uid")) != NULL &&
		    (rc = conv_str(c, v, path, &uid)) < 0)
			return rc;
		if ((v = ynode_get(n, "gid")) != NULL &&
		    (rc = conv_str(c, v, path, &gid)) < 0)
			return rc;
		if ((v = ynode_get(n, "mode")) != NULL && parse_mode(v,
		    &mode) < 0)
			return conv_fail(c, v, path, "mode: expected a number "
			    "like 0440");
	} else
		return conv_fail(c, n, path, "expected a name or a mapping");
	if (conv_toplevel(c, section, source) == NULL)
		return conv_fail(c, n, path, "undefined %s \"%s\"",
		    secrets ? "secret" : "config", source);
	if ((rc = conv_object_name(c, section, source, name, sizeof(name),
	    &external)) < 0)
		return rc;
	ref = cJSON_CreateObject();
	file = cJSON_AddObjectToObject(ref, "File");
	cJSON_AddItemToArray(list, ref);
	cJSON_AddStringToObject(file, "Name", target ? target : source);
	cJSON_AddStringToObject(file, "UID", uid);
	cJSON_AddStringToObject(file, "GID", gid);
	cJSON_AddNumberToObject(file, "Mode", (double)mode);
	cJSON_AddStringToObject(ref, secrets ? "SecretName" : "ConfigName",
	    name);
	return 0;
}

static int
secret_cmp(const cJSON *a, const cJSON *b)
{
	return strcmp(cJSON_GetObjectItemCaseSensitive(a, "SecretName")->
	    valuestring, cJSON_GetObjectItemCaseSensitive(b, "SecretName")->
	    valuestring);
}

static int
config_cmp(const cJSON *a, const cJSON *b)
{
	return strcmp(cJSON_GetObjectItemCaseSensitive(a, "ConfigName")->
	    valuestring, cJSON_GetObjectItemCaseSensitive(b, "ConfigName")->
	    valuestring);
}

int
conv_file_refs(struct conv *c, bool secrets, const struct ynode *refs,
    const char *path, cJSON **out)
{
	cJSON *list = cJSON_CreateArray(), *f;
	char p[CONV_PATH_MAX];
	int rc = 0;

	*out = NULL;
	if (refs->kind != YNODE_SEQ && !ynode_is_null(refs))
		rc = conv_fail(c, refs, path, "expected a list");
	for (size_t i = 0; rc == 0 && refs->kind == YNODE_SEQ && i < refs->n;
	    i++) {
		conv_path(p, "%s[%zu]", path, i);
		rc = file_ref(c, secrets, refs->vals[i], p, list);
	}
	/* Two references may not land on the same file. */
	for (int i = 0; rc == 0 && i < cJSON_GetArraySize(list); i++) {
		f = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(list, i),
		    "File");
		for (int j = 0; rc == 0 && j < i; j++)
			if (strcmp(cJSON_GetObjectItemCaseSensitive(f,
			    "Name")->valuestring,
			    cJSON_GetObjectItemCaseSensitive(
			    cJSON_GetObjectItemCaseSensitive(
			    cJSON_GetArrayItem(list, j), "File"),
			    "Name")->valuestring) == 0)
				rc = conv_fail(c, refs, path, "two %s use the "
				    "target \"%s\"", secrets ? "secrets" :
				    "configs", cJSON_GetObjectItemCaseSensitive(
				    f, "Name")->valuestring);
	}
	if (rc < 0) {
		cJSON_Delete(list);
		return rc;
	}
	conv_sort(list, secrets ? secret_cmp : config_cmp);
	*out = list;

	return 0;
}
