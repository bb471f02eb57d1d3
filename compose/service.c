/*
 * service.c - one compose service into the ServiceSpec `docker stack
 * deploy` sends (docker/cli cli/compose/convert/service.go).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "compose_int.h"
#include "json.h"

#define LABEL_IMAGE "com.docker.stack.image"

/* Service keys: converted, warned about (ignored), or silently ignored.
 * Anything else is an error, as the CLI's schema makes it. */
static const char *const converted[] = { "image", "command", "entrypoint",
    "environment", "env_file", "labels", "deploy", "healthcheck", "ports",
    "networks", "secrets", "configs", "volumes", "logging",
    "stop_grace_period", "stop_signal", "user", "working_dir", "hostname",
    "dns", "dns_search", "extra_hosts", "cap_add", "cap_drop", "sysctls",
    "ulimits", "init", "tty", "stdin_open", "read_only", "isolation",
    "credential_spec", NULL };
static const char *const unsupported[] = { "build", "cgroupns_mode",
    "cgroup_parent", "devices", "domainname", "external_links", "ipc",
    "links", "mac_address", "network_mode", "pid", "privileged", "restart",
    "security_opt", "shm_size", "userns_mode", "container_name", "expose",
    NULL };
/* Accepted by the 3.13 schema, but the CLI's loader never reads it into
 * the service (its field is named otherwise), so nothing is sent. */
static const char *const unread[] = { "oom_score_adj", NULL };
static const char *const ignored[] = { "depends_on", "tmpfs", NULL };

static bool
in_list(const char *const *list, const char *k)
{
	for (; *list != NULL; list++)
		if (strcmp(*list, k) == 0)
			return true;
	return false;
}

static int
check_keys(struct conv *c, const char *name, const struct ynode *svc)
{
	static const char *const forbidden[] = { "extends", "volume_driver",
	    "volumes_from", "cpu_quota", "cpu_shares", "cpuset", "mem_limit",
	    "memswap_limit", NULL };
	char p[CONV_PATH_MAX];
	const char *k;

	for (size_t i = 0; i < svc->n; i++) {
		k = svc->keys[i]->str;
		conv_path(p, "services.%s", name);
		if (in_list(forbidden, k))
			return conv_fail(c, svc->keys[i], p, "\"%s\" is not "
			    "supported by docker stack deploy (a compose file "
			    "format 2 key)", k);
		if (in_list(unsupported, k))
			conv_warn(c, "%s: ignoring unsupported option %s", p, k);
		else if (in_list(unread, k))
			conv_warn(c, "%s: ignoring %s, as docker stack deploy "
			    "does (it accepts the key and never sends it)", p, k);
		else if (!in_list(converted, k) && !in_list(ignored, k) &&
		    strncmp(k, "x-", 2) != 0)
			return conv_fail(c, svc->keys[i], p, "unknown key \"%s\" "
			    "(docker stack deploy rejects it too)", k);
	}
	/* The CLI's schema: depends_on is a list of names in 3.x. */
	if (ynode_get(svc, "depends_on") != NULL &&
	    ynode_get(svc, "depends_on")->kind != YNODE_SEQ)
		return conv_fail(c, ynode_get(svc, "depends_on"),
		    conv_path(p, "services.%s.depends_on", name),
		    "must be a list");
	return 0;
}

/* --- healthcheck, restart, update, resources, placement, mode ------- */

