/*
 * compose.h - stack files: YAML, variables, conversion to Engine API specs.
 *
 * The pipeline is compose_yaml_load (YAML -> ynode tree, anchors and merge
 * keys resolved) -> compose_interpolate_tree (variables) -> compose_convert
 * (ynode -> the networks, secrets, configs and services `docker stack
 * deploy` would create).  Every error names the file, line, column and the
 * key path.
 */
#ifndef STACKD_COMPOSE_H
#define STACKD_COMPOSE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "err.h"

struct sops_keys;

/* How the files of a stack that are SOPS files are read: the identities
 * (sops.h; NULL: none, and such a file is an error), and where to list
 * the files that were decrypted (NULL: nowhere; validate lists them). */
struct compose_sops {
	const struct sops_keys *keys;
	cJSON *decrypted;
};

/* Limits on untrusted input. */
#define COMPOSE_FILE_MAX (8u * 1024 * 1024)	/* bytes in one file */
#define COMPOSE_NODES_MAX 200000		/* nodes after alias expansion */
#define COMPOSE_DEPTH_MAX 64			/* nesting */

enum ynode_kind {
	YNODE_SCALAR,
	YNODE_MAP,
	YNODE_SEQ,
};

/*
 * A YAML node.  A map holds key/value pairs (keys are scalars); a sequence
 * holds items.  Aliases are expanded into copies, so the tree is a tree:
 * every node is owned by its parent and ynode_free frees the whole of it.
 */
struct ynode {
	enum ynode_kind kind;
	int line;		/* 1-based position in file */
	int col;
	const char *file;	/* borrowed: the name errors use */
	/* scalars */
	char *str;		/* the value, NUL-terminated ("" for maps
				 * and sequences, never NULL) */
	bool quoted;		/* quoted or block scalar: always a string */
	bool null;		/* plain null, ~ or empty */
	bool interpolated;	/* interpolation changed the value */
	/* maps and sequences */
	size_t n;
	struct ynode **keys;	/* maps only */
	struct ynode **vals;	/* map values or sequence items */
};

/* The error of every module that reads YAML: "path: msg (file:line:col)",
 * without the position when n is NULL.  Returns ERR_INVALID. */
