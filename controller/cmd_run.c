/*
 * cmd_run.c - `stackd run`: the controller daemon; and `stackd validate`,
 * which reads the same configuration and stacks without running.
 *
 * Each source is watched by a thread of its own (source.c); the main
 * thread hands each new snapshot to the engine workers (one thread each,
 * plus one for each engine's event stream); the status server answers
 * from its own thread.  SIGHUP reloads
 * the config file (a bad one is refused and the running one stays);
 * SIGTERM and SIGINT let every worker finish the cycle in flight, then
 * exit 0.
 */
#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "controller.h"
#include "controller_int.h"
#include "secret.h"
#include "version.h"

static const char run_usage[] =
    "usage: stackd run [-c FILE] [--dir DIR | --git URL [--ref REF]\n"
    "                  [--path SUBDIR] [--poll DURATION] [--git-username NAME]\n"
    "                  [--git-token-file FILE] [--git-ca-file FILE]\n"
    "                  [--git-ssh-key FILE] [--git-known-hosts FILE]\n"
    "                  [--webhook-secret-file FILE]]\n"
    "                  [--state-dir DIR] [-H URL] [--listen ADDR:PORT]\n"
    "                  [--interval DURATION] [--debounce DURATION]\n"
    "                  [--owner NAME] [--token-file FILE] [--keep-replicas]\n"
    "                  [--prune-secrets] [--allow-empty] [--prune-limit PCT]\n"
    "                  [--env-inherit] [--notify-url URL]\n"
    "                  [--strict-vars] [--interpolation docker-cli|compose-spec]\n"
    "                  [--resolve-image always|changed|never]\n"
    "                  [--image-poll DURATION]\n"
    "                  [--registry-webhook-secret-file FILE]\n"
    "                  [--log-format text|json]\n"
    "                  [--log-level debug|info|warn|error]\n"
    "\n"
    "Keep every stack of a source in sync on every engine, until stopped.\n"
    "Without -c, watches --dir DIR or polls --git URL against DOCKER_HOST\n"
    "(or -H).  Options\n"
    "given on the command line override the config file.  The status page\n"
    "listens on 127.0.0.1:9090 unless --listen says otherwise (\"\" = off).\n";

enum { OPT_DIR = 400, OPT_LISTEN, OPT_INTERVAL, OPT_DEBOUNCE, OPT_OWNER,
    OPT_TOKEN, OPT_KEEP, OPT_PRUNE, OPT_EMPTY, OPT_INHERIT, OPT_STRICT, OPT_INTERP,
    OPT_LOGFMT, OPT_LOGLVL, OPT_GIT, OPT_REF, OPT_PATH, OPT_POLL,
    OPT_STATE, OPT_GIT_USER, OPT_GIT_TOKEN, OPT_GIT_KEY, OPT_GIT_HOSTS,
    OPT_HOOK_SECRET, OPT_PRUNE_LIMIT, OPT_NOTIFY, OPT_GIT_CA, OPT_RESOLVE,
    OPT_IMAGE_POLL, OPT_REGISTRY_HOOK };

static const struct option longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "host", required_argument, NULL, 'H' },
	{ "dir", required_argument, NULL, OPT_DIR },
	{ "git", required_argument, NULL, OPT_GIT },
	{ "ref", required_argument, NULL, OPT_REF },
	{ "path", required_argument, NULL, OPT_PATH },
	{ "poll", required_argument, NULL, OPT_POLL },
	{ "state-dir", required_argument, NULL, OPT_STATE },
	{ "git-username", required_argument, NULL, OPT_GIT_USER },
	{ "git-token-file", required_argument, NULL, OPT_GIT_TOKEN },
	{ "git-ssh-key", required_argument, NULL, OPT_GIT_KEY },
	{ "git-known-hosts", required_argument, NULL, OPT_GIT_HOSTS },
	{ "git-ca-file", required_argument, NULL, OPT_GIT_CA },
	{ "webhook-secret-file", required_argument, NULL, OPT_HOOK_SECRET },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "debounce", required_argument, NULL, OPT_DEBOUNCE },
	{ "owner", required_argument, NULL, OPT_OWNER },
	{ "token-file", required_argument, NULL, OPT_TOKEN },
	{ "keep-replicas", no_argument, NULL, OPT_KEEP },
	{ "prune-secrets", no_argument, NULL, OPT_PRUNE },
	{ "allow-empty", no_argument, NULL, OPT_EMPTY },
	{ "prune-limit", required_argument, NULL, OPT_PRUNE_LIMIT },
	{ "notify-url", required_argument, NULL, OPT_NOTIFY },
	{ "env-inherit", no_argument, NULL, OPT_INHERIT },
	{ "strict-vars", no_argument, NULL, OPT_STRICT },
	{ "interpolation", required_argument, NULL, OPT_INTERP },
	{ "resolve-image", required_argument, NULL, OPT_RESOLVE },
	{ "image-poll", required_argument, NULL, OPT_IMAGE_POLL },
	{ "registry-webhook-secret-file", required_argument, NULL,
	    OPT_REGISTRY_HOOK },
	{ "log-format", required_argument, NULL, OPT_LOGFMT },
	{ "log-level", required_argument, NULL, OPT_LOGLVL },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Lock-free atomics: set by the signal handler, read by every thread. */