static int
healthcheck(struct conv *c, const struct ynode *h, const char *path,
    cJSON *cs)
{
	static const char *const keys[] = { "test", "interval", "timeout",
	    "retries", "start_period", "start_interval", "disable", NULL };
	const struct ynode *test = ynode_get(h, "test");
	cJSON *hc, *t = NULL;
	bool disable = false;
	char p[CONV_PATH_MAX];
	int rc;

	if ((rc = conv_map(c, h, path)) < 0 ||
	    (rc = conv_keys(c, h, path, keys)) < 0)
		return rc;
	if (ynode_get(h, "disable") && (rc = conv_bool(c, ynode_get(h,
	    "disable"), conv_path(p, "%s.disable", path), &disable)) < 0)
		return rc;
	hc = cJSON_AddObjectToObject(cs, "Healthcheck");
	if (disable) {
		/* a string is a CMD-SHELL test, so it counts */
		if (test != NULL && !ynode_is_null(test) &&
		    (test->kind == YNODE_SCALAR || test->n > 0))
			return conv_fail(c, h, path, "test and disable can't "
			    "be set at the same time");
		t = cJSON_AddArrayToObject(hc, "Test");
		cJSON_AddItemToArray(t, cJSON_CreateString("NONE"));
		return 0;
	}
	if (test != NULL && test->kind == YNODE_SCALAR && !test->null) {
		t = cJSON_AddArrayToObject(hc, "Test");
		cJSON_AddItemToArray(t, cJSON_CreateString("CMD-SHELL"));
		cJSON_AddItemToArray(t, cJSON_CreateString(test->str));
	} else if (test != NULL && !ynode_is_null(test)) {
		if ((rc = conv_strlist(c, test, conv_path(p, "%s.test", path),
		    false, &t)) < 0)
			return rc;
		cJSON_AddItemToObject(hc, "Test", t);
	}
	if ((rc = conv_add_duration(c, hc, "Interval", h, "interval", path)) < 0 ||
	    (rc = conv_add_duration(c, hc, "Timeout", h, "timeout", path)) < 0 ||
	    (rc = conv_add_duration(c, hc, "StartPeriod", h, "start_period",
	    path)) < 0 ||
	    (rc = conv_add_duration(c, hc, "StartInterval", h, "start_interval",
	    path)) < 0 ||
	    (rc = conv_add_int(c, hc, "Retries", h, "retries", path)) < 0)
		return rc;
	return 0;
}

/* --- the rest of ContainerSpec --------------------------------------- */

static int
command(struct conv *c, const struct ynode *n, const char *path,
    const char *field, cJSON *cs)
{
	cJSON *list = NULL;
	int rc;

	if (n == NULL || ynode_is_null(n))
		return 0;
	if (n->kind == YNODE_SCALAR) {
		if (compose_shlex(n->str, &list) < 0)
			return conv_fail(c, n, path, "cannot split \"%s\" into "
			    "words (unclosed quote?)", n->str);
	} else if ((rc = conv_strlist(c, n, path, false, &list)) < 0)
		return rc;
	/* An empty list is dropped (omitempty), as by the CLI. */
	if (cJSON_GetArraySize(list) == 0)
		cJSON_Delete(list);
	else
		cJSON_AddItemToObject(cs, field, list);
	return 0;
}

static int
name_cmp(const cJSON *a, const cJSON *b)
{
	return strcmp(cJSON_GetObjectItemCaseSensitive(a, "Name")->valuestring,
	    cJSON_GetObjectItemCaseSensitive(b, "Name")->valuestring);
}

static int
ulimits(struct conv *c, const struct ynode *n, const char *path, cJSON *cs)
{
	cJSON *list;
	char p[CONV_PATH_MAX];
	int64_t soft, hard;
	int rc;

	if (n == NULL || ynode_is_null(n))
		return 0;
	if (n->kind != YNODE_MAP)
		return conv_fail(c, n, path, "expected a mapping");
	list = cJSON_AddArrayToObject(cs, "Ulimits");
	for (size_t i = 0; i < n->n; i++) {
		const struct ynode *v = n->vals[i];
		cJSON *u = cJSON_CreateObject();

		conv_path(p, "%s.%s", path, n->keys[i]->str);
		if (v->kind == YNODE_SCALAR) {
			if ((rc = conv_int(c, v, p, &soft)) < 0)
				return cJSON_Delete(u), rc;
			hard = soft;
		} else if ((rc = conv_int(c, ynode_get(v, "soft"), p,
		    &soft)) < 0 || (rc = conv_int(c, ynode_get(v, "hard"), p,
		    &hard)) < 0)
			return cJSON_Delete(u), rc;
		cJSON_AddStringToObject(u, "Name", n->keys[i]->str);
		cJSON_AddNumberToObject(u, "Hard", (double)hard);
		cJSON_AddNumberToObject(u, "Soft", (double)soft);
		cJSON_AddItemToArray(list, u);
	}
	conv_sort(list, name_cmp);
	return 0;
}

static int
labels(struct conv *c, const struct ynode *n, const char *path, cJSON *obj,
    const char *image)
{
	cJSON *l = NULL;
	int rc;

	if (n != NULL && !ynode_is_null(n)) {
		if ((rc = conv_strmap(c, n, path, &l)) < 0)
			return rc;
	} else
		l = cJSON_CreateObject();
	conv_stack_label(c, l);
	if (image != NULL) {
		cJSON_DeleteItemFromObjectCaseSensitive(l, LABEL_IMAGE);
		cJSON_AddStringToObject(l, LABEL_IMAGE, image);
	}
	cJSON_AddItemToObject(obj, "Labels", l);
	return 0;
}

