/*
 * controller_int.h - what the files of controller/ share: one reconcile
 * pass over one engine, used by `plan`/`apply` (once) and by the daemon's
 * engine workers (every cycle).
 */
#ifndef STACKD_CONTROLLER_INT_H
#define STACKD_CONTROLLER_INT_H

#include <stdbool.h>

#include "compose.h"
#include "reconciler.h"
#include "sources.h"

/* What happened to one stack in a pass, handed to the pass's report
 * function.  Everything is borrowed for the duration of the call. */
struct ctl_result {
	const char *stack;	/* NULL: about the source as a whole */
	const struct compose_stack *loaded;	/* NULL: removal or error */
	const struct recon_plan *plan;		/* NULL on error */
	bool removal;		/* the stack left the source */
	/* The snapshot the stack was read from, and its source's name
	 * (NULL: removal, or the command line's files). */
	const struct sources_snapshot *snap;
	const char *source;
	bool applied;		/* the plan was carried out */
	struct recon_stats stats;
	const struct err *err;	/* non-NULL: this stack failed */
};

struct ctl_pass {
	struct engine *e;
	const struct recon_observed *obs;
	struct recon_options ro;
	/* stacks.list policies per stack (the daemon), or NULL. */
	const struct ctl_config *cfg;
	bool apply;
	bool allow_empty;	/* an empty source may remove everything */
	/* The prune guard: a pass removes at most this percentage of the
	 * services the owner runs on the engine (and never refuses a single
	 * one); 0 = CTL_PRUNE_LIMIT, 100 = no limit. */
	int prune_limit;
	unsigned pruned;	/* services removed so far, this pass */
	/* Of the stack in hand (ctl_pass_groups). */
	const struct sources_snapshot *snap;
	const char *source;
	/* Called once per stack (and once for a source-level error). */
	void (*report)(const struct ctl_result *r, void *payload);
	/* May this plan be applied now (NULL: yes)?  Called right before
	 * the writes.  A stack backing off after failures is still loaded
	 * and planned, never written. */
	bool (*may_apply)(const struct recon_plan *plan, void *payload);
	void *payload;
	int failed;		/* stacks that failed, this pass */
};

#define CTL_PRUNE_LIMIT 50

struct ctl_config;
/* The stacks.list entries of source (NULL: all) as a list of stacks under
 * snap's root (an empty list without stacks.list; a listed file that is
 * missing is that stack's error).  Release with sources_list_release
 * (stacks.c). */
int ctl_stacks_listed(struct sources_list *out, const struct ctl_config *c,
    const struct sources_snapshot *snap, const char *source);
/* The stacks of a source meant for one engine: mine borrows from listed
 * (stacks.list, built here) or from the snapshot's discovered list. */
struct ctl_stack_set {
	struct sources_list listed;
	struct sources_list mine;
};
int ctl_stacks_for_engine(struct ctl_stack_set *set,
    const struct ctl_config *c, const struct sources_snapshot *snap,
    const char *source, const char *engine);
void ctl_stack_set_release(struct ctl_stack_set *set);
/* How many stacks the source holds: listed, or else discovered. */
size_t ctl_stacks_count(const struct ctl_config *c,
    const struct sources_snapshot *snap, const char *source);
/* Is object ("web_db") named as an object of one of the stacks (listed,
 * or else discovered in the n sources' snapshots)? */
struct ctl_source_state;
bool ctl_stacks_object(const struct ctl_config *c,
    const struct ctl_source_state *sources, size_t n, const char *object);

/* ro with stack's own policies from stacks.list (keep_replicas, prune:
 * false); c may be NULL (the command line has no per-stack policy). */
void ctl_stacks_policy(const struct ctl_config *c, const char *stack,
    struct recon_options *ro);

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
 * is NULL nothing is removed.  0, or ERR_NOMEM before any stack. */
int ctl_pass_sources(struct ctl_pass *p, const struct ctl_config *c,
    struct sources_snapshot *const *snaps, const char *const *names,
    size_t n, const char *engine, const struct compose_options *base);
/* ctl_pass_groups over one discovered list under root. */
void ctl_pass_list(struct ctl_pass *p, const struct sources_list *l,
    const struct compose_options *base, const char *root);

/*
 * The daemon (`stackd run`).
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>

#include "engine.h"
#include "log.h"

/* A git source: sources[0].git, or --git. */
struct ctl_git_config {
	char *url, *ref, *path;
	char *username, *token_file, *token_env;
	char *ssh_key, *ssh_passphrase_file, *known_hosts;
	char *ca_file;		/* https: trust only these CAs */
	char *webhook_secret_file;
	int poll_ms, timeout_ms;
};

