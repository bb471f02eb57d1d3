/*
 * lifecycle.c - `stackd run`: the controller daemon.
 *
 * Each source is watched by a thread of its own (source_watch.c); the main
 * thread hands each new snapshot to the engine workers (one thread each,
 * plus one for each engine's event stream); the status server answers
 * from its own thread.  SIGHUP reloads
 * the config file (a bad one is refused and the running one stays);
 * SIGTERM and SIGINT let every worker finish the cycle in flight, then
 * exit 0.
 */
#include <assert.h>
#include <errno.h>
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

#include "alloc.h"
#include "daemon.h"
#include "status.h"
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
    "                  [--sops-age-key-file FILE]\n"
    "                  [--log-format text|json]\n"
    "                  [--log-level debug|info|warn|error] [--no-sandbox]\n"
    "\n"
    "Keep every stack of a source in sync on every engine, until stopped.\n"
    "Without -c, watches --dir DIR or polls --git URL against DOCKER_HOST\n"
    "(or -H).  Options\n"
    "given on the command line override the config file.  The status page\n"
    "listens on 127.0.0.1:9090 unless --listen says otherwise (\"\" = off).\n";


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
		free(st->engines[i].address);
		free(st->engines[i].failover);
		cJSON_Delete(st->engines[i].stacks);
		cJSON_Delete(st->engines[i].syncs);
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
	st->engines = xcalloc(d->cfg->nengines, sizeof(*st->engines));
	st->nengines = d->cfg->nengines;
	for (size_t i = 0; i < st->nengines; i++) {
		st->engines[i].name = d->cfg->engines[i].name;
		st->engines[i].host = d->cfg->engines[i].host;
		st->engines[i].stacks = cJSON_CreateObject();
	}
	st->stack_changes++;
	ctl_state_unlock(st);
	d->workers = xcalloc(d->cfg->nengines, sizeof(*d->workers));
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
	ctl_state_unlock(&d->st);
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
reload(struct ctl_daemon *d, const struct ctl_flags *f)
{
	struct ctl_config *next = xcalloc(1, sizeof(*next)), *old;
	struct ctl_notifier *notifier;
	struct err err;

	if (next == NULL)
		return;
	if (f->config == NULL || ctl_flags_configure(next, f, &err) < 0) {
		if (f->config != NULL)
			log_event(LOG_ERROR, NULL, NULL, NULL, "reload "
			    "refused, the running config stays: %s", err.msg);
		else
			log_event(LOG_INFO, NULL, NULL, NULL, "SIGHUP: "
			    "reconciling every stack now");
		ctl_config_release(next);
		free(next);
		for (size_t i = 0; i < d->nworkers; i++)
			ctl_worker_reread(d->workers[i]);
		return;
	}
	stop_workers(d);
	/* The state borrows the engine names of the config going away. */
	pthread_mutex_lock(&d->st.mu);
	release_engines(&d->st);
	notifier = d->st.notifier;
	d->st.notifier = NULL;
	ctl_state_unlock(&d->st);
	ctl_notifier_stop(notifier);
	/* The source threads read the config under the state lock. */
	pthread_mutex_lock(&d->st.mu);
	old = d->cfg;
	d->cfg = next;
	for (size_t i = 0; i < d->st.nsources; i++)
		d->st.sources[i].nstacks = ctl_stacks_count(next,
		    d->st.sources[i].snap, d->st.sources[i].name);
	ctl_state_unlock(&d->st);
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
main_loop(struct ctl_daemon *d, int wake_fd, const struct ctl_flags *f)
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
daemon_run(struct ctl_daemon *d, const struct ctl_flags *f)
{
	struct ctl_status_server *srv = NULL;
	const struct ctl_status_opts so = { d->cfg->listen, d->cfg->status_user,
	    !d->cfg->no_sandbox, d->cfg->log_format, d->cfg->log_level };
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
		rc = ctl_status_start(&srv, &so, &d->st, &err);
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
	d->leaving = true;
	stop_workers(d);
	ctl_status_stop(srv);
	ctl_notifier_stop(d->st.notifier);
	d->st.notifier = NULL;
	ctl_sources_close(&d->st);
	if (wake_fd >= 0)
		close(wake_fd);
	return rc < 0 ? 1 : 0;
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
daemon_cmd_run(int argc, char **argv)
{
	struct ctl_daemon d = { 0 };
	struct ctl_flags f;
	struct err err;
	int rc;

	if ((rc = ctl_flags_parse(&f, argc, argv, run_usage)) != 0)
		return rc < 0 ? 0 : 1;
	d.cfg = xcalloc(1, sizeof(*d.cfg));
	if (ctl_flags_configure(d.cfg, &f, &err) < 0) {
		fprintf(stderr, "stackd: %s\n", err.msg);
		ctl_config_release(d.cfg);
		free(d.cfg);
		return 1;
	}
	log_setup(stderr, d.cfg->log_format, d.cfg->log_level);
	no_core_dumps();
	pthread_mutex_init(&d.st.mu, NULL);
	d.st.started = (long long)time(NULL);
	d.depends = cJSON_CreateObject();
	signals();
	rc = daemon_run(&d, &f);
	release_engines(&d.st);
	cJSON_Delete(d.depends);
	secret_free(d.st.token);
	secret_free(d.st.registry_secret);
	pthread_mutex_destroy(&d.st.mu);
	ctl_config_release(d.cfg);
	free(d.cfg);
	return rc;
}