static int
strings(struct conv *c, const struct ynode *svc, const char *path,
    cJSON *cs)
{
	static const struct { const char *key, *field; } map[] = {
		{ "hostname", "Hostname" }, { "user", "User" },
		{ "working_dir", "Dir" }, { "stop_signal", "StopSignal" },
		{ "isolation", "Isolation" },
	};
	int rc;

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if ((rc = conv_add_str(c, cs, map[i].field, svc, map[i].key,
		    path)) < 0)
			return rc;
	if ((rc = conv_add_bool(c, cs, "TTY", svc, "tty", path, true)) < 0 ||
	    (rc = conv_add_bool(c, cs, "OpenStdin", svc, "stdin_open", path,
	    true)) < 0 ||
	    (rc = conv_add_bool(c, cs, "ReadOnly", svc, "read_only", path,
	    true)) < 0 ||
	    (rc = conv_add_bool(c, cs, "Init", svc, "init", path, false)) < 0 ||

	    (rc = conv_add_duration(c, cs, "StopGracePeriod", svc,
	    "stop_grace_period", path)) < 0)
		return rc;
	return 0;
}

static int
dns(struct conv *c, const struct ynode *svc, const char *path, cJSON *cs)
{
	const struct ynode *ns = ynode_get(svc, "dns");
	const struct ynode *search = ynode_get(svc, "dns_search");
	cJSON *o, *a = NULL, *b = NULL;
	char p[CONV_PATH_MAX];
	int rc;

	if (ns != NULL && (rc = conv_strlist(c, ns, conv_path(p, "%s.dns",
	    path), true, &a)) < 0)
		return rc;
	if (search != NULL && (rc = conv_strlist(c, search, conv_path(p,
	    "%s.dns_search", path), true, &b)) < 0) {
		cJSON_Delete(a);
		return rc;
	}
	if (cJSON_GetArraySize(a) == 0 && cJSON_GetArraySize(b) == 0) {
		cJSON_Delete(a);
		cJSON_Delete(b);
		return 0;
	}
	o = cJSON_AddObjectToObject(cs, "DNSConfig");
	if (cJSON_GetArraySize(a) > 0)
		cJSON_AddItemToObject(o, "Nameservers", a);
	else
		cJSON_Delete(a);
	if (cJSON_GetArraySize(b) > 0)
		cJSON_AddItemToObject(o, "Search", b);
	else
		cJSON_Delete(b);
	return 0;
}

static int
logging(struct conv *c, const struct ynode *l, const char *path, cJSON *tt)
{
	static const char *const keys[] = { "driver", "options", NULL };
	cJSON *o, *opts;
	char p[CONV_PATH_MAX];
	int rc;

	if (l == NULL)
		return 0;
	if ((rc = conv_map(c, l, path)) < 0 ||
	    (rc = conv_keys(c, l, path, keys)) < 0)
		return rc;
	o = cJSON_AddObjectToObject(tt, "LogDriver");
	if ((rc = conv_add_str(c, o, "Name", l, "driver", path)) < 0)
		return rc;
	if (ynode_get(l, "options") != NULL && !ynode_is_null(ynode_get(l,
	    "options"))) {
		if ((rc = conv_strmap(c, ynode_get(l, "options"), conv_path(p,
		    "%s.options", path), &opts)) < 0)
			return rc;
		cJSON_AddItemToObject(o, "Options", opts);
	}
	return 0;
}

/* Attach a list built by fn to obj.field when non-empty. */
static int
add_list(cJSON *obj, const char *field, cJSON *list)
{
	if (cJSON_GetArraySize(list) > 0)
		cJSON_AddItemToObject(obj, field, list);
	else
		cJSON_Delete(list);
	return 0;
}

