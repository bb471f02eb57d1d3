/*
 * mounts.c - service volumes into ContainerSpec.Mounts, as docker/cli's
 * loader (ParseVolume) and convert/volume.go do it.
 *
 * Short syntax "src:dst[:opts]": a source starting with '.', '/' or '~' is
 * a bind mount (made absolute against the stack file's directory), any
 * other source a named volume that must be declared at the top level, and
 * a lone target an anonymous volume.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "compose_int.h"

struct vol {
	const char *type;
	char source[PATH_MAX];
	const char *target;
	char target_buf[PATH_MAX];	/* the short form's target */
	bool read_only;
	bool nocopy;
	const char *propagation;
	const char *consistency;
	int64_t tmpfs_size;	/* -1: none */
	const struct ynode *node;
};

static const char *const propagations[] = { "rprivate", "private",
    "rshared", "shared", "rslave", "slave", NULL };

static bool
is_propagation(const char *opt)
{
	for (int i = 0; propagations[i] != NULL; i++)
		if (strcmp(opt, propagations[i]) == 0)
			return true;
	return false;
}

static bool
is_path(const char *s)
{
	return s[0] == '.' || s[0] == '/' || s[0] == '~';
}

/* filepath.Clean for an absolute path: "/a/./b/../c/" -> "/a/c". */
static void
clean_path(char *path)
{
	char *parts[PATH_MAX / 2], *save = NULL, *t, copy[PATH_MAX];
	size_t n = 0, len = 0;

	snprintf(copy, sizeof(copy), "%s", path);
	for (t = strtok_r(copy, "/", &save); t != NULL;
	    t = strtok_r(NULL, "/", &save)) {
		if (strcmp(t, ".") == 0)
			continue;
		if (strcmp(t, "..") == 0) {
			if (n > 0)
				n--;
			continue;
		}
		parts[n++] = t;
	}
	path[0] = '\0';
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(path + len, PATH_MAX - len, "/%s",
		    parts[i]);
	if (n == 0)
		snprintf(path, PATH_MAX, "/");
}

static int
bind_source(struct conv *c, const struct ynode *n, const char *path,
    const char *src, char *out)
{
	const char *home = getenv("HOME");
	int len;

	/* Bind sources are paths on the node running the task, not files in
	 * the source: they resolve like the CLI's, but are not confined. */
	if (src[0] == '~' && (src[1] == '/' || src[1] == '\0'))
		len = snprintf(out, PATH_MAX, "%s%s", home ? home : "",
		    src + 1);
	else if (src[0] == '/')
		len = snprintf(out, PATH_MAX, "%s", src);
	else
		len = snprintf(out, PATH_MAX, "%s/%s", c->dir, src);
	if (len < 0 || len >= PATH_MAX)
		return conv_fail(c, n, path, "bind source too long");
	/* The CLI keeps absolute paths (also after ~) as written and cleans
	 * only the ones it joins (filepath.Abs). */
	if (src[0] != '.')
		return 0;
	clean_path(out);
	return 0;
}

static int
parse_short(struct conv *c, const struct ynode *n, const char *path,
    struct vol *v)
{
	char buf[PATH_MAX * 2], *parts[3], *save = NULL, *opt;
	int nparts = 0;

	if (snprintf(buf, sizeof(buf), "%s", n->str) >= (int)sizeof(buf))
		return conv_fail(c, n, path, "volume too long");
	for (char *t = buf, *colon; nparts < 3; t = colon + 1) {
		parts[nparts++] = t;
		if ((colon = strchr(t, ':')) == NULL)
			break;
		*colon = '\0';
	}
	if (nparts == 3 && strchr(parts[2], ':') != NULL)
		return conv_fail(c, n, path, "invalid volume \"%s\"", n->str);
	v->target = NULL;
	if (nparts == 1) {
		v->type = "volume";
		v->target = n->str;
		return 0;
	}
	snprintf(v->target_buf, sizeof(v->target_buf), "%s", parts[1]);
	v->target = v->target_buf;
	if (nparts == 3)
		for (opt = strtok_r(parts[2], ",", &save); opt != NULL;
		    opt = strtok_r(NULL, ",", &save)) {
			if (strcmp(opt, "ro") == 0)
				v->read_only = true;
			else if (strcmp(opt, "rw") == 0)
				v->read_only = false;
			else if (strcmp(opt, "nocopy") == 0)
				v->nocopy = true;
			else if (is_propagation(opt)) {
				for (int i = 0; propagations[i]; i++)
					if (strcmp(opt, propagations[i]) == 0)
						v->propagation = propagations[i];
			}
			/* z, Z and unknown options: ignored, as the CLI does */
		}
	if (is_path(parts[0])) {
		v->type = "bind";
		return bind_source(c, n, path, parts[0], v->source);
	}
	v->type = "volume";
	snprintf(v->source, sizeof(v->source), "%s", parts[0]);
	return 0;
}

