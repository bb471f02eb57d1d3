/*
 * source_watch.c - the daemon's sources: opened from the config, each watched
 * by a thread of its own (a git fetch of one never holds up another),
 * each delivery published to the status documents, and the main thread
 * woken to kick the engine workers.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "daemon.h"
#include "sandbox.h"
#include "secret.h"

static char *
location(const struct ctl_source_config *s)
{
	const struct sources_git_opts *g = &s->git;
	char safe[2048], loc[4096];

	if (g->url == NULL)
		return xstrdup(s->dir);
	sources_git_url_redact(safe, sizeof(safe), g->url);
	snprintf(loc, sizeof(loc), "%s @ %s%s%s", safe, g->ref ? g->ref :
	    "HEAD", g->subpath ? " /" : "", g->subpath ? g->subpath : "");
	return xstrdup(loc);
}

static int
source_open(struct ctl_daemon *d, size_t i,
    const atomic_int *cancel, struct err *err)
{
	const struct ctl_source_config *sc = &d->cfg->sources[i];
	struct ctl_source_state *s = &d->st.sources[i];
	struct sources_opts o;
	char cache[4096];
	int rc;

	s->kind = sc->git.url != NULL ? "git" : "dir";
	s->name = xstrdup(sc->name);
	s->location = location(sc);
	if ((rc = secret_read_file(&s->webhook_secret,
	    sc->webhook_secret_file, "webhook secret", err)) < 0 ||
	    (rc = ctl_source_options(d->cfg, sc, NULL, &o, cache,
	    sizeof(cache), err)) < 0)
		return rc;
	o.git.cancel = cancel;
	if ((rc = sources_open(&s->src, &o, err)) < 0)
		err_prefix(err, "source %s: ", s->name);
	return rc;
}

int
ctl_sources_open(struct ctl_daemon *d, const atomic_int *cancel,
    struct err *err)
{
	int rc;

	d->st.sources = xcalloc(d->cfg->nsources, sizeof(*d->st.sources));
	d->st.nsources = d->cfg->nsources;
	for (size_t i = 0; i < d->st.nsources; i++)
		if ((rc = source_open(d, i, cancel, err)) < 0)
			return rc;
	return 0;
}

static void
log_snapshot(const struct ctl_source_state *s,
    const struct sources_snapshot *snap)
{
	if (snap->subject != NULL)
		log_event(LOG_INFO, NULL, NULL, NULL, "source %s: commit "
		    "%.12s \"%s\" by %s, %zu stack%s", s->name,
		    snap->revision, snap->subject, snap->author ?
		    snap->author : "?", s->nstacks,
		    s->nstacks == 1 ? "" : "s");
	else
		log_event(LOG_INFO, NULL, NULL, NULL, "source %s: revision "
		    "%.12s, %zu stack%s", s->name, snap->revision,
		    s->nstacks, s->nstacks == 1 ? "" : "s");
}

/* Once per source: what its fetch process could not confine (an old
 * kernel, a container's seccomp), as the status process says of its own. */
static void
say_fetch_sandbox(struct ctl_source_state *s)
{
	const struct sandbox_report *r = &s->git.sandbox;

	if (s->fetch_sandbox_said || !s->git.confined ||
	    s->git.fetches + s->git.fetch_errors == 0)
		return;
	s->fetch_sandbox_said = true;
	if (r->missing[0] != '\0')
		log_event(LOG_WARN, NULL, NULL, NULL, "source %s: the fetch "
		    "process runs without %s", s->name, r->missing);
}

/* What sources_next returned: a new snapshot (true: wake the workers),
 * an error (the last good snapshot stays), or nothing. */
static bool
publish(struct ctl_daemon *d, struct ctl_source_state *s,
    struct sources_snapshot *snap, int rc, const struct err *err)
{
	struct sources_git *git = sources_git_of(s->src);

	pthread_mutex_lock(&d->st.mu);
	if (git != NULL) {
		sources_git_stats(git, &s->git);
		say_fetch_sandbox(s);
	}
	if (rc > 0)
		s->by_webhook = s->hooks_accepted != s->hooks_seen;
	s->hooks_seen = s->hooks_accepted;
	if (rc == 0) {
		/* A fetch that worked again, with nothing new. */
		if (git != NULL && s->error != NULL && s->git.fetches > 0 &&
		    !s->git.last_failed) {
			log_event(LOG_INFO, NULL, NULL, NULL, "source %s: "
			    "fetched again, no new commit", s->name);
			free(s->error);
			s->error = NULL;
		}
		ctl_state_unlock(&d->st);
		return false;
	}
	s->last_read = (long long)time(NULL);
	if (rc < 0) {
		if (s->error == NULL || strcmp(s->error, err->msg) != 0)
			log_event(LOG_ERROR, NULL, NULL, NULL, "source %s: %s; "
			    "the last good revision stays in force", s->name,
			    err->msg);
		s->errors++;
		free(s->error);
		s->error = xstrdup(err->msg);
	} else {
		s->nstacks = ctl_stacks_count(d->cfg, snap, s->name);
		log_snapshot(s, snap);
		sources_snapshot_unref(s->snap);
		s->snap = snap;
		s->snapshots++;
		free(s->error);
		s->error = NULL;
		d->st.generation++;
	}
	ctl_state_unlock(&d->st);
	return rc > 0;
}

struct watcher {
	struct ctl_daemon *d;
	struct ctl_source_state *s;
	const atomic_int *stop;
	int wake_fd;
};

static void *
watch_main(void *arg)
{
	struct watcher *w = arg;
	struct sources_snapshot *snap;
	struct err err;
	const uint64_t one = 1;
	int rc;

	while (!*w->stop) {
		rc = sources_next(w->s->src, &snap, 500, &err);
		if (publish(w->d, w->s, snap, rc, &err) &&
		    write(w->wake_fd, &one, sizeof(one)) < 0)
			log_event(LOG_ERROR, NULL, NULL, NULL, "source %s: "
			    "cannot wake the workers: %s", w->s->name,
			    strerror(errno));
	}
	free(w);
	return NULL;
}

int
ctl_sources_watch(struct ctl_daemon *d, int wake_fd,
    const atomic_int *stop, struct err *err)
{
	sigset_t all, old;
	int rc = 0;

	/* Signals are the main thread's. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (size_t i = 0; rc == 0 && i < d->st.nsources; i++) {
		struct watcher *w = xmalloc(sizeof(*w));
		struct ctl_source_state *s = &d->st.sources[i];

		*w = (struct watcher){ .d = d, .s = s, .stop = stop,
		    .wake_fd = wake_fd };
		if (pthread_create(&s->thread, NULL, watch_main, w) != 0) {
			free(w);
			rc = err_set(err, ERR_FAIL, "cannot start a thread");
		} else {
			s->watching = true;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

void
ctl_sources_close(struct ctl_state *st)
{
	for (size_t i = 0; i < st->nsources; i++) {
		struct ctl_source_state *s = &st->sources[i];

		if (s->watching)
			pthread_join(s->thread, NULL);
		sources_free(s->src);
		sources_snapshot_unref(s->snap);
		secret_free(s->webhook_secret);
		free(s->error);
		free(s->name);
		free(s->location);
	}
	free(st->sources);
	st->sources = NULL;
	st->nsources = 0;
}