static int
service_refs(struct conv *c, const char *name, const struct ynode *svc,
    const char *path, cJSON *spec, cJSON *tt, cJSON *cs)
{
	const struct ynode *v;
	cJSON *list = NULL, *ep;
	char p[CONV_PATH_MAX];
	const char *epmode = NULL;
	int rc;

	ep = cJSON_AddObjectToObject(spec, "EndpointSpec");
	v = ynode_get(ynode_get(svc, "deploy"), "endpoint_mode");
	if (v != NULL && (rc = conv_str(c, v, conv_path(p,
	    "%s.deploy.endpoint_mode", path), &epmode)) < 0)
		return rc;
	if (epmode != NULL && *epmode != '\0') {
		char lower[32];
		snprintf(lower, sizeof(lower), "%s", epmode);
		for (char *q = lower; *q; q++)
			*q = (char)tolower((unsigned char)*q);
		cJSON_AddStringToObject(ep, "Mode", lower);
	}
	if ((v = ynode_get(svc, "ports")) != NULL) {
		if ((rc = conv_ports(c, v, conv_path(p, "%s.ports", path),
		    &list)) < 0)
			return rc;
		add_list(ep, "Ports", list);
	}
	if ((rc = conv_networks(c, name, ynode_get(svc, "networks"),
	    conv_path(p, "%s.networks", path), &list)) < 0)
		return rc;
	add_list(tt, "Networks", list);
	if ((v = ynode_get(svc, "secrets")) != NULL) {
		if ((rc = conv_file_refs(c, true, v, conv_path(p,
		    "%s.secrets", path), &list)) < 0)
			return rc;
		add_list(cs, "Secrets", list);
	}
	if ((v = ynode_get(svc, "configs")) != NULL) {
		if ((rc = conv_file_refs(c, false, v, conv_path(p,
		    "%s.configs", path), &list)) < 0)
			return rc;
		add_list(cs, "Configs", list);
	}
	if ((v = ynode_get(svc, "volumes")) != NULL) {
		if ((rc = conv_mounts(c, v, conv_path(p, "%s.volumes", path),
		    &list)) < 0)
			return rc;
		add_list(cs, "Mounts", list);
	}
	return 0;
}

static int
container(struct conv *c, const char *name, const struct ynode *svc,
    const char *path, cJSON *cs)
{
	const struct ynode *v;
	cJSON *list;
	char p[CONV_PATH_MAX];
	int rc;

	if ((rc = command(c, ynode_get(svc, "entrypoint"), conv_path(p,
	    "%s.entrypoint", path), "Command", cs)) < 0 ||
	    (rc = command(c, ynode_get(svc, "command"), conv_path(p,
	    "%s.command", path), "Args", cs)) < 0 ||
	    (rc = conv_env_convert(c, name, svc, cs)) < 0 ||
	    (rc = labels(c, ynode_get(svc, "labels"), conv_path(p,
	    "%s.labels", path), cs, NULL)) < 0 ||
	    (rc = strings(c, svc, path, cs)) < 0 ||
	    (rc = dns(c, svc, path, cs)) < 0 ||
	    (rc = conv_extra_hosts(c, ynode_get(svc, "extra_hosts"), conv_path(p,
	    "%s.extra_hosts", path), cs)) < 0 ||
	    (rc = conv_capabilities(c, svc, path, cs)) < 0 ||
	    (rc = ulimits(c, ynode_get(svc, "ulimits"), conv_path(p,
	    "%s.ulimits", path), cs)) < 0)
		return rc;
	if ((v = ynode_get(svc, "sysctls")) != NULL && !ynode_is_null(v)) {
		if ((rc = conv_strmap(c, v, conv_path(p, "%s.sysctls", path),
		    &list)) < 0)
			return rc;
		cJSON_AddItemToObject(cs, "Sysctls", list);
	}
	if ((v = ynode_get(svc, "healthcheck")) != NULL &&
	    (rc = healthcheck(c, v, conv_path(p, "%s.healthcheck", path),
	    cs)) < 0)
		return rc;
	return 0;
}

static int
privileges(struct conv *c, const struct ynode *svc, const char *path,
    cJSON *cs)
{
	static const char *const keys[] = { "file", "registry", "config",
	    NULL };
	const struct ynode *cred = ynode_get(svc, "credential_spec");
	cJSON *priv = cJSON_AddObjectToObject(cs, "Privileges"), *o;
	char p[CONV_PATH_MAX];
	int rc;

	conv_path(p, "%s.credential_spec", path);
	if (cred == NULL || ynode_is_null(cred)) {
		cJSON_AddNullToObject(priv, "CredentialSpec");
	} else {
		if ((rc = conv_map(c, cred, p)) < 0 ||
		    (rc = conv_keys(c, cred, p, keys)) < 0)
			return rc;
		if (ynode_get(cred, "config") != NULL)
			return conv_fail(c, cred, p, "credential_spec.config "
			    "is not supported by stackd yet");
		o = cJSON_AddObjectToObject(priv, "CredentialSpec");
		if ((rc = conv_add_str(c, o, "File", cred, "file", p)) < 0 ||
		    (rc = conv_add_str(c, o, "Registry", cred, "registry", p)) < 0)
			return rc;
	}
	cJSON_AddNullToObject(priv, "SELinuxContext");
	return 0;
}

