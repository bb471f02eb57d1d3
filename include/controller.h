/*
 * controller.h - the controller room (controller/): the command line (one
 * binary, subcommands), stackd.yaml and the flags over it (struct
 * ctl_config), and the reconcile pass: what one cycle does to one engine,
 * used once by plan/apply and at every cycle by the daemon's workers.
 *
 * Each command takes the arguments after its name (argv[0] is the command)
 * and returns the process exit status.
 */
#ifndef STACKD_CONTROLLER_H
#define STACKD_CONTROLLER_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "compose.h"
#include "engine.h"
#include "images.h"
#include "log.h"
#include "reconciler.h"
#include "sources.h"

struct engine_config;

int controller_cmd_version(int argc, char **argv);
int controller_cmd_ping(int argc, char **argv);
/* `stackd history STACK`: a running daemon's record of its syncs. */
int controller_cmd_history(int argc, char **argv);
int controller_cmd_render(int argc, char **argv);
int controller_cmd_plan(int argc, char **argv);
int controller_cmd_apply(int argc, char **argv);
int controller_cmd_validate(int argc, char **argv);

/* --- options (options.c): each declared once, accepted per command ---- */

enum ctl_opt {
	CTL_OPT_UNKNOWN = -2,	/* getopt printed what is wrong */
	CTL_OPT_CONFIG = 0, CTL_OPT_HOST, CTL_OPT_FILE, CTL_OPT_STACK,
	CTL_OPT_HELP,
	/* the docker CLI's engine options */
	CTL_OPT_TLSVERIFY, CTL_OPT_TLSCACERT, CTL_OPT_TLSCERT, CTL_OPT_TLSKEY,
	CTL_OPT_REGISTRY_AUTH, CTL_OPT_TIMEOUT, CTL_OPT_ENGINE,
	/* a stack and its inputs */
	CTL_OPT_DIR, CTL_OPT_ROOT, CTL_OPT_VARS, CTL_OPT_VAR,
	CTL_OPT_ENV_INHERIT, CTL_OPT_STRICT_VARS, CTL_OPT_INTERPOLATION,
	CTL_OPT_RESOLVE_IMAGE, CTL_OPT_JSON,
	/* what a reconcile may do */
	CTL_OPT_OWNER, CTL_OPT_KEEP_REPLICAS, CTL_OPT_PRUNE_SECRETS,
	CTL_OPT_ALLOW_EMPTY, CTL_OPT_PRUNE_LIMIT,
	/* the daemon */
	CTL_OPT_GIT, CTL_OPT_REF, CTL_OPT_PATH, CTL_OPT_POLL, CTL_OPT_STATE_DIR,
	CTL_OPT_GIT_USERNAME, CTL_OPT_GIT_TOKEN_FILE, CTL_OPT_GIT_SSH_KEY,
	CTL_OPT_GIT_KNOWN_HOSTS, CTL_OPT_GIT_CA_FILE,
	CTL_OPT_WEBHOOK_SECRET_FILE, CTL_OPT_LISTEN, CTL_OPT_INTERVAL,
	CTL_OPT_DEBOUNCE, CTL_OPT_TOKEN_FILE, CTL_OPT_NOTIFY_URL,
	CTL_OPT_IMAGE_POLL, CTL_OPT_REGISTRY_WEBHOOK_SECRET_FILE,
	CTL_OPT_LOG_FORMAT, CTL_OPT_LOG_LEVEL,
	CTL_OPT_SOPS_AGE_KEY_FILE, CTL_OPT_NO_SANDBOX,
	CTL_OPT_COUNT
};

/* getopt_long's tables for one command (a value, on the caller's stack). */
struct ctl_getopt {
	struct option longopts[CTL_OPT_COUNT + 1];
	char shortopts[2 * CTL_OPT_COUNT + 1];
};

/* Accept these n options (and restart getopt at argv[1]). */
void ctl_getopt_init(struct ctl_getopt *g, const enum ctl_opt *accepted,
    size_t n);
/* The next option (its argument in optarg), -1 after the last, or
 * CTL_OPT_UNKNOWN after getopt said what is wrong. */
int ctl_getopt_next(struct ctl_getopt *g, int argc, char **argv);

/* -f/-s/--vars/--var/--env-inherit/--strict-vars/--interpolation/--root
 * (and --json). */
