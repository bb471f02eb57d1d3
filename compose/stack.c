/*
 * stack.c - a whole stack: variables, files merged, top-level objects
 * (networks, secrets, configs), and every service.
 */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "alloc.h"
#include "buf.h"
#include "compose_int.h"
#include "sops.h"

#define SECRET_MAX 512000	/* swarmkit: secrets < 500 KiB */
#define CONFIG_MAX 1024000	/* swarmkit: configs < 1000 KiB */

/* --- top-level objects ----------------------------------------------- */

/*
 * Swarm's name rules (swarmkit controlapi): services and networks are DNS
 * labels, [a-zA-Z0-9] runs joined by '-' or '_', at most 63 characters;
 * secrets and configs are [a-zA-Z0-9-_.], starting and ending with a
 * letter or digit, at most 64.  Checked while converting, so that a stack
 * with a bad name fails before anything is written, not halfway through.
 */
static int
check_swarm_name(struct conv *c, const struct ynode *n, const char *path,
    const char *kind, const char *name)
{
	bool dns = strcmp(kind, "service") == 0 ||
	    strcmp(kind, "network") == 0;
	size_t len = strlen(name), max = dns ? 63 : 64;
	bool ok = len > 0 && isalnum((unsigned char)name[0]) &&
	    isalnum((unsigned char)name[len - 1]);

	for (size_t i = 0; ok && i < len; i++)
		ok = isalnum((unsigned char)name[i]) || name[i] == '-' ||
		    name[i] == '_' || (!dns && name[i] == '.');
	if (!ok)
		return conv_fail(c, n, path, "the %s name \"%s\" is not "
		    "allowed by swarm: %s", kind, name, dns ? "letters and "
		    "digits joined by '-' or '_' (a DNS label; no '.')" :
		    "letters, digits, '-', '_' and '.', starting and ending "
		    "with a letter or digit");
	if (len > max)
		return conv_fail(c, n, path, "the %s name \"%s\" is %zu "
		    "characters; swarm allows at most %zu", kind, name, len,
		    max);
	return 0;
}

static int
network_body(struct conv *c, const char *key, cJSON *networks,
    cJSON *externals)
{
	static const char *const keys[] = { "driver", "driver_opts",
	    "attachable", "internal", "ipam", "labels", "external", "name",
	    "enable_ipv6", NULL };
	const struct ynode *def = conv_toplevel(c, "networks", key), *ipam, *v;
	char name[256], p[CONV_PATH_MAX];
	cJSON *body, *l = NULL, *o;
	bool external;
	int rc;

	conv_path(p, "networks.%s", key);
	if ((rc = conv_map(c, def, p)) < 0 ||
	    (rc = conv_keys(c, def, p, keys)) < 0 ||
	    (rc = conv_object_name(c, "networks", key, name, sizeof(name),
	    &external)) < 0)
		return rc;
	/* The CLI looks up only user-defined external networks: the others
	 * are local-scope networks every node has. */
	if (external) {
		if (conv_network_user_defined(name))
			cJSON_AddItemToArray(externals,
			    cJSON_CreateString(name));
		return 0;
	}
	if ((rc = check_swarm_name(c, def, p, "network", name)) < 0)
		return rc;
	body = cJSON_CreateObject();
	cJSON_AddItemToArray(networks, body);
	cJSON_AddStringToObject(body, "Name", name);
	v = ynode_get(def, "driver");
	cJSON_AddStringToObject(body, "Driver", v && !ynode_is_null(v) ?
	    v->str : "overlay");
	if ((v = ynode_get(def, "driver_opts")) != NULL) {
		if ((rc = conv_strmap(c, v, conv_path(p,
		    "networks.%s.driver_opts", key), &o)) < 0)
			return rc;
		cJSON_AddItemToObject(body, "Options", o);
	}
	if ((v = ynode_get(def, "labels")) != NULL && (rc = conv_strmap(c, v,
	    conv_path(p, "networks.%s.labels", key), &l)) < 0)
		return rc;
	if (l == NULL)
		l = cJSON_CreateObject();
	conv_stack_label(c, l);
	cJSON_AddItemToObject(body, "Labels", l);
	for (int i = 0; i < 2; i++) {
		const char *k = i ? "attachable" : "internal";
		bool b;
		if ((v = ynode_get(def, k)) == NULL || ynode_is_null(v))
			continue;
		if ((rc = conv_bool(c, v, conv_path(p, "networks.%s.%s", key,
		    k), &b)) < 0)
			return rc;
		cJSON_AddBoolToObject(body, i ? "Attachable" : "Internal", b);
	}
	if ((ipam = ynode_get(def, "ipam")) != NULL && !ynode_is_null(ipam)) {
		const struct ynode *drv = ynode_get(ipam, "driver");
		const struct ynode *cfg = ynode_get(ipam, "config");
		if ((drv && !ynode_is_null(drv)) || (cfg && cfg->n > 0)) {
			o = cJSON_AddObjectToObject(body, "IPAM");
			if (drv && !ynode_is_null(drv))
				cJSON_AddStringToObject(o, "Driver", drv->str);
			cJSON *list = cJSON_AddArrayToObject(o, "Config");
			for (size_t i = 0; cfg && cfg->kind == YNODE_SEQ &&
			    i < cfg->n; i++) {
				cJSON *sub = cJSON_CreateObject();
				const struct ynode *s = ynode_get(cfg->vals[i],
				    "subnet");
				cJSON_AddItemToArray(list, sub);
				if (s != NULL && !ynode_is_null(s))
					cJSON_AddStringToObject(sub, "Subnet",
					    s->str);
			}
		}
	}
	return 0;
}