/* x-stackd-hook: stackd's own, which docker stack deploy ignores like any
 * x- key.  A hook is a job: it runs to completion around a sync. */
static int
hook(struct conv *c, const char *name, const struct ynode *svc,
    const char *full, const cJSON *spec)
{
	const struct ynode *h = ynode_get(svc, "x-stackd-hook");
	char p[CONV_PATH_MAX];

	if (h == NULL || ynode_is_null(h))
		return 0;
	conv_path(p, "services.%s.x-stackd-hook", name);
	if (h->kind != YNODE_SCALAR || (strcmp(h->str, "pre-sync") != 0 &&
	    strcmp(h->str, "post-sync") != 0))
		return conv_fail(c, h, p, "must be pre-sync or post-sync");
	if (json_get(json_get(spec, "Mode"), "ReplicatedJob") == NULL)
		return conv_fail(c, h, p, "a hook runs as a job: give the "
		    "service deploy.mode: replicated-job");
	if (c->out->hooks == NULL)
		c->out->hooks = cJSON_CreateObject();
	cJSON_AddStringToObject(c->out->hooks, full, h->str);
	return 0;
}

int
compose_convert_service(struct conv *c, const char *name,
    const struct ynode *svc, cJSON **out)
{
	cJSON *spec = cJSON_CreateObject(), *tt, *cs;
	const struct ynode *img;
	char full[256], p[CONV_PATH_MAX], image[COMPOSE_IMAGE_MAX];
	int rc;

	*out = NULL;
	conv_path(p, "services.%s", name);
	if ((rc = conv_map(c, svc, p)) < 0 ||
	    (rc = check_keys(c, name, svc)) < 0)
		goto fail;
	img = ynode_get(svc, "image");
	if (img == NULL || ynode_is_null(img) || img->kind != YNODE_SCALAR ||
	    *img->str == '\0') {
		rc = conv_fail(c, img ? img : svc, p, "no image (docker stack "
		    "deploy does not build images; build and push it first)");
		goto fail;
	}
	/* The CLI refuses the whole stack for one bad reference. */
	if (compose_image_normalize(img->str, image, sizeof(image)) < 0 &&
	    !compose_image_is_id(img->str)) {
		rc = conv_fail(c, img, conv_path(p, "services.%s.image", name),
		    "invalid image reference \"%s\" (docker stack deploy "
		    "refuses it too)", img->str);
		goto fail;
	}
	conv_scope(c, name, full, sizeof(full));
	cJSON_AddStringToObject(spec, "Name", full);
	if ((rc = labels(c, ynode_get(ynode_get(svc, "deploy"), "labels"),
	    conv_path(p, "services.%s.deploy.labels", name), spec,
	    img->str)) < 0)
		goto fail;
	conv_path(p, "services.%s", name);
	tt = cJSON_AddObjectToObject(spec, "TaskTemplate");
	cs = cJSON_AddObjectToObject(tt, "ContainerSpec");
	cJSON_AddStringToObject(cs, "Image", image);
	if ((rc = container(c, name, svc, p, cs)) < 0 ||
	    (rc = privileges(c, svc, p, cs)) < 0 ||
	    (rc = logging(c, ynode_get(svc, "logging"), conv_path(p,
	    "services.%s.logging", name), tt)) < 0 ||
	    (rc = conv_deploy(c, svc, conv_path(p, "services.%s", name), spec,
	    tt)) < 0 ||
	    (rc = service_refs(c, name, svc, p, spec, tt, cs)) < 0 ||
	    (rc = hook(c, name, svc, full, spec)) < 0)
		goto fail;
	cJSON_AddNumberToObject(tt, "ForceUpdate", 0);
	*out = spec;
	return 0;
fail:
	cJSON_Delete(spec);
	return rc;
}