/* One source: a directory or a git repository. */
struct ctl_source_config {
	char *name;		/* "dir"/"git" when the only one is unnamed */
	char *dir;		/* the watched directory, or */
	struct ctl_git_config git;	/* a git source (git.url set) */
	int debounce_ms;	/* 0 = default */
	int rescan_ms;
	int interp;		/* 0: the config's; else 1 + its enum
				 * compose_interp_mode */
	int resolve;		/* 0: the config's; else 1 + its enum
				 * images_mode */
};

/* What `stackd run` was told, by flags or by stackd.yaml (config.c). */
struct ctl_config {
	char *path;		/* the config file, or NULL */
	struct engine_config *engines;
	size_t nengines;
	/* Their stacks' names may not meet: a stack belongs to one. */
	struct ctl_source_config *sources;
	size_t nsources;
	char *state_dir;	/* git caches live here */
	int interval_ms;	/* periodic reconcile; 0 = 60 s */
	char *owner;
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
	enum log_format log_format;
	enum log_level log_level;
};

/* Command-line settings, applied over the config file's (and again after
 * each reload). */
struct ctl_flags {
	const char *config, *host, *dir, *listen, *owner, *token_file;
	const char *git, *ref, *path, *state_dir, *git_user, *git_token;
	const char *git_key, *git_hosts, *git_ca;
	const char *hook_secret, *registry_secret;
	const char *notify_url;
	int interval_ms, debounce_ms, poll_ms, prune_limit;
	bool keep, prune, empty, inherit, strict;
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
void ctl_source_config_release(struct ctl_source_config *s);
/* Does stack go to engine (stacks.engines in the config)? */
bool ctl_config_targets(const struct ctl_config *c, const char *stack,
    const char *engine);
/* "500ms", "30s", "5m", "1h", or plain seconds; at most 24 h. */
int ctl_duration_parse(const char *s, int *ms);
/* What a config left out: the source's name, and the engine DOCKER_HOST
 * names (host replaces its address, and replaces the config's engines);
 * an error without a source. */
int ctl_config_defaults(struct ctl_config *c, const char *host,
    struct err *err);
/* Defaults, then the config file (when path is not NULL). */
int ctl_config_load(struct ctl_config *c, const char *path, struct err *err);

/* Reconcile durations, seconds: Prometheus histogram buckets. */
#define CTL_BUCKETS 10
extern const double ctl_buckets[CTL_BUCKETS];

/* What one engine worker reports; guarded by ctl_state.mu. */
struct ctl_engine_state {
	const char *name;	/* borrowed from the config */
	const char *host;
	bool reachable;
	bool reached;		/* at least once */
	char api_version[16];
	char *error;		/* last cycle's engine error, or NULL */
	long long last_cycle;	/* unix time */
	double last_duration;
	unsigned long cycles;
	unsigned long failed_cycles;
	unsigned long hist[CTL_BUCKETS + 1];
	double hist_sum;
	struct engine_counters calls;
	struct images_stats images;	/* digest lookups */
	unsigned long writes[3][4];	/* recon_action x engine_kind */
	unsigned long drift;		/* drift corrections */
	unsigned long events;		/* engine events that woke it */
	cJSON *stacks;	/* {"name": {state, revision, ...}} */
};

struct ctl_source_state {
	char *name;
	const char *kind;	/* "dir" or "git" */
	char *location;		/* never with credentials */
	struct sources_snapshot *snap;	/* in force; NULL before the first */
	size_t nstacks;		/* its stacks: listed, or else discovered */
	char *error;		/* last read failed: why */
	long long last_read;	/* unix time */
	unsigned long snapshots;
	unsigned long errors;
	struct sources_git_stats git;	/* git sources */
	/* Webhook deliveries: accepted (a fetch was triggered), ignored
	 * (signed, but not a push), refused (bad or no signature, bad
	 * request). */
	unsigned long hooks_accepted, hooks_ignored, hooks_refused;
	/* Set before the status server starts, then only read:
	 * sources_trigger is thread-safe. */
	char *webhook_secret;		/* NULL: no webhook route */
	struct sources_source *src;
	pthread_t thread;		/* its watcher */
	bool watching;
};

/* A registry push the workers have to hear of (the registry webhook). */
#define CTL_PUSHES 64
struct ctl_push {
	char host[256];		/* the registry, "127.0.0.1:5000" */
	char repository[256];	/* "app", "team/app" */
};

struct ctl_state {
	pthread_mutex_t mu;
	long long started;
	char *token;		/* status bearer token, or NULL */
	struct ctl_engine_state *engines;
	size_t nengines;
	struct ctl_source_state *sources;	/* as the config's */
	size_t nsources;
	unsigned long generation;	/* bumped with each new snapshot */
	struct ctl_notifier *notifier;	/* NULL: none configured */
	/* Set before the status server starts, then only read: */
	char *registry_secret;	/* the registry webhook's bearer token,
				 * NULL: no such route */
	int wake_fd;		/* a write wakes every worker */
	/* Registry pushes, a ring: push i is pushes[i % CTL_PUSHES]. */
	struct ctl_push pushes[CTL_PUSHES];
	unsigned long npushes;		/* ever received */
	unsigned long registry_hooks[2];	/* accepted, refused */
};

/* Record a registry push (takes st->mu) and wake the workers. */
void ctl_state_push(struct ctl_state *st, const char *host,
    const char *repository);

/* JSON documents of the status API (caller holds st->mu, frees). */
cJSON *ctl_status_json(const struct ctl_state *st);
cJSON *ctl_stacks_json(const struct ctl_state *st, const char *only);
/* Prometheus text exposition (caller holds st->mu, frees). */
char *ctl_metrics_text(const struct ctl_state *st);
/* The HTML page (caller holds st->mu, frees). */
char *ctl_page_html(const struct ctl_state *st);
/* "2026-11-23T10:00:00Z" (out holds 32). */
const char *ctl_iso_time(long long t, char *out);
/* Is the controller ready: a snapshot of every source, and every engine
 * reached once. */
bool ctl_ready(const struct ctl_state *st);
/* The state of a stack over all engines: the worst one. */
const char *ctl_stack_state(const cJSON *per_engine);

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

/*
 * Webhooks (webhook.c): a push delivery from GitHub (X-Hub-Signature-256),
 * Gitea/Forgejo (X-Gitea-Signature, X-Forgejo-Signature: HMAC-SHA256 of
 * the body) or GitLab (X-Gitlab-Token: the secret itself).  get(name,
 * payload) returns a request header or NULL.
 */
enum ctl_hook_verdict {
	CTL_HOOK_PUSH,		/* verified push: fetch now (202) */
	CTL_HOOK_IGNORED,	/* verified, another event (200) */
	CTL_HOOK_UNSIGNED,	/* no signature or token header (401) */
	CTL_HOOK_BAD_SIGNATURE,	/* wrong signature or token (401) */
	CTL_HOOK_BAD_REQUEST,	/* no event header (400) */
};
enum ctl_hook_verdict ctl_webhook_check(const char *secret,
    const char *body, size_t len,
    const char *(*get)(const char *name, void *payload), void *payload,
    const char **event);

/*
 * Outgoing notifications (notify.c): a JSON document POSTed to
 * c->notify_url when a stack's result on an engine changes (synced <->
 * failed), retried, from a thread of its own.  compare runs under the
 * state lock with a cycle's stacks document and never blocks.
 */
struct ctl_notifier;
int ctl_notifier_start(struct ctl_notifier **out, const struct ctl_config *c,
    struct err *err);
void ctl_notifier_compare(struct ctl_notifier *n, const char *engine,
    const cJSON *stacks);
void ctl_notifier_stats(struct ctl_notifier *n, unsigned long *sent,
    unsigned long *failed, unsigned long *dropped);
void ctl_notifier_stop(struct ctl_notifier *n);

struct ctl_status_server;
int ctl_status_start(struct ctl_status_server **out, const char *listen,
    struct ctl_state *st, struct err *err);
void ctl_status_stop(struct ctl_status_server *s);

/* One engine: its worker thread and its events thread. */
struct ctl_worker;

struct ctl_daemon {
	struct ctl_config *cfg;
	struct ctl_state st;
	struct ctl_worker **workers;
	size_t nworkers;
};

/* Open every source of d->cfg into d->st.sources (name, kind, location,
 * webhook secret).  A git fetch gives up when *cancel is set. */
int ctl_sources_open(struct ctl_daemon *d, const atomic_int *cancel,
    struct err *err);
/* One thread per source until *stop: each publishes what it reads into
 * the state and writes to wake_fd (an eventfd) when the engine workers
 * should look.  The threads block every signal. */
int ctl_sources_watch(struct ctl_daemon *d, int wake_fd,
    const atomic_int *stop, struct err *err);
/* Join the threads (after *stop) and free the sources' state. */
void ctl_sources_close(struct ctl_state *st);

int ctl_worker_start(struct ctl_worker **out, struct ctl_daemon *d,
    size_t index, struct err *err);
/* Wake the worker for a cycle now (new snapshot, reload, signal). */
void ctl_worker_kick(struct ctl_worker *w);
/* Ends both threads (after the cycle in flight) and frees the worker. */
void ctl_worker_join(struct ctl_worker *w);

#endif