static atomic_int got_stop, got_hup;
static_assert(ATOMIC_INT_LOCK_FREE == 2, "signal flags must be lock-free");

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_stop = 1;
}

/* Command-line settings, applied over the config file's (and again after
 * each reload). */
struct flags {
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

static int
parse_flags(struct flags *f, int argc, char **argv, const char *usage)
{
	int c;

	memset(f, 0, sizeof(*f));
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:H:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': f->config = optarg; break;
		case 'H': f->host = optarg; break;
		case OPT_DIR: f->dir = optarg; break;
		case OPT_GIT: f->git = optarg; break;
		case OPT_REF: f->ref = optarg; break;
		case OPT_PATH: f->path = optarg; break;
		case OPT_STATE: f->state_dir = optarg; break;
		case OPT_GIT_USER: f->git_user = optarg; break;
		case OPT_GIT_TOKEN: f->git_token = optarg; break;
		case OPT_GIT_KEY: f->git_key = optarg; break;
		case OPT_GIT_HOSTS: f->git_hosts = optarg; break;
		case OPT_GIT_CA: f->git_ca = optarg; break;
		case OPT_HOOK_SECRET: f->hook_secret = optarg; break;
		case OPT_REGISTRY_HOOK: f->registry_secret = optarg; break;
		case OPT_NOTIFY: f->notify_url = optarg; break;
		case OPT_LISTEN: f->listen = optarg; break;
		case OPT_OWNER: f->owner = optarg; break;
		case OPT_TOKEN: f->token_file = optarg; break;
		case OPT_KEEP: f->keep = true; break;
		case OPT_PRUNE: f->prune = true; break;
		case OPT_EMPTY: f->empty = true; break;
		case OPT_INHERIT: f->inherit = true; break;
		case OPT_STRICT: f->strict = true; break;
		case OPT_INTERP:
			if (controller_interp_option(optarg, &f->interp) < 0)
				return -1;
			f->has_interp = true;
			break;
		case OPT_RESOLVE:
			if (controller_resolve_option(optarg, &f->resolve) < 0)
				return -1;
			f->has_resolve = true;
			break;
		case OPT_IMAGE_POLL:
			if (ctl_duration_parse(optarg, &f->image_poll_ms) < 0) {
				fprintf(stderr, "stackd: --image-poll takes a "
				    "duration (30s, 5m; 0 = every cycle), got "
				    "\"%s\"\n", optarg);
				return 1;
			}
			f->has_image_poll = true;
			break;
		case OPT_INTERVAL:
		case OPT_DEBOUNCE:
		case OPT_POLL:
			if (ctl_duration_parse(optarg, c == OPT_INTERVAL ?
			    &f->interval_ms : c == OPT_POLL ? &f->poll_ms :
			    &f->debounce_ms) < 0) {
				fprintf(stderr, "stackd: --%s takes a duration "
				    "(500ms, 30s, 5m), got \"%s\"\n",
				    c == OPT_INTERVAL ? "interval" :
				    c == OPT_POLL ? "poll" : "debounce",
				    optarg);
				return 1;
			}
			break;
		case OPT_PRUNE_LIMIT:
			if (controller_prune_limit_option(optarg,
			    &f->prune_limit) < 0)
				return 1;
			break;
		case OPT_LOGFMT:
			f->has_format = true;
			if (log_format_parse(optarg, &f->format) < 0) {
				fprintf(stderr, "stackd: --log-format is text "
				    "or json\n");
				return 1;
			}
			break;
		case OPT_LOGLVL:
			f->has_level = true;
			if (log_level_parse(optarg, &f->level) < 0) {
				fprintf(stderr, "stackd: --log-level is debug, "
				    "info, warn or error\n");
				return 1;
			}
			break;
		case 'h':
			printf("%s", usage);
			return -1;
		default:
			fprintf(stderr, "%s", usage);
			return 1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "stackd: unexpected argument \"%s\"\n%s",
		    argv[optind], usage);
		return 1;
	}
	return 0;
}