static int
parse_long(struct conv *c, const struct ynode *n, const char *path,
    struct vol *v)
{
	static const char *const keys[] = { "type", "source", "target",
	    "read_only", "consistency", "bind", "volume", "tmpfs", NULL };
	const struct ynode *x;
	const char *s;
	char p[CONV_PATH_MAX];
	int rc;

	if ((rc = conv_keys(c, n, path, keys)) < 0)
		return rc;
	if ((x = ynode_get(n, "type")) == NULL)
		return conv_fail(c, n, conv_path(p, "%s.type", path),
		    "required");
	if ((rc = conv_str(c, x, path, &v->type)) < 0)
		return rc;
	if ((x = ynode_get(n, "target")) != NULL &&
	    (rc = conv_str(c, x, path, &v->target)) < 0)
		return rc;
	if ((x = ynode_get(n, "source")) != NULL && !ynode_is_null(x)) {
		if ((rc = conv_str(c, x, path, &s)) < 0)
			return rc;
		if (strcmp(v->type, "bind") == 0)
			rc = bind_source(c, x, path, s, v->source);
		else
			snprintf(v->source, sizeof(v->source), "%s", s);
		if (rc < 0)
			return rc;
	}
	if ((x = ynode_get(n, "read_only")) != NULL &&
	    (rc = conv_bool(c, x, conv_path(p, "%s.read_only", path),
	    &v->read_only)) < 0)
		return rc;
	if ((x = ynode_get(n, "consistency")) != NULL &&
	    (rc = conv_str(c, x, path, &v->consistency)) < 0)
		return rc;
	if ((x = ynode_get(ynode_get(n, "bind"), "propagation")) != NULL &&
	    (rc = conv_str(c, x, path, &v->propagation)) < 0)
		return rc;
	if ((x = ynode_get(ynode_get(n, "volume"), "nocopy")) != NULL &&
	    (rc = conv_bool(c, x, conv_path(p, "%s.volume.nocopy", path),
	    &v->nocopy)) < 0)
		return rc;
	/* The CLI's schema takes bytes as an integer here, not "64M". */
	if ((x = ynode_get(ynode_get(n, "tmpfs"), "size")) != NULL &&
	    (rc = conv_int(c, x, conv_path(p, "%s.tmpfs.size", path),
	    &v->tmpfs_size)) < 0)
		return rc;
	return 0;
}

static int
volume_options(struct conv *c, const struct vol *v, const char *path,
    cJSON *m)
{
	const struct ynode *def, *x;
	cJSON *opts, *labels = NULL, *dopts = NULL, *drv;
	char name[256], p[CONV_PATH_MAX];
	const char *driver = NULL;
	bool external;
	int rc;

	if (v->source[0] == '\0')
		return 0;	/* anonymous */
	if ((def = conv_toplevel(c, "volumes", v->source)) == NULL)
		return conv_fail(c, v->node, path, "undefined volume \"%s\"",
		    v->source);
	if ((rc = conv_object_name(c, "volumes", v->source, name,
	    sizeof(name), &external)) < 0)
		return rc;
	cJSON_ReplaceItemInObject(m, "Source", cJSON_CreateString(name));
	opts = cJSON_AddObjectToObject(m, "VolumeOptions");
	if (v->nocopy)
		cJSON_AddTrueToObject(opts, "NoCopy");
	if (external)
		return 0;
	labels = cJSON_CreateObject();
	if ((x = ynode_get(def, "labels")) != NULL) {
		cJSON_Delete(labels);
		if ((rc = conv_strmap(c, x, conv_path(p, "volumes.%s.labels",
		    v->source), &labels)) < 0)
			return rc;
	}
	conv_stack_label(c, labels);
	cJSON_AddItemToObject(opts, "Labels", labels);
	if ((x = ynode_get(def, "driver")) != NULL &&
	    (rc = conv_str(c, x, "driver", &driver)) < 0)
		return rc;
	if ((x = ynode_get(def, "driver_opts")) != NULL &&
	    (rc = conv_strmap(c, x, conv_path(p, "volumes.%s.driver_opts",
	    v->source), &dopts)) < 0)
		return rc;
	if (driver != NULL || dopts != NULL) {
		drv = cJSON_AddObjectToObject(opts, "DriverConfig");
		if (driver != NULL)
			cJSON_AddStringToObject(drv, "Name", driver);
		if (dopts != NULL)
			cJSON_AddItemToObject(drv, "Options", dopts);
	}
	return 0;
}