struct controller_stack_opts {
	struct compose_options compose;
	bool json;
	bool help;	/* --help was printed */
	const char *engine;	/* --engine URL, else DOCKER_HOST */
	const char *owner;	/* --owner NAME, else "stackd" */
	bool keep_replicas;	/* --keep-replicas */
	const char *dir;	/* --dir DIR: every stack in it */
	const char *config;	/* -c FILE: the daemon's stacks and engines */
	bool dir_ok;		/* the command takes --dir and -c */
	bool prune_secrets;	/* --prune-secrets */
	bool allow_empty;	/* --allow-empty */
	int prune_limit;	/* --prune-limit PCT; 0 = the default */
	bool interp_set;	/* --interpolation was given */
	enum images_mode resolve;	/* --resolve-image, default always */
	bool resolve_set;
	const char *age_key_file;	/* --sops-age-key-file */
	struct sops_keys *keys;		/* compose.sops.keys (owned) */
	/* What compose.files, var_files and vars point to (owned). */
	const char **files, **var_files, **vars;
};

/* "50" or "50%", 1 to 100, into *out; -1 when it is not one. */
int controller_percent_parse(const char *s, int *out);
/* --prune-limit ARG (apply, plan, run): as controller_percent_parse, and
 * says what is wrong on stderr. */
int controller_prune_limit_option(const char *arg, int *out);
/* --interpolation docker-cli|compose-spec; says what is wrong on stderr. */
int controller_interp_option(const char *arg, enum compose_interp_mode *out);

/* --resolve-image always|changed|never; says what is wrong on stderr. */
int controller_resolve_option(const char *arg, enum images_mode *out);

/* Returns 0, or 1 after printing usage (so->help tells whether asked).
 * dir_ok: --dir DIR or -c FILE may replace -f/-s. */
int controller_stack_options(struct controller_stack_opts *so, int argc,
    char **argv, const char *usage, bool dir_ok);
void controller_stack_options_release(struct controller_stack_opts *so);

/*
 * Engine options shared by every command that talks to an engine, named as
 * the docker CLI names them: -H/--host, --tlsverify, --tlscacert, --tlscert,
 * --tlskey, plus --registry-auth FILE and --timeout SECONDS.  Starts from
 * the environment (DOCKER_HOST, ...).  Returns 0, or 1 after printing why.
 */
int controller_engine_options(struct engine_config *cfg, int argc,
    char **argv, int *optind_out, const char *usage);

/* --- the configuration (config_file.c, run_flags.c) --------------- */

/* One source: a directory or a git repository. */
struct ctl_source_config {
	char *name;		/* "dir"/"git" when the only one is unnamed */
	char *dir;		/* the watched directory, or */
	struct sources_git_opts git;	/* a git source (git.url set; its
					 * cache_dir is chosen at open) */
	char *webhook_secret_file;	/* git: enables its webhook */
	int debounce_ms;	/* 0 = default */
	int rescan_ms;
	int interp;		/* 0: the config's; else 1 + its enum
				 * compose_interp_mode */
	int resolve;		/* 0: the config's; else 1 + its enum
				 * images_mode */
	char *age_key_file;	/* sops.age_key_file, or NULL */
	bool suspend;		/* its stacks are left alone */
	struct sops_keys *sops_keys;	/* its own identities, or NULL:
					 * the config's */
};