/* A SOPS file's secret: its content hash keyed by the identity, so that
 * the object's name and labels cannot be tested against guesses of a
 * weak secret; the planner hashes this instead of the data. */
static void
keyed_digest(cJSON *body, const struct compose_file *f)
{
	char hex[65];

	sops_keyed_hash(f->name_key, f->data.data, f->data.len, hex);
	cJSON_AddStringToObject(body, COMPOSE_KEYED_HASH, hex);
}

static int
base64_file(struct conv *c, const struct ynode *n, const char *path,
    const char *file, size_t max, cJSON *body)
{
	char real[PATH_MAX];
	struct compose_file f;
	struct err ferr;
	unsigned char *b64 = NULL;
	int rc;

	if ((rc = conv_source_path(c, n, path, file, real)) < 0)
		return rc;
	/* swarmkit wants strictly less than max bytes */
	if (compose_file_read(&f, real, max - 1, c->sops, &ferr) < 0) {
		compose_file_release(&f);
		if (ferr.code == ERR_NOMEM)
			return conv_fail(c, n, path, "%s is larger than the "
			    "engine allows (%zu bytes)", file, max - 1);
		return conv_fail(c, n, path, "cannot read %s (%s)", file,
		    ferr.msg);
	}
	if (f.data.len == 0) {
		compose_file_release(&f);
		return conv_fail(c, n, path, "%s is empty; the engine refuses "
		    "empty secrets and configs", file);
	}
	b64 = xmalloc((f.data.len + 2) / 3 * 4 + 1);
	EVP_EncodeBlock(b64, (unsigned char *)f.data.data, (int)f.data.len);
	cJSON_AddStringToObject(body, "Data", (char *)b64);
	if (f.sops)
		keyed_digest(body, &f);
	OPENSSL_cleanse(b64, strlen((char *)b64));
	free(b64);
	compose_file_release(&f);
	return 0;
}