static int
to_mount(struct conv *c, struct vol *v, const char *path, cJSON *list)
{
	cJSON *m = cJSON_CreateObject(), *o;
	int rc = 0;

	cJSON_AddItemToArray(list, m);
	if (v->target == NULL || *v->target == '\0')
		return conv_fail(c, v->node, path, "a volume needs a target");
	cJSON_AddStringToObject(m, "Type", v->type);
	if (v->source[0] != '\0')
		cJSON_AddStringToObject(m, "Source", v->source);
	cJSON_AddStringToObject(m, "Target", v->target);
	if (v->read_only)
		cJSON_AddTrueToObject(m, "ReadOnly");
	if (v->consistency != NULL)
		cJSON_AddStringToObject(m, "Consistency", v->consistency);
	if (strcmp(v->type, "volume") == 0) {
		if (v->propagation != NULL || v->tmpfs_size >= 0)
			return conv_fail(c, v->node, path, "bind and tmpfs "
			    "options are incompatible with type volume");
		if (v->source[0] == '\0' && v->nocopy) {
			o = cJSON_AddObjectToObject(m, "VolumeOptions");
			cJSON_AddTrueToObject(o, "NoCopy");
		}
		rc = volume_options(c, v, path, m);
	} else if (strcmp(v->type, "bind") == 0) {
		if (v->source[0] == '\0')
			return conv_fail(c, v->node, path, "invalid bind "
			    "source, source cannot be empty");
		if (v->nocopy || v->tmpfs_size >= 0)
			return conv_fail(c, v->node, path, "volume and tmpfs "
			    "options are incompatible with type bind");
		if (v->propagation != NULL) {
			o = cJSON_AddObjectToObject(m, "BindOptions");
			cJSON_AddStringToObject(o, "Propagation",
			    v->propagation);
		}
	} else if (strcmp(v->type, "tmpfs") == 0) {
		if (v->source[0] != '\0')
			return conv_fail(c, v->node, path, "invalid tmpfs "
			    "source, source must be empty");
		if (v->tmpfs_size >= 0) {
			o = cJSON_AddObjectToObject(m, "TmpfsOptions");
			cJSON_AddNumberToObject(o, "SizeBytes",
			    (double)v->tmpfs_size);
		}
	} else if (strcmp(v->type, "npipe") != 0)
		return conv_fail(c, v->node, path, "volume type \"%s\" is not "
		    "supported", v->type);
	return rc;
}

int
conv_mounts(struct conv *c, const struct ynode *vols, const char *path,
    cJSON **out)
{
	cJSON *list = cJSON_CreateArray();
	char p[CONV_PATH_MAX];
	struct vol *v = xcalloc(1, sizeof(*v));
	int rc = 0;

	*out = NULL;
	if (vols->kind != YNODE_SEQ && !ynode_is_null(vols))
		rc = conv_fail(c, vols, path, "expected a list of volumes");
	for (size_t i = 0; rc == 0 && vols->kind == YNODE_SEQ && i < vols->n;
	    i++) {
		memset(v, 0, sizeof(*v));
		v->tmpfs_size = -1;
		v->node = vols->vals[i];
		conv_path(p, "%s[%zu]", path, i);
		if (v->node->kind == YNODE_SCALAR)
			rc = parse_short(c, v->node, p, v);
		else if (v->node->kind == YNODE_MAP)
			rc = parse_long(c, v->node, p, v);
		else
			rc = conv_fail(c, v->node, p, "expected a volume");
		if (rc == 0)
			rc = to_mount(c, v, p, list);
	}
	free(v);
	if (rc < 0) {
		cJSON_Delete(list);
		return rc;
	}
	*out = list;
	return 0;
}