/* What `stackd run` was told, by flags or by stackd.yaml (config_file.c). */
struct ctl_config {
	char *path;		/* the config file, or NULL */
	struct engine_config *engines;
	size_t nengines;
	/* Their stacks' names may not meet: a stack belongs to one. */
	struct ctl_source_config *sources;
	size_t nsources;
	char *state_dir;	/* git caches live here */
	int interval_ms;	/* periodic reconcile; 0 = 60 s */
	/* stackd run: every object listed again, whatever the events
	 * said; 0 = RECON_RESYNC_MS. */
	int resync_ms;
	char *owner;
	/* The writer's lease per engine (stackd run): lease.ttl, 0 =
	 * CTL_LEASE_TTL_MS; lease.enabled: false sets lease_off. */
	int lease_ttl_ms;
	bool lease_off;
	bool keep_replicas;
	bool prune_secrets;
	bool allow_empty;
	int prune_limit;	/* percent; 0 = CTL_PRUNE_LIMIT */
	bool env_inherit;
	bool strict_vars;
	enum compose_interp_mode interp;	/* stacks.interpolation */
	enum images_mode resolve;	/* stacks.resolve_image */
	/* stacks.image_poll: 0 = IMAGES_POLL_MS, CTL_IMAGE_POLL_EVERY = at
	 * every cycle; stacks.image_timeout: 0 = IMAGES_TIMEOUT_MS. */
	int image_poll_ms;
	int image_timeout_ms;
	/* stacks.sync_timeout: how long a start or an update may progress
	 * before the service is degraded; 0 = HEALTH_TIMEOUT_MS. */
	int sync_timeout_ms;
	/* stacks.hook_timeout: how long an x-stackd-hook job may run before
	 * it fails its stack's sync; 0 = CTL_HOOK_TIMEOUT_MS. */
	int hook_timeout_ms;
	/* {"stack": ["engine", ...]}: where a stack goes (default: every
	 * engine).  Owned. */
	cJSON *targets;
	/* stacks.list: [{"name", "source", "files": [...], "vars": [...],
	 * "keep_replicas", "prune", "interpolation"}], paths relative to the source's root;
	 * NULL = discover the stacks. */
	cJSON *stack_list;
	char *listen;		/* "127.0.0.1:9090"; "" = no status server */
	char *notify_url;	/* POST result changes here, or NULL */
	char *notify_token_file;	/* its bearer token */
	int notify_timeout_ms;	/* one delivery; 0 = 5 s */
	char *token_file;	/* bearer token for the status server */
	char *registry_secret_file;	/* the registry webhook's token */
	char *status_user;	/* status.user: the status process's, as root */
	bool no_sandbox;	/* --no-sandbox: status and fetches unconfined */
	char *age_key_file;	/* sops.age_key_file; NULL: the default */
	/* The identities SOPS files are decrypted with: the key file,
	 * SOPS_AGE_KEY_FILE and SOPS_AGE_KEY (ctl_sops_keys_load). */
	struct sops_keys *sops_keys;
	enum log_format log_format;
	enum log_level log_level;
};

/* Command-line settings, applied over the config file's (and again after
 * each reload). */
struct ctl_flags {
	const char *config, *host, *dir, *listen, *owner, *token_file;
	const char *git, *ref, *path, *state_dir, *git_user, *git_token;
	const char *git_key, *git_hosts, *git_ca;
	const char *hook_secret, *registry_secret, *age_key_file;
	const char *notify_url;
	int interval_ms, debounce_ms, poll_ms, prune_limit;
	bool keep, prune, empty, inherit, strict, no_sandbox;
	bool has_format, has_level, has_interp, has_resolve, has_image_poll;
	enum compose_interp_mode interp;
	enum images_mode resolve;
	int image_poll_ms;
	enum log_format format;
	enum log_level level;
};


/* Parse run's and validate's flags into f (pointing into argv): 0, -1
 * after --help (printed), 1 after printing what is wrong and usage. */
int ctl_flags_parse(struct ctl_flags *f, int argc, char **argv,
    const char *usage);
/* c from f: the config file (if any), the flags over it, the defaults. */
int ctl_flags_configure(struct ctl_config *c, const struct ctl_flags *f,
    struct err *err);

void ctl_config_release(struct ctl_config *c);

/* --- SOPS identities (identities.c) --------------------------------- */

/* sops.age_key_file's default: a docker secret named sops_age_key. */
#define CTL_AGE_KEY_FILE "/run/secrets/sops_age_key"

/* The identities of file (NULL: CTL_AGE_KEY_FILE when it exists),
 * SOPS_AGE_KEY_FILE and SOPS_AGE_KEY; what cannot be read is noted in
 * them (sops_keys_problem), never an error of its own. */
struct sops_keys *ctl_sops_keys_load(const char *file);
/* c's identities and its sources' own (after a load or a reload). */
void ctl_config_sops_load(struct ctl_config *c);
/* The identities for source's stacks. */
const struct sops_keys *ctl_source_keys(const struct ctl_config *c,
    const char *source);
