/*
 * compose_int.h - what the compose/ files share and nobody else sees.
 */
#ifndef STACKD_COMPOSE_INT_H
#define STACKD_COMPOSE_INT_H

#include <stdint.h>

#include "compose.h"

/* Conversion context: where we are, for messages that say it. */
struct conv {
	const char *stack;
	const char *dir;	/* directory of the first compose file */
	const char *root;	/* file: paths must stay inside this */
	const struct ynode *top;
	struct compose_stack *out;
	struct err *err;
	/* The stack's variables: what `docker stack deploy` takes from its
	 * environment (bare environment keys) stackd takes from here. */
	compose_lookup_fn lookup;
	void *payload;
	cJSON *used_networks;	/* keys of networks services attach to */
	const struct compose_sops *sops;	/* for SOPS files */
};

/* Key paths ("services.web.deploy") are built into buffers of this size;
 * conv_path formats one (truncating a runaway path, never overflowing). */
#define CONV_PATH_MAX 512
const char *conv_path(char *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Fail with "path: message (file:line:col)".  Returns ERR_INVALID. */
int conv_fail(struct conv *c, const struct ynode *n, const char *path,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void conv_warn(struct conv *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Typed readers.  Each fails with the path and position on a wrong type. */
int conv_str(struct conv *c, const struct ynode *n, const char *path,
    const char **out);
int conv_int(struct conv *c, const struct ynode *n, const char *path,
    int64_t *out);
int conv_bool(struct conv *c, const struct ynode *n, const char *path,
    bool *out);
int conv_float(struct conv *c, const struct ynode *n, const char *path,
    double *out);
/* Go time.ParseDuration syntax ("1m30s"), in nanoseconds. */
int conv_duration(struct conv *c, const struct ynode *n, const char *path,
    int64_t *out);
/* docker's RAMInBytes ("64M", "1.5g", 1024). */
int conv_bytes(struct conv *c, const struct ynode *n, const char *path,
    int64_t *out);
/* "0.5" -> 500000000 nano CPUs, exactly (no binary floating point). */
int conv_nanocpus(struct conv *c, const struct ynode *n, const char *path,
    int64_t *out);
/* A list of strings (a single string is a list of one when allowed). */
int conv_strlist(struct conv *c, const struct ynode *n, const char *path,
    bool single_ok, cJSON **out);
/* A map of strings, from a map or from a list of "k=v" (sep '='). */
int conv_strmap(struct conv *c, const struct ynode *n, const char *path,
    cJSON **out);
/* Require a map (or null), for blocks like deploy: */
int conv_map(struct conv *c, const struct ynode *n, const char *path);
/* Keys of map n must be in allowed (NULL-terminated) or x-*. */
int conv_keys(struct conv *c, const struct ynode *n, const char *path,
    const char *const *allowed);

/* qsort's comparison for an array of strings (char *). */
int conv_str_cmp(const void *a, const void *b);
/* Stable sort of a cJSON array by cmp. */
void conv_sort(cJSON *a, int (*cmp)(const cJSON *, const cJSON *));
/* Go's sort.Slice on a cJSON array, the same swaps in the same order (not
 * stable beyond 12 items), for lists the CLI sorts so (gosort.c). */
void conv_go_sort(cJSON *a, bool (*less)(const cJSON *, const cJSON *));

/* Shell-word split like the docker CLI (google/shlex).  *out is an array. */
int compose_shlex(const char *s, cJSON **out);

/* Interpolation: the largest value and its error, the CLI's reading
 * (interp_cli.c), the characters of a variable name (ASCII letters,
 * digits, '_'), and adding the len bytes at s to a list of strings once. */
#define INTERP_VALUE_MAX (1024u * 1024)
int interp_too_large(struct err *err);
int interp_cli(struct compose_interp_result *r, const char *in,
    compose_lookup_fn lookup, void *payload, struct err *err);
bool interp_name_start(char c);
bool interp_name_char(char c);
void interp_list_add(char ***list, size_t *n, const char *s, size_t len);
/* fn's value for the len bytes at name (NULL for a name over 255). */
const char *interp_lookup(compose_lookup_fn fn, void *payload,
    const char *name, size_t len);

/* The file's version as the CLI reads it ("3.13" when none), and the keys
 * that version allows; first: the first file's version, or NULL. */
void conv_schema_version(const struct ynode *top, char *out, size_t len);
int conv_schema_check(struct conv *c, const struct ynode *top,
    const char *first);

int compose_convert_service(struct conv *c, const char *name,
    const struct ynode *svc, cJSON **out);

/* Add obj.field from parent.key when present (and not null), typed;
 * add_bool with only_true adds nothing for false. */
int conv_add_duration(struct conv *c, cJSON *obj, const char *field,
    const struct ynode *parent, const char *key, const char *path);
int conv_add_int(struct conv *c, cJSON *obj, const char *field,
    const struct ynode *parent, const char *key, const char *path);
int conv_add_str(struct conv *c, cJSON *obj, const char *field,
    const struct ynode *parent, const char *key, const char *path);
int conv_add_bool(struct conv *c, cJSON *obj, const char *field,
    const struct ynode *parent, const char *key, const char *path,
    bool only_true);

/* Merge the file next into top as the CLI merges files (merge.c); what
 * it takes from next is moved out of it. */
int conv_merge(struct conv *c, struct ynode *top, struct ynode *next);
/* The keyed lists of a merge (keyed.c), into *d; src (NULL: none) is
 * emptied: volumes by target (target) or secrets/configs by source, and
 * ports by published port. */
void conv_merge_by_field(struct ynode **d, struct ynode *src, bool target);
int conv_merge_by_published(struct conv *c, struct ynode **d,
    const struct ynode *src, const char *path);
/* A node made by hand, at at's position ("" for a map or a sequence; a
 * scalar is a quoted string); an item (key NULL) or pair added to a
 * sequence or map, which takes both. */
struct ynode *ynode_new(enum ynode_kind kind, const struct ynode *at,
    const char *str);
void ynode_add(struct ynode *to, struct ynode *key, struct ynode *val);

/* A service's environment as the CLI resolves it for each file: env_file,
 * then environment, a null or empty value taking the variable's value
 * (JSON null: a bare key).  *out is an object, the caller's. */
int conv_env_resolve(struct conv *c, const char *name,
    const struct ynode *svc, cJSON **out);

/* ContainerSpec.Env of service svc, sorted (environment.c). */
int conv_env_convert(struct conv *c, const char *name,
    const struct ynode *svc, cJSON *cs);

/* extra_hosts n at path into ContainerSpec.Hosts (hosts.c). */
int conv_extra_hosts(struct conv *c, const struct ynode *n, const char *path,
    cJSON *cs);

/* cap_add and cap_drop of service svc at path (caps.c). */
int conv_capabilities(struct conv *c, const struct ynode *svc,
    const char *path, cJSON *cs);

/* The deploy: block of service svc at path (deploy.c). */
int conv_deploy(struct conv *c, const struct ynode *svc, const char *path,
    cJSON *spec, cJSON *tt);

/* Parts of a service spec (refs.c). */
int conv_ports(struct conv *c, const struct ynode *ports, const char *path,
    cJSON **out);
/* The same in the loader's order, before the CLI sorts them. */
int conv_ports_loaded(struct conv *c, const struct ynode *ports,
    const char *path, cJSON **out);
int conv_networks(struct conv *c, const char *svc, const struct ynode *nets,
    const char *path, cJSON **out);
int conv_file_refs(struct conv *c, bool secrets, const struct ynode *refs,
    const char *path, cJSON **out);
int conv_mounts(struct conv *c, const struct ynode *vols, const char *path,
    cJSON **out);

/* The top-level definition section.key (networks, secrets, ...), or NULL. */
const struct ynode *conv_toplevel(const struct conv *c, const char *section,
    const char *key);
/* The swarm name of a top-level object, and whether it is external. */
int conv_object_name(struct conv *c, const char *section, const char *key,
    char *out, size_t outlen, bool *external);
/* Not host, bridge, none, default or container:X: those exist on every
 * node, take no aliases and are never looked up. */
bool conv_network_user_defined(const char *target);
/* Mark a network as used by a service (it will be created). */
void conv_network_use(struct conv *c, const char *key);
/* Resolve a path from the stack file against its directory; refuse paths
 * that leave the source root.  out is PATH_MAX. */
int conv_source_path(struct conv *c, const struct ynode *n, const char *path,
    const char *file, char *out);

/* Swarm names: "<stack>_<key>" or the name: override. */
void conv_scope(const struct conv *c, const char *key, char *out,
    size_t outlen);
/* Add com.docker.stack.namespace=<stack> to a labels object. */
void conv_stack_label(const struct conv *c, cJSON *labels);

#endif