static int
file_object(struct conv *c, bool secret, const char *key, cJSON *list)
{
	static const char *const skeys[] = { "file", "external", "name",
	    "labels", "driver", "driver_opts", "template_driver",
	    "environment", NULL };
	const char *section = secret ? "secrets" : "configs";
	const struct ynode *def = conv_toplevel(c, section, key), *v;
	char name[256], p[CONV_PATH_MAX];
	cJSON *body, *l = NULL, *drv;
	bool external;
	int rc;

	conv_path(p, "%s.%s", section, key);
	if ((rc = conv_map(c, def, p)) < 0 ||
	    (rc = conv_keys(c, def, p, skeys)) < 0 ||
	    (rc = conv_object_name(c, section, key, name, sizeof(name),
	    &external)) < 0)
		return rc;
	if (external)
		return 0;
	if ((rc = check_swarm_name(c, def, p, secret ? "secret" : "config",
	    name)) < 0)
		return rc;
	body = cJSON_CreateObject();
	cJSON_AddItemToArray(list, body);
	cJSON_AddStringToObject(body, "Name", name);
	if ((v = ynode_get(def, "labels")) != NULL && (rc = conv_strmap(c, v,
	    conv_path(p, "%s.%s.labels", section, key), &l)) < 0)
		return rc;
	if (l == NULL)
		l = cJSON_CreateObject();
	conv_stack_label(c, l);
	cJSON_AddItemToObject(body, "Labels", l);
	if (secret && (v = ynode_get(def, "driver")) != NULL &&
	    !ynode_is_null(v)) {
		drv = cJSON_AddObjectToObject(body, "Driver");
		cJSON_AddStringToObject(drv, "Name", v->str);
		if ((v = ynode_get(def, "driver_opts")) != NULL) {
			cJSON *o;
			if ((rc = conv_strmap(c, v, p, &o)) < 0)
				return rc;
			cJSON_AddItemToObject(drv, "Options", o);
		}
	} else {
		if ((v = ynode_get(def, "file")) == NULL || ynode_is_null(v))
			return conv_fail(c, def, p, "needs file: (docker stack "
			    "deploy supports file-based %s only)", section);
		if (v->kind != YNODE_SCALAR)
			return conv_fail(c, v, conv_path(p, "%s.%s.file",
			    section, key), "must be a path");
		if ((rc = base64_file(c, v, conv_path(p, "%s.%s.file",
		    section, key), v->str, secret ? SECRET_MAX : CONFIG_MAX,
		    body)) < 0)
			return rc;
	}
	if ((v = ynode_get(def, "template_driver")) != NULL &&
	    !ynode_is_null(v)) {
		drv = cJSON_AddObjectToObject(body, "Templating");
		cJSON_AddStringToObject(drv, "Name", v->str);
	}
	return 0;
}

/* x-stackd: stackd's own keys, which docker stack deploy ignores like
 * any x- key: depends_on, the stacks to be synced and healthy first. */
static int
stackd_keys(struct conv *c, const struct ynode *x)
{
	const struct ynode *d;

	if (x == NULL || ynode_is_null(x))
		return 0;
	if (x->kind != YNODE_MAP)
		return conv_fail(c, x, "x-stackd", "must be a mapping");
	for (size_t i = 0; i < x->n; i++)
		if (strcmp(x->keys[i]->str, "depends_on") != 0)
			return conv_fail(c, x->keys[i], "x-stackd", "unknown key "
			    "\"%s\" (stackd knows depends_on)",
			    x->keys[i]->str);
	if ((d = ynode_get(x, "depends_on")) == NULL || ynode_is_null(d))
		return 0;
	if (d->kind != YNODE_SEQ)
		return conv_fail(c, d, "x-stackd.depends_on", "must be a list "
		    "of stack names");
	c->out->depends_on = cJSON_CreateArray();
	for (size_t i = 0; i < d->n; i++) {
		const struct ynode *v = d->vals[i];
		if (v->kind != YNODE_SCALAR || v->str[0] == '\0')
			return conv_fail(c, v, "x-stackd.depends_on", "must be "
			    "a list of stack names");
		if (strcmp(v->str, c->stack) == 0)
			return conv_fail(c, v, "x-stackd.depends_on", "stack "
			    "%s cannot depend on itself", v->str);
		cJSON_AddItemToArray(c->out->depends_on,
		    cJSON_CreateString(v->str));
	}
	return 0;
}