void ctl_source_config_release(struct ctl_source_config *s);
/* Does stack go to engine (stacks.engines in the config)? */
bool ctl_config_targets(const struct ctl_config *c, const char *stack,
    const char *engine);
/* A duration as compose writes it ("500ms", "30s", "1h30m"; duration.h)
 * or plain seconds; at most 24 h. */
int ctl_duration_parse(const char *s, int *ms);
/* What a config left out: the source's name, and the engine DOCKER_HOST
 * names (host replaces its address, and replaces the config's engines);
 * an error without a source. */
int ctl_config_defaults(struct ctl_config *c, const char *host,
    struct err *err);
/* Defaults, then the config file (when path is not NULL). */
int ctl_config_load(struct ctl_config *c, const char *path, struct err *err);

/* The state directory: the config's, $STATE_DIRECTORY, /var/lib/stackd
 * for root, else $XDG_STATE_HOME/stackd or ~/.local/state/stackd. */
int ctl_state_dir(const struct ctl_config *c, char *out, size_t size);
/* Source i's current snapshot, for the one-shot commands: a directory
 * read, or a git fetch into a throwaway cache under $TMPDIR named in tmp
 * (a running daemon holds the lock on its own); the caller removes tmp
 * when it is not "". */
int ctl_source_read(const struct ctl_config *c, size_t i,
    struct sources_snapshot **out, char tmp[4096], struct err *err);
/* The options of source s of c; a git source's cache directory is named
 * in cache (under state, or else the state directory). */
int ctl_source_options(const struct ctl_config *c,
    const struct ctl_source_config *s, const char *state,
    struct sources_opts *o, char *cache, size_t size, struct err *err);

/* --- stacks converted once per revision (loads.c) ------------------ */

/* A daemon worker's converted stacks, kept per source, stack and
 * revision.  Not thread-safe: one worker's own. */
struct ctl_loads;
/* refresh_ms: a kept stack older than this is read again (0: never). */
struct ctl_loads *ctl_loads_new(long long refresh_ms);
void ctl_loads_free(struct ctl_loads *l);
/* Stack o->stack of source at revision: the one kept, or loaded now
 * (*fresh).  *out stays the cache's until its next sweep.  A failed load
 * is not kept. */
int ctl_loads_get(struct ctl_loads *l, const char *source,
    const char *revision, const struct compose_options *o,
    const struct compose_stack **out, bool *fresh, struct err *err);
/* Drop what was not asked for since the last sweep (stacks gone, old
 * revisions); once per cycle, after the pass. */
void ctl_loads_sweep(struct ctl_loads *l);
/* Everything is read again at the next get (SIGHUP). */
void ctl_loads_forget(struct ctl_loads *l);
void ctl_loads_stats(const struct ctl_loads *l, unsigned long *hits,
    unsigned long *misses, size_t *kept);

/* --- the reconcile pass (pass.c, stacks.c) ------------------------- */

/* What happened to one stack in a pass, handed to the pass's report
 * function.  Everything is borrowed for the duration of the call. */
struct ctl_result {
	const char *stack;	/* NULL: about the source as a whole */
	const struct compose_stack *loaded;	/* NULL: removal or error */
	bool fresh;		/* loaded now, not kept from an earlier pass */
	const struct recon_plan *plan;		/* NULL on error */
	bool removal;		/* the stack left the source */
	/* The snapshot the stack was read from, and its source's name
	 * (NULL: removal, or the command line's files). */
	const struct sources_snapshot *snap;
	const char *source;
	bool applied;		/* the plan was carried out */
	bool suspended;		/* planned, never written (suspend:) */
	/* "waiting for db (progressing)": planned, not written until the
	 * stacks it depends on are synced and healthy; or NULL. */
	const char *waiting;
	struct recon_stats stats;
	unsigned hooks_run;	/* hook jobs waited for to completion */
	/* The plan's new networks, secrets and configs were made for its
	 * hooks (ctl_hooks_pre): carry out the rest only. */
	bool prepared;
	const struct err *err;	/* non-NULL: this stack failed */
};

struct ctl_held;