int ynode_verror(struct err *e, const struct ynode *n, const char *path,
    const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

/*
 * Parse text (len bytes) named file into *out; the top level must be a
 * mapping.  The caller frees *out with ynode_free.
 */
int compose_yaml_parse(struct ynode **out, const char *file,
    const char *text, size_t len, struct err *err);
/* Read and parse a file (at most COMPOSE_FILE_MAX bytes), decrypted when
 * it is a SOPS file (keys NULL: that is an error). */
int compose_yaml_load(struct ynode **out, const char *path,
    const struct compose_sops *sops, struct err *err);

/*
 * A file a stack reads (stack files, vars files, .env, env_file, the file
 * of a secret or a config), whole.  A SOPS file (its format's marker, see
 * sops.h) is decrypted in memory: data holds the plaintext, sops is set,
 * and name_key keys the hash of its content.  Release wipes it.
 */
struct compose_file {
	struct buf data;
	bool sops;
	unsigned char name_key[32];
};
int compose_file_read(struct compose_file *f, const char *path, size_t max,
    const struct compose_sops *sops, struct err *err);
void compose_file_release(struct compose_file *f);
void ynode_free(struct ynode *n);

/* The value of key in map n, or NULL (also when n is not a map). */
struct ynode *ynode_get(const struct ynode *n, const char *key);
/* Plain null or ~ or an empty plain scalar. */
bool ynode_is_null(const struct ynode *n);

/*
 * Variables.  A lookup returns the value of name, or NULL when unset.
 */
typedef const char *(*compose_lookup_fn)(const char *name, void *payload);

/*
 * Two readings of ${...}: what `docker stack deploy` does (the default, so
 * that a stack deploys as it always has), and the compose-spec's (`docker
 * compose`: nesting, :+ and +, a lone $ kept).  docs/compose.md lists
 * where they differ.
 */
enum compose_interp_mode {
	COMPOSE_INTERP_CLI = 0,
	COMPOSE_INTERP_SPEC,
};

struct compose_interp_result {
	char *value;		/* caller frees */
	char **unset;		/* names used without a value or default */
	size_t nunset;
	const char *differs;	/* static: why the other reading gives
				 * another value or an error, or NULL */
	bool cli_refused;	/* the CLI refuses the value: stackd took the
				 * compose-spec reading (or failed) */
};

/*
 * Interpolate one string: ${VAR}, $VAR, ${VAR:-d} ${VAR-d} ${VAR:?m}
 * ${VAR?m}, $$; with COMPOSE_INTERP_SPEC also ${VAR:+r} ${VAR+r} and
 * nesting.  COMPOSE_INTERP_CLI reads as the CLI does, and takes the
 * compose-spec reading only where the CLI refuses the value.  Errors:
 * ERR_INVALID for a malformed ${...} ("Invalid template"), and for a
 * required variable ("required variable X is missing a value: msg").
 * Release the result with compose_interp_result_release.
 */
int compose_interpolate(struct compose_interp_result *out, const char *in,
    enum compose_interp_mode mode, compose_lookup_fn lookup, void *payload,
    struct err *err);
/* "docker-cli" or "compose-spec": 0, else -1. */
int compose_interp_mode_parse(const char *name, enum compose_interp_mode *out);
const char *compose_interp_mode_name(enum compose_interp_mode mode);
void compose_interp_result_release(struct compose_interp_result *r);

/*
 * Variable sources, lowest precedence first: .env beside the first compose
 * file, the process environment (only with env_inherit), each vars file,
 * then each --var.  Later wins.
 */
struct compose_vars;

struct compose_vars *compose_vars_new(bool env_inherit,
    const struct compose_sops *sops);
void compose_vars_free(struct compose_vars *v);
/* KEY=VALUE files (compose's .env syntax: quotes, export, # comments,
 * ${VAR} expansion) into the lowest (dotenv) or highest (vars) layer. */
int compose_vars_load_dotenv(struct compose_vars *v, const char *path,
    bool high, struct err *err);
/* A YAML map of scalars, or failing that a KEY=VALUE file. */
int compose_vars_load_file(struct compose_vars *v, const char *path,
    struct err *err);
/* "KEY=VALUE" from the command line. */
int compose_vars_set(struct compose_vars *v, const char *assignment,
    struct err *err);
/* A compose_lookup_fn; payload is the struct compose_vars. */
const char *compose_vars_lookup(const char *name, void *payload);

/* What interpolating a tree found, besides errors. */
struct compose_interp_report {
	char **unset;		/* names used without a value or default */
	size_t nunset;
	char **notes;		/* values the two readings differ on, each
				 * "path: ... (file:line:col)" */
	size_t nnotes;
};

/*
 * Interpolate every value (never a key) of the tree.  Unset variables
 * without a default become empty and are added to rep->unset (names,
 * once); errors name the key path and position.
 */
int compose_interpolate_tree(struct ynode *root, enum compose_interp_mode mode,
    compose_lookup_fn lookup, void *payload, struct compose_interp_report *rep,
    struct err *err);
void compose_interp_report_release(struct compose_interp_report *rep);

struct compose_options {
	const char *stack;		/* stack name */
	const char *const *files;	/* compose files, merged in order */
	size_t nfiles;
	const char *const *var_files;
	size_t nvar_files;
	const char *const *vars;	/* "KEY=VALUE" */
	size_t nvars;
	const char *root;	/* file: paths stay inside; NULL = first
				 * file's directory */
	bool env_inherit;	/* let the process environment in */
	bool strict_vars;	/* unset variables are errors */
	enum compose_interp_mode interp;	/* stack files' ${...} */
	struct compose_sops sops;
};

/* A secret or config from a SOPS file carries, besides its spec, the
 * keyed hash of its plaintext under this name (sops_keyed_hash): the
 * planner hashes it in place of the data, and never sends it. */
#define COMPOSE_KEYED_HASH "x-stackd-keyed-hash"

/* What a stack file asks for, as Engine API request bodies. */
struct compose_stack {
	char *name;
	cJSON *networks;	/* NetworkCreate bodies to create */
	cJSON *external_networks; /* names that must already exist */
	cJSON *secrets;		/* SecretSpec (Data base64) */
	cJSON *configs;		/* ConfigSpec */
	cJSON *services;	/* ServiceSpec; Secrets/Configs carry names,
				 * the IDs are filled in at apply time */
	char **warnings;
	size_t nwarnings;
	/* x-stackd.depends_on: names of stacks, or NULL. */
	cJSON *depends_on;
	/* x-stackd-hook per service: {"stack_svc": "pre-sync" or
	 * "post-sync"}, or NULL when the stack has no hook. */
	cJSON *hooks;
	/* This load among all of the process's loads, never 0: what the
	 * reconciler's verified memory keys a desired spec on (a stack
	 * built by hand has 0, and is never remembered). */
	uint64_t serial;
};

/* A service's x-stackd-hook ("pre-sync", "post-sync"), or NULL: a
 * service run as a job around a sync, never part of the steady state. */
const char *compose_stack_hook(const struct compose_stack *s,
    const char *service);

/* Load, interpolate and convert a stack.  Free with compose_stack_free. */
int compose_stack_load(struct compose_stack **out,
    const struct compose_options *opts, struct err *err);
void compose_stack_free(struct compose_stack *s);

/*
 * Image references as the docker CLI parses them (ParseNormalizedNamed):
 * "nginx" is docker.io, library/nginx, no tag.
 */
#define COMPOSE_IMAGE_MAX 1024	/* the longest familiar form, with NUL */
struct compose_image_ref {
	char domain[256];	/* "docker.io" when the reference names none;
				 * "" for a first component that is no host */
	char path[256];		/* "library/nginx" */
	char tag[129];		/* "" when none */
	char digest[136];	/* "sha256:...", "" when none */
};

/* 0, or -1 when s is no reference the CLI accepts (an image ID, uppercase
 * in the repository, a bad tag or digest). */
int compose_image_ref_parse(struct compose_image_ref *r, const char *s);
/* FamiliarString(TagNameOnly(r)): "nginx:latest", "prom/prometheus:v3",
 * "127.0.0.1:5000/app:1@sha256:..." */
void compose_image_ref_familiar(const struct compose_image_ref *r, char *out,
    size_t len);
/* What `docker stack deploy` writes for image: its familiar form with a
 * tag; 0, or -1 with image copied as it is when it is no reference. */
int compose_image_normalize(const char *image, char *out, size_t len);
/* An image ID (64 hex) or a bare digest: no name, yet the CLI takes it. */
bool compose_image_is_id(const char *image);

/* Docker's stack name rules: [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 50. */
int compose_stack_name_check(const char *name, struct err *err);

#endif