static int
set(char **dst, const char *v)
{
	if (v == NULL)
		return 0;
	free(*dst);
	return (*dst = strdup(v)) ? 0 : ERR_NOMEM;
}

/* The one source --git or --dir make, keeping the name the config gave
 * it when it has one source (several are replaced by this one). */
static int
flag_source(struct ctl_config *c, const struct flags *f)
{
	char *name;

	if (c->nsources == 1) {
		name = c->sources[0].name;
		c->sources[0].name = NULL;
		ctl_source_config_release(&c->sources[0]);
		c->sources[0].name = name;
		return 0;
	}
	for (size_t i = 0; i < c->nsources; i++)
		ctl_source_config_release(&c->sources[i]);
	free(c->sources);
	c->nsources = 0;
	if ((c->sources = calloc(1, sizeof(*c->sources))) == NULL ||
	    (c->sources[0].name = strdup(f->git != NULL ? "git" : "dir")) ==
	    NULL)
		return ERR_NOMEM;
	c->nsources = 1;
	return 0;
}

/* --git or --dir replace the config file's source; the other git flags
 * change a git source. */
static int
source_flags(struct ctl_config *c, const struct flags *f)
{
	struct ctl_source_config *s;
	struct ctl_git_config *g;

	if ((f->dir != NULL || f->git != NULL) && flag_source(c, f) < 0)
		return ERR_NOMEM;
	if (set(&c->state_dir, f->state_dir) < 0)
		return ERR_NOMEM;
	if (c->nsources == 0)
		return 0;
	s = &c->sources[0];
	g = &s->git;
	if (set(&s->dir, f->dir) < 0 || set(&g->url, f->git) < 0 ||
	    set(&g->ref, f->ref) < 0 || set(&g->path, f->path) < 0 ||
	    set(&g->username, f->git_user) < 0 ||
	    set(&g->token_file, f->git_token) < 0 ||
	    set(&g->ssh_key, f->git_key) < 0 ||
	    set(&g->known_hosts, f->git_hosts) < 0 ||
	    set(&g->ca_file, f->git_ca) < 0 ||
	    set(&g->webhook_secret_file, f->hook_secret) < 0)
		return ERR_NOMEM;
	g->poll_ms = f->poll_ms ? f->poll_ms : g->poll_ms;
	s->debounce_ms = f->debounce_ms ? f->debounce_ms : s->debounce_ms;
	return 0;
}

/* The config file (if any), then the flags over it, then defaults. */
static int
configure(struct ctl_config *c, const struct flags *f, struct err *err)
{
	int rc;

	if ((rc = ctl_config_load(c, f->config, err)) < 0)
		return rc;
	if (f->dir != NULL && f->git != NULL)
		return err_set(err, ERR_INVALID, "give --dir or --git, not "
		    "both");
	if (source_flags(c, f) < 0 || set(&c->listen, f->listen) < 0 ||
	    set(&c->owner, f->owner) < 0 ||
	    set(&c->token_file, f->token_file) < 0 ||
	    set(&c->registry_secret_file, f->registry_secret) < 0 ||
	    set(&c->notify_url, f->notify_url) < 0)
		return err_set(err, ERR_NOMEM, "out of memory");
	c->interval_ms = f->interval_ms ? f->interval_ms : c->interval_ms;
	c->keep_replicas |= f->keep;
	c->prune_secrets |= f->prune;
	c->allow_empty |= f->empty;
	c->prune_limit = f->prune_limit ? f->prune_limit : c->prune_limit;
	c->env_inherit |= f->inherit;
	c->strict_vars |= f->strict;
	if (f->has_interp)
		c->interp = f->interp;
	if (f->has_resolve)
		c->resolve = f->resolve;
	if (f->has_image_poll)
		c->image_poll_ms = f->image_poll_ms > 0 ? f->image_poll_ms :
		    CTL_IMAGE_POLL_EVERY;
	if (f->has_format)
		c->log_format = f->format;
	if (f->has_level)
		c->log_level = f->level;
	if (c->listen == NULL && set(&c->listen, "127.0.0.1:9090") < 0)
		return err_set(err, ERR_NOMEM, "out of memory");
	return ctl_config_defaults(c, f->host, err);
}