struct ctl_pass {
	struct engine *e;
	const struct recon_observed *obs;
	struct recon_options ro;
	/* stacks.list policies per stack (the daemon), or NULL. */
	const struct ctl_config *cfg;
	bool apply;
	/* A caller that runs once: wait for each pre-sync hook it starts
	 * (up to hook_timeout) before writing the rest. */
	bool wait_hooks;
	bool allow_empty;	/* an empty source may remove everything */
	/* The prune guard: a pass removes at most this percentage of the
	 * services the owner runs on the engine (and never refuses a single
	 * one); 0 = CTL_PRUNE_LIMIT, 100 = no limit. */
	int prune_limit;
	unsigned pruned;	/* services removed so far, this pass */
	/* Converted stacks kept between passes (the daemon), or NULL. */
	struct ctl_loads *loads;
	/* Their key when a stack has no snapshot: a one-shot pass reads
	 * each file once (ctl_pass_prefetch), so a constant does. */
	const char *revision;
	/* Of the stack in hand (ctl_pass_groups). */
	const struct sources_snapshot *snap;
	const char *source;
	/* Called once per stack (and once for a source-level error). */
	void (*report)(const struct ctl_result *r, void *payload);
	/* May this plan be applied now (NULL: yes)?  Called right before
	 * the writes.  A stack backing off after failures is still loaded
	 * and planned, never written. */
	bool (*may_apply)(const struct recon_plan *plan, void *payload);
	/* Are the stacks in deps synced and healthy on this engine (NULL:
	 * the order is not waited for)?  If not, why names the first that
	 * is not: "waiting for db (progressing)". */
	bool (*ready)(const cJSON *deps, void *payload, char *why,
	    size_t size);
	/* Each stack's depends_on as last loaded, kept by the caller
	 * between passes (cycles span stacks), or NULL. */
	cJSON *depends;
	/* {"hook service": "ID VERSION KEY"}: hook runs seen finished, kept
	 * by the caller so that they are not judged again, or NULL. */
	cJSON *hooks_done;
	/* Of the pass in hand (ctl_pass_groups): which stacks exist. */
	const struct ctl_group *groups;
	size_t ngroups;
	struct ctl_held *held;	/* their stacks by name (pass.c) */
	size_t nheld;
	void *payload;
	int failed;		/* stacks that failed, this pass */
};

#define CTL_PRUNE_LIMIT 50

/* Convert every stack of l into p->loads under p->revision, reporting
 * nothing: a one-shot pass does it while the engine is observed, and
 * ctl_pass_list then finds the stacks converted (a failed one is
 * converted again there, and reported). */
void ctl_pass_prefetch(struct ctl_pass *p, const struct sources_list *l,
    const struct compose_options *base, const char *root);

struct ctl_config;
/* The stacks.list entries of source (NULL: all) as a list of stacks under
 * snap's root (an empty list without stacks.list; a listed file that is
 * missing is that stack's error).  Release with sources_list_release
 * (stacks.c). */
void ctl_stacks_listed(struct sources_list *out, const struct ctl_config *c,
    const struct sources_snapshot *snap, const char *source);
/* The stacks of a source meant for one engine: mine borrows from listed
 * (stacks.list, built here) or from the snapshot's discovered list. */
struct ctl_stack_set {
	struct sources_list listed;
	struct sources_list mine;
};
void ctl_stacks_for_engine(struct ctl_stack_set *set,
    const struct ctl_config *c, const struct sources_snapshot *snap,
    const char *source, const char *engine);
void ctl_stack_set_release(struct ctl_stack_set *set);
/* How many stacks the source holds: listed, or else discovered. */
size_t ctl_stacks_count(const struct ctl_config *c,
    const struct sources_snapshot *snap, const char *source);
/* Is object ("web_db") named as an object of one of the stacks (listed,
 * or else discovered in snap, which may be NULL)? */
bool ctl_stacks_object(const struct ctl_config *c,
    const struct sources_snapshot *snap, const char *object);

/* ro with stack's own policies from stacks.list (keep_replicas, prune:
 * false); c may be NULL (the command line has no per-stack policy). */
void ctl_stacks_policy(const struct ctl_config *c, const char *stack,
    struct recon_options *ro);

/* Is the stack left alone (stacks.list suspend, or its source's)?  How
 * long may it progress (stacks.list sync_timeout, else stacks:)?  c may
 * be NULL (the command line: never suspended, the default timeout). */
bool ctl_stacks_suspended(const struct ctl_config *c, const char *source,
    const char *stack);