static int
top_keys(struct conv *c, const struct ynode *top)
{
	static const char *const keys[] = { "version", "services", "networks",
	    "volumes", "secrets", "configs", NULL };
	const struct ynode *v = ynode_get(top, "version");
	int rc;

	if ((rc = conv_keys(c, top, "(top level)", keys)) < 0)
		return rc;
	if (v != NULL && (v->kind != YNODE_SCALAR || v->str[0] != '3' ||
	    (v->str[1] != '\0' && v->str[1] != '.')))
		return conv_fail(c, v, "version", "unsupported compose file "
		    "version \"%s\": docker stack deploy takes 3.x",
		    v->kind == YNODE_SCALAR ? v->str : "?");
	if ((rc = stackd_keys(c, ynode_get(top, "x-stackd"))) < 0)
		return rc;
	for (size_t i = 0; i < top->n; i++)
		if (strcmp(top->keys[i]->str, "version") != 0 &&
		    strncmp(top->keys[i]->str, "x-", 2) != 0 &&
		    (rc = conv_map(c, top->vals[i], top->keys[i]->str)) < 0)
			return rc;
	return 0;
}

/* Names of map n's keys, sorted (for a stable order of objects). */
static const char **
sorted_keys(const struct ynode *n, size_t *count)
{
	const char **k;

	*count = n && n->kind == YNODE_MAP ? n->n : 0;
	k = xcalloc(*count + 1, sizeof(*k));
	for (size_t i = 0; i < *count; i++)
		k[i] = n->keys[i]->str;
	qsort(k, *count, sizeof(*k), conv_str_cmp);
	return k;
}

static int
convert_all(struct conv *c)
{
	const struct ynode *top = c->top;
	const char **keys = NULL;
	size_t n;
	cJSON *svc, *it;
	int rc;

	if ((rc = top_keys(c, top)) < 0)
		return rc;
	keys = sorted_keys(ynode_get(top, "services"), &n);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const struct ynode *def = ynode_get(ynode_get(top, "services"),
		    keys[i]);
		char p[CONV_PATH_MAX];

		rc = compose_convert_service(c, keys[i], def, &svc);
		if (rc == 0)
			cJSON_AddItemToArray(c->out->services, svc);
		if (rc == 0)
			rc = check_swarm_name(c, def, conv_path(p,
			    "services.%s", keys[i]), "service",
			    cJSON_GetStringValue(cJSON_GetObjectItem(svc,
			    "Name")));
	}
	free(keys);
	/* Only networks some service uses are created, as by the CLI. */
	cJSON_ArrayForEach(it, c->used_networks)
		if (rc == 0)
			rc = network_body(c, it->valuestring, c->out->networks,
			    c->out->external_networks);
	for (int s = 0; rc == 0 && s < 2; s++) {
		keys = sorted_keys(ynode_get(top, s ? "configs" : "secrets"),
		    &n);
		for (size_t i = 0; rc == 0 && keys && i < n; i++)
			rc = file_object(c, !s, keys[i], s ? c->out->configs :
			    c->out->secrets);
		free(keys);
	}
	return rc;
}

static int
load_vars(struct compose_vars **vars, const struct compose_options *o,
    const char *dir, struct err *err)
{
	char dotenv[PATH_MAX + 8];
	int rc;

	*vars = compose_vars_new(o->env_inherit, &o->sops);
	snprintf(dotenv, sizeof(dotenv), "%s/.env", dir);
	rc = compose_vars_load_dotenv(*vars, dotenv, false, err);
	if (rc == ERR_NOTFOUND)
		rc = 0;
	for (size_t i = 0; rc == 0 && i < o->nvar_files; i++)
		rc = compose_vars_load_file(*vars, o->var_files[i], err);
	for (size_t i = 0; rc == 0 && i < o->nvars; i++)
		rc = compose_vars_set(*vars, o->vars[i], err);
	return rc;
}

static void
free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Unset variables: warnings, or one error naming them all. */
static int
report_unset(struct conv *c, char **names, size_t n, bool strict)
{
	struct buf b;
	int rc;

	if (n == 0)
		return 0;
	if (!strict) {
		for (size_t i = 0; i < n; i++)
			conv_warn(c, "The \"%s\" variable is not set. "
			    "Defaulting to a blank string.", names[i]);
		return 0;
	}
	buf_init(&b, 4096);
	for (size_t i = 0; i < n; i++)
		buf_appendf(&b, "%s%s", i ? ", " : "", names[i]);
	rc = err_set(c->err, ERR_INVALID, "stack %s: variables not set "
	    "(strict variables): %s", c->stack, b.data ? b.data : "");
	buf_free(&b);
	return rc;
}