static void
stop_workers(struct ctl_daemon *d)
{
	for (size_t i = 0; i < d->nworkers; i++)
		ctl_worker_join(d->workers[i]);
	free(d->workers);
	d->workers = NULL;
	d->nworkers = 0;
}

static void
release_engines(struct ctl_state *st)
{
	for (size_t i = 0; i < st->nengines; i++) {
		free(st->engines[i].error);
		cJSON_Delete(st->engines[i].stacks);
	}
	free(st->engines);
	st->engines = NULL;
	st->nengines = 0;
}

/* Engine states for d->cfg's engines, then their workers.  Signals are
 * blocked in every thread but the main one. */
static int
start_workers(struct ctl_daemon *d, struct err *err)
{
	struct ctl_state *st = &d->st;
	sigset_t all, old;
	int rc = 0;

	pthread_mutex_lock(&st->mu);
	release_engines(st);
	st->engines = calloc(d->cfg->nengines, sizeof(*st->engines));
	st->nengines = st->engines ? d->cfg->nengines : 0;
	for (size_t i = 0; i < st->nengines; i++) {
		st->engines[i].name = d->cfg->engines[i].name;
		st->engines[i].host = d->cfg->engines[i].host;
		st->engines[i].stacks = cJSON_CreateObject();
	}
	pthread_mutex_unlock(&st->mu);
	if ((d->workers = calloc(d->cfg->nengines, sizeof(*d->workers))) ==
	    NULL || st->engines == NULL)
		return err_set(err, ERR_NOMEM, "out of memory");
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (size_t i = 0; i < d->cfg->nengines && rc == 0; i++) {
		rc = ctl_worker_start(&d->workers[i], d, i, err);
		d->nworkers += rc == 0;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

static void
kick_all(struct ctl_daemon *d)
{
	for (size_t i = 0; i < d->nworkers; i++)
		ctl_worker_kick(d->workers[i]);
}

static int
start_notifier(struct ctl_daemon *d, struct err *err)
{
	struct ctl_notifier *n;
	int rc;

	if ((rc = ctl_notifier_start(&n, d->cfg, err)) < 0)
		return rc;
	pthread_mutex_lock(&d->st.mu);
	d->st.notifier = n;
	pthread_mutex_unlock(&d->st.mu);
	return 0;
}

static bool
same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static bool
same_sources(const struct ctl_config *a, const struct ctl_config *b)
{
	if (a->nsources != b->nsources)
		return false;
	for (size_t i = 0; i < a->nsources; i++)
		if (!same_str(a->sources[i].name, b->sources[i].name) ||
		    !same_str(a->sources[i].dir, b->sources[i].dir) ||
		    !same_str(a->sources[i].git.url, b->sources[i].git.url) ||
		    !same_str(a->sources[i].git.ref, b->sources[i].git.ref))
			return false;
	return true;
}

/* SIGHUP: a new config, all or nothing.  The sources and the status
 * listener stay as they were started. */
static void
reload(struct ctl_daemon *d, const struct flags *f)
{
	struct ctl_config *next = calloc(1, sizeof(*next)), *old;
	struct ctl_notifier *notifier;
	struct err err;

	if (next == NULL)
		return;
	if (f->config == NULL || configure(next, f, &err) < 0) {
		if (f->config != NULL)
			log_event(LOG_ERROR, NULL, NULL, NULL, "reload "
			    "refused, the running config stays: %s", err.msg);
		else
			log_event(LOG_INFO, NULL, NULL, NULL, "SIGHUP: "
			    "reconciling every stack now");
		ctl_config_release(next);
		free(next);
		kick_all(d);
		return;
	}
	stop_workers(d);
	/* The state borrows the engine names of the config going away. */
	pthread_mutex_lock(&d->st.mu);
	release_engines(&d->st);
	notifier = d->st.notifier;
	d->st.notifier = NULL;
	pthread_mutex_unlock(&d->st.mu);
	ctl_notifier_stop(notifier);
	/* The source threads read the config under the state lock. */
	pthread_mutex_lock(&d->st.mu);
	old = d->cfg;
	d->cfg = next;
	for (size_t i = 0; i < d->st.nsources; i++)
		d->st.sources[i].nstacks = ctl_stacks_count(next,
		    d->st.sources[i].snap, d->st.sources[i].name);
	pthread_mutex_unlock(&d->st.mu);
	if (!same_sources(old, next))
		log_event(LOG_WARN, NULL, NULL, NULL, "reload: the sources "
		    "stay as started; a change to sources: takes effect at "
		    "the next start");
	ctl_config_release(old);
	free(old);
	log_setup(stderr, next->log_format, next->log_level);
	if (start_notifier(d, &err) < 0 || start_workers(d, &err) < 0)
		log_event(LOG_ERROR, NULL, NULL, NULL, "reload: %s", err.msg);
	else
		log_event(LOG_INFO, NULL, NULL, NULL, "config %s reloaded: "
		    "%zu engine%s", next->path, next->nengines,
		    next->nengines == 1 ? "" : "s");
}

/* The main thread: signals, and the sources' word that a new snapshot
 * is in (the workers are the main thread's to start and stop). */
static void
main_loop(struct ctl_daemon *d, int wake_fd, const struct flags *f)
{
	struct pollfd p = { .fd = wake_fd, .events = POLLIN };
	uint64_t n;

	while (!got_stop) {
		if (poll(&p, 1, 500) > 0 && read(wake_fd, &n, sizeof(n)) > 0)
			kick_all(d);
		if (got_hup) {
			got_hup = 0;
			reload(d, f);
		}
	}
}

static void
signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

static int
daemon_run(struct ctl_daemon *d, const struct flags *f)
{
	struct ctl_status_server *srv = NULL;
	struct err err;
	sigset_t all, old;
	int rc, wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	if (wake_fd < 0) {
		rc = err_set(&err, ERR_FAIL, "eventfd: %s", strerror(errno));
		goto out;
	}
	d->st.wake_fd = wake_fd;
	if ((rc = secret_read_file(&d->st.token, d->cfg->token_file,
	    "status token", &err)) < 0 ||
	    (rc = secret_read_file(&d->st.registry_secret,
	    d->cfg->registry_secret_file, "registry webhook secret",
	    &err)) < 0 ||
	    (rc = ctl_sources_open(d, &got_stop, &err)) < 0)
		goto out;
	if (*d->cfg->listen != '\0') {
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		rc = ctl_status_start(&srv, d->cfg->listen, &d->st, &err);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (rc < 0)
			goto out;
		log_event(LOG_INFO, NULL, NULL, NULL, "status page on "
		    "http://%s/", d->cfg->listen);
	}
	if ((rc = start_notifier(d, &err)) < 0 ||
	    (rc = start_workers(d, &err)) < 0 ||
	    (rc = ctl_sources_watch(d, wake_fd, &got_stop, &err)) < 0)
		goto out;
	log_event(LOG_INFO, NULL, NULL, NULL, "stackd %s watching %s%s, %zu "
	    "engine%s, owner %s", STACKD_VERSION, d->st.sources[0].location,
	    d->st.nsources > 1 ? " and more" : "", d->nworkers,
	    d->nworkers == 1 ? "" : "s", d->cfg->owner ? d->cfg->owner :
	    "stackd");
	main_loop(d, wake_fd, f);
	log_event(LOG_INFO, NULL, NULL, NULL, "stopping: finishing the "
	    "cycles in flight");
out:
	if (rc < 0)
		log_event(LOG_ERROR, NULL, NULL, NULL, "%s", err.msg);
	got_stop = 1;	/* the source threads, after an error */
	stop_workers(d);
	ctl_status_stop(srv);
	ctl_notifier_stop(d->st.notifier);
	d->st.notifier = NULL;
	ctl_sources_close(&d->st);
	if (wake_fd >= 0)
		close(wake_fd);
	return rc < 0 ? 1 : 0;
}

static const char validate_usage[] =
    "usage: stackd validate [-c FILE] [--dir DIR | --git URL [--ref REF]\n"
    "                       [--path SUBDIR] [--git-username NAME]\n"
    "                       [--git-token-file FILE] [--git-ca-file FILE]\n"
    "                       [--git-ssh-key FILE] [--git-known-hosts FILE]]\n"
    "                       [--env-inherit] [--strict-vars]\n"
    "                       [--interpolation docker-cli|compose-spec]\n"
    "\n"
    "Check a config file and load every stack of its source (a git source\n"
    "is fetched into a temporary cache), without touching an engine.\n"
    "Exit status: 0 all good, 1 any error.\n";

/* The stack's policies that are not the defaults, into out:
 * " (keep_replicas, prune: false, resolve_image: never)", or "". */
static const char *
policy_text(const struct ctl_config *c, const char *source,
    const char *stack, char *out, size_t size)
{
	struct recon_options ro = { .keep_replicas = c->keep_replicas };
	enum images_mode m = ctl_stacks_resolve(c, source, stack);
	char resolve[40] = "";

	ctl_stacks_policy(c, stack, &ro);
	if (m != IMAGES_ALWAYS)
		snprintf(resolve, sizeof(resolve), "resolve_image: %s",
		    images_mode_name(m));
	snprintf(out, size, "%s%s%s%s%s%s%s", ro.keep_replicas || ro.no_prune ||
	    *resolve ? " (" : "", ro.keep_replicas ? "keep_replicas" : "",
	    ro.keep_replicas && (ro.no_prune || *resolve) ? ", " : "",
	    ro.no_prune ? "prune: false" : "", ro.no_prune && *resolve ? ", " :
	    "", resolve, ro.keep_replicas || ro.no_prune || *resolve ? ")" : "");
	return out;
}

/* stacks.engines naming a stack no source holds: a typo, most likely,
 * that would leave the real stack on every engine.  names: every stack
 * of every source. */
static void
warn_untargeted(const struct ctl_config *c, const cJSON *names)
{
	const cJSON *t;

	cJSON_ArrayForEach(t, c->targets)
		if (!cJSON_HasObjectItem(names, t->string))
			fprintf(stderr, "stackd: warning: stacks.engines names "
			    "stack %s, which no source holds\n", t->string);
}

/* Load one stack as the workers would; names maps stack -> source, to
 * catch a stack two sources hold. */
static int
validate_stack(const struct ctl_config *c, const struct sources_stack *s,
    const char *source, const struct sources_snapshot *snap,
    cJSON *names)
{
	struct compose_options base = { .env_inherit = c->env_inherit,
	    .strict_vars = c->strict_vars, .interp = c->interp }, o;
	struct compose_stack *st = NULL;
	const char *other = cJSON_GetStringValue(cJSON_GetObjectItem(names,
	    s->name));
	struct err err;
	char policies[128];

	if (other != NULL) {
		fprintf(stderr, "stackd: stack %s is in sources %s and %s; a "
		    "stack may come from one source only\n", s->name, other,
		    source);
		return 1;
	}
	cJSON_AddStringToObject(names, s->name, source);
	ctl_stack_compose_options(&o, &base, s, snap->root, c, source);
	if (s->error != NULL || compose_stack_load(&st, &o, &err) < 0) {
		fprintf(stderr, "stackd: stack %s: %s\n", s->name,
		    s->error ? s->error : err.msg);
		return 1;
	}
	printf("stack %s: ok, %d service%s%s\n", s->name,
	    cJSON_GetArraySize(st->services),
	    cJSON_GetArraySize(st->services) == 1 ? "" : "s",
	    policy_text(c, source, s->name, policies, sizeof(policies)));
	for (size_t w = 0; w < st->nwarnings; w++)
		fprintf(stderr, "stackd: warning: stack %s: %s\n", s->name,
		    st->warnings[w]);
	compose_stack_free(st);
	return 0;
}

/* Load every stack of source i; returns how many failed. */
static int
validate_source(const struct ctl_config *c, size_t i, cJSON *names)
{
	const char *name = c->sources[i].name;
	struct sources_snapshot *snap = NULL;
	struct sources_list listed = { 0 };
	const struct sources_list *all;
	char tmp[4096] = "";
	struct err err = { 0 };
	int failed = 0;

	if (ctl_source_read(c, i, &snap, tmp, &err) < 0 || snap == NULL) {
		fprintf(stderr, "stackd: source %s: %s\n", name,
		    snap == NULL && err.msg[0] == '\0' ? "nothing read" :
		    err.msg);
		failed = 1;
	} else if (snap->subject != NULL) {
		printf("source %s: commit %.12s \"%s\" by %s\n", name,
		    snap->revision, snap->subject,
		    snap->author ? snap->author : "?");
	}
	if (snap != NULL && c->stack_list != NULL &&
	    ctl_stacks_listed(&listed, c, snap, name) < 0) {
		fprintf(stderr, "stackd: out of memory\n");
		failed = 1;
	}
	all = c->stack_list != NULL ? &listed : snap ? &snap->list : NULL;
	for (size_t k = 0; all != NULL && k < all->n; k++)
		failed += validate_stack(c, &all->stacks[k], name, snap, names);
	sources_list_release(&listed);
	sources_snapshot_unref(snap);
	if (*tmp != '\0')
		sources_remove_tree(tmp);
	return failed;
}

/* Load every stack of every source, as the workers would. */
static int
validate_stacks(struct ctl_config *c)
{
	cJSON *names = cJSON_CreateObject();
	int failed = 0;

	for (size_t i = 0; i < c->nsources; i++)
		failed += validate_source(c, i, names);
	warn_untargeted(c, names);
	cJSON_Delete(names);
	return failed ? 1 : 0;
}

int
controller_cmd_validate(int argc, char **argv)
{
	struct ctl_config c;
	struct flags f;
	struct err err;
	int rc;

	if ((rc = parse_flags(&f, argc, argv, validate_usage)) != 0)
		return rc < 0 ? 0 : 1;
	if (configure(&c, &f, &err) < 0) {
		fprintf(stderr, "stackd: %s\n", err.msg);
		ctl_config_release(&c);
		return 1;
	}
	if (f.config != NULL)
		printf("config %s: ok, %zu engine%s\n", f.config, c.nengines,
		    c.nengines == 1 ? "" : "s");
	rc = validate_stacks(&c);
	ctl_config_release(&c);
	return rc;
}

/* The daemon holds tokens, webhook secrets and secret file contents in
 * memory: a core dump (or another process of the same user reading
 * /proc/PID/mem) must not carry them off. */
static void
no_core_dumps(void)
{
	struct rlimit none = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &none) < 0 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		log_event(LOG_WARN, NULL, NULL, NULL, "cannot turn core dumps "
		    "off: %s", strerror(errno));
}

int
controller_cmd_run(int argc, char **argv)
{
	struct ctl_daemon d = { 0 };
	struct flags f;
	struct err err;
	int rc;

	if ((rc = parse_flags(&f, argc, argv, run_usage)) != 0)
		return rc < 0 ? 0 : 1;
	if ((d.cfg = calloc(1, sizeof(*d.cfg))) == NULL)
		return 1;
	if (configure(d.cfg, &f, &err) < 0) {
		fprintf(stderr, "stackd: %s\n", err.msg);
		ctl_config_release(d.cfg);
		free(d.cfg);
		return 1;
	}
	log_setup(stderr, d.cfg->log_format, d.cfg->log_level);
	no_core_dumps();
	pthread_mutex_init(&d.st.mu, NULL);
	d.st.started = (long long)time(NULL);
	signals();
	rc = daemon_run(&d, &f);
	release_engines(&d.st);
	secret_free(d.st.token);
	secret_free(d.st.registry_secret);
	pthread_mutex_destroy(&d.st.mu);
	ctl_config_release(d.cfg);
	free(d.cfg);
	return rc;
}