long long ctl_stacks_sync_timeout(const struct ctl_config *c,
    const char *stack);
/* How long may its hook jobs run (stacks.list hook_timeout, else
 * stacks:, else 5 minutes)? */
#define CTL_HOOK_TIMEOUT_MS (5 * 60 * 1000)
long long ctl_stacks_hook_timeout(const struct ctl_config *c,
    const char *stack);

/*
 * x-stackd-hook jobs (hooks.c).  pre: may the stack's plan be written
 * now (every pre-sync hook ran to completion for the stack's files)?  If
 * not, r->waiting (why) or r->err (err) says why.  post: with nothing to
 * write, start the post-sync hooks due once the stack is synced and
 * healthy, or report them running (r->waiting) or failed (r->err).
 */
bool ctl_hooks_pre(struct ctl_pass *p, struct ctl_result *r, char *why,
    size_t size, struct err *err);
void ctl_hooks_post(struct ctl_pass *p, struct ctl_result *r, char *why,
    size_t size, struct err *err);
/* The plan without what a hook's start made of it (r->prepared): the
 * same changes, shallow, but the creates of networks, secrets and
 * configs.  Free rest->changes only. */
void ctl_hooks_rest(const struct recon_plan *plan, struct recon_plan *rest);

/* The stacks this one depends on (its stacks.list entry's depends_on,
 * then its files' x-stackd.depends_on), or NULL: none.  Free it. */
cJSON *ctl_depends_of(const struct ctl_config *c, const char *stack,
    const struct compose_stack *loaded);
/* graph maps each stack to its depends_on.  -1 with why ("depends_on
 * names db, which is no stack here", "depends_on cycle: a -> b -> a")
 * when one of stack's is not known() or stack is on a cycle. */
int ctl_depends_check(const cJSON *graph, const char *stack,
    bool (*known)(const char *name, void *payload), void *payload,
    char *why, size_t size);

/* How a stack's images are pinned: its stacks.list entry's resolve_image,
 * else the source's, else the config's. */
enum images_mode ctl_stacks_resolve(const struct ctl_config *c,
    const char *source, const char *stack);
#define CTL_IMAGE_POLL_EVERY (-1)
/* The cache poll for a config (images_cache_new's poll_ms). */
long ctl_image_poll_ms(const struct ctl_config *c);

/* The interpolation of a stack of a source: its stacks.list entry's, else
 * the source's, else the config's (stacks.interpolation). */
enum compose_interp_mode ctl_stacks_interp(const struct ctl_config *c,
    const char *source, const char *stack);

/* The compose options of a stack of a source: base's variable settings,
 * s's compose and vars files (borrowed), and root unless base sets one;
 * with a config c, the stack's interpolation. */
void ctl_stack_compose_options(struct compose_options *o,
    const struct compose_options *base, const struct sources_stack *s,
    const char *root, const struct ctl_config *c, const char *source);

/* Load, plan and (with p->apply) apply one stack. */
void ctl_pass_stack(struct ctl_pass *p, const struct compose_options *o);
/* The stacks one source holds for an engine. */
struct ctl_group {
	const char *source;	/* its name, for messages */
	const char *root;	/* where its stack files are */
	const struct sources_snapshot *snap;	/* NULL: the command line */
	const struct sources_list *list;
};

/*
 * Every stack of every group, with base's variable options (a stack two
 * groups hold fails in both); then, only if complete (every source read)
 * and every stack loaded, remove the stacks this owner runs that no group
 * holds any more (when no group holds a stack, nothing is removed unless
 * p->allow_empty).
 */
void ctl_pass_groups(struct ctl_pass *p, const struct ctl_group *g,
    size_t ng, bool complete, const struct compose_options *base);
/* ctl_pass_groups over the stacks of n sources (names[i], snaps[i]) meant
 * for engine; a NULL snapshot (not read yet) holds none, and while any
 * is NULL nothing is removed. */
void ctl_pass_sources(struct ctl_pass *p, const struct ctl_config *c,
    struct sources_snapshot *const *snaps, const char *const *names,
    size_t n, const char *engine, const struct compose_options *base);
/* ctl_pass_groups over one discovered list under root. */
void ctl_pass_list(struct ctl_pass *p, const struct sources_list *l,
    const struct compose_options *base, const char *root);

#endif