static int
load_files(struct conv *c, const struct compose_options *o,
    struct compose_vars *vars, struct ynode **top)
{
	struct compose_interp_report rep = { 0 };
	struct ynode *next = NULL;
	char first[64] = "";
	int rc = 0;

	*top = NULL;
	for (size_t i = 0; rc == 0 && i < o->nfiles; i++) {
		if ((rc = compose_yaml_load(&next, o->files[i], &o->sops,
		    c->err)) < 0 ||
		    (rc = compose_interpolate_tree(next, o->interp,
		    compose_vars_lookup, vars, &rep, c->err)) < 0 ||
		    (rc = conv_schema_check(c, next, i ? first : NULL)) < 0)
			break;
		if (i == 0)
			conv_schema_version(next, first, sizeof(first));
		if (*top == NULL)
			*top = next;
		else {
			rc = conv_merge(c, *top, next);
			ynode_free(next);
		}
		next = NULL;
	}
	ynode_free(next);
	for (size_t i = 0; rc == 0 && i < rep.nnotes; i++)
		conv_warn(c, "%s", rep.notes[i]);
	if (rc == 0)
		rc = report_unset(c, rep.unset, rep.nunset, o->strict_vars);
	compose_interp_report_release(&rep);
	return rc;
}

static _Atomic uint64_t serials;

int
compose_stack_load(struct compose_stack **out,
    const struct compose_options *o, struct err *err)
{
	struct compose_stack *s = NULL;
	struct compose_vars *vars = NULL;
	struct ynode *top = NULL;
	struct conv c = { .err = err };
	char dir[PATH_MAX], tmp[PATH_MAX];
	int rc;

	*out = NULL;
	if ((rc = compose_stack_name_check(o->stack, err)) < 0)
		return rc;
	if (o->nfiles == 0)
		return err_set(err, ERR_INVALID, "stack %s: no compose file",
		    o->stack);
	snprintf(tmp, sizeof(tmp), "%s", o->files[0]);
	if (realpath(dirname(tmp), dir) == NULL)
		return err_set(err, ERR_NOTFOUND, "%s: %s", o->files[0],
		    strerror(errno));
	s = xcalloc(1, sizeof(*s));
	s->serial = atomic_fetch_add(&serials, 1) + 1;
	s->name = xstrdup(o->stack);
	s->networks = cJSON_CreateArray();
	s->external_networks = cJSON_CreateArray();
	s->secrets = cJSON_CreateArray();
	s->configs = cJSON_CreateArray();
	s->services = cJSON_CreateArray();
	c.used_networks = cJSON_CreateArray();
	c.stack = o->stack;
	c.sops = &o->sops;
	c.dir = dir;
	c.root = o->root ? o->root : dir;
	c.out = s;
	if ((rc = load_vars(&vars, o, dir, err)) < 0)
		goto out;
	c.lookup = compose_vars_lookup;
	c.payload = vars;
	if ((rc = load_files(&c, o, vars, &top)) < 0)
		goto out;
	c.top = top;
	rc = convert_all(&c);
out:
	cJSON_Delete(c.used_networks);
	ynode_free(top);
	compose_vars_free(vars);
	if (rc < 0) {
		compose_stack_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void
compose_stack_free(struct compose_stack *s)
{
	if (s == NULL)
		return;
	free(s->name);
	cJSON_Delete(s->networks);
	cJSON_Delete(s->external_networks);
	cJSON_Delete(s->secrets);
	cJSON_Delete(s->configs);
	cJSON_Delete(s->services);
	cJSON_Delete(s->depends_on);
	cJSON_Delete(s->hooks);
	free_names(s->warnings, s->nwarnings);
	free(s);
}

const char *
compose_stack_hook(const struct compose_stack *s, const char *service)
{
	const cJSON *h = s != NULL ? cJSON_GetObjectItemCaseSensitive(s->hooks,
	    service) : NULL;

	return cJSON_IsString(h) ? h->valuestring : NULL;
}
