/*
 * source.c - the daemon's source: opened from the config, each delivery
 * published to the engine workers and the status documents.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "controller_int.h"

int
ctl_state_dir(const struct ctl_config *c, char *out, size_t size)
{
	const char *sd = getenv("STATE_DIRECTORY"), *xdg, *home;

	if (c->state_dir != NULL)
		return snprintf(out, size, "%s", c->state_dir);
	/* systemd's StateDirectory= (the first, if it lists several). */
	if (sd != NULL && *sd != '\0')
		return snprintf(out, size, "%.*s", (int)strcspn(sd, ":"), sd);
	if (geteuid() == 0)
		return snprintf(out, size, "/var/lib/stackd");
	if ((xdg = getenv("XDG_STATE_HOME")) != NULL && *xdg == '/')
		return snprintf(out, size, "%s/stackd", xdg);
	home = getenv("HOME");
	return snprintf(out, size, "%s/.local/state/stackd", home ? home :
	    "/tmp");
}

int
ctl_source_options(const struct ctl_config *c, struct sources_opts *o,
    char *cache, size_t size, struct err *err)
{
	const struct ctl_git_config *g = &c->git;
	char state[4096];

	memset(o, 0, sizeof(*o));
	if (g->url == NULL) {
		o->kind = SOURCES_DIR;
		o->dir.root = c->dir;
		o->dir.debounce_ms = c->debounce_ms;
		o->dir.rescan_ms = c->rescan_ms;
		return 0;
	}
	ctl_state_dir(c, state, sizeof(state));
	if (snprintf(cache, size, "%s/git/%s", state, c->source_name) >=
	    (int)size)
		return err_set(err, ERR_INVALID, "state directory path too "
		    "long: %s", state);
	o->kind = SOURCES_GIT;
	o->git = (struct sources_git_opts){ .url = g->url, .ref = g->ref,
	    .subpath = g->path, .cache_dir = cache, .poll_ms = g->poll_ms,
	    .timeout_ms = g->timeout_ms, .username = g->username,
	    .token_file = g->token_file, .token_env = g->token_env,
	    .ssh_key = g->ssh_key,
	    .ssh_passphrase_file = g->ssh_passphrase_file,
	    .known_hosts = g->known_hosts, .ca_file = g->ca_file };
	return 0;
}

/* "https://host/ops.git @ main /swarm": where the stacks come from. */
static char *
location(const struct ctl_config *c)
{
	char safe[2048], loc[4096];

	if (c->git.url == NULL)
		return strdup(c->dir);
	sources_git_url_redact(safe, sizeof(safe), c->git.url);
	snprintf(loc, sizeof(loc), "%s @ %s%s%s", safe, c->git.ref ?
	    c->git.ref : "HEAD", c->git.path ? " /" : "",
	    c->git.path ? c->git.path : "");
	return strdup(loc);
}

int
ctl_source_start(struct ctl_daemon *d, struct sources_source **out,
    const volatile sig_atomic_t *cancel, struct err *err)
{
	struct ctl_source_state *s = &d->st.source;
	struct sources_opts o;
	char cache[4096];
	int rc;

	*out = NULL;
	s->kind = d->cfg->git.url != NULL ? "git" : "dir";
	if ((s->name = strdup(d->cfg->source_name)) == NULL ||
	    (s->location = location(d->cfg)) == NULL)
		return err_set(err, ERR_NOMEM, "out of memory");
	if ((rc = ctl_source_options(d->cfg, &o, cache, sizeof(cache),
	    err)) < 0)
		return rc;
	o.git.cancel = cancel;
	return sources_open(out, &o, err);
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

bool
ctl_source_publish(struct ctl_daemon *d, struct sources_source *src,
    struct sources_snapshot *snap, int rc, const struct err *err)
{
	struct ctl_source_state *s = &d->st.source;
	struct sources_git *git = sources_git_of(src);

	pthread_mutex_lock(&d->st.mu);
	if (git != NULL)
		sources_git_stats(git, &s->git);
	if (rc == 0) {
		/* A fetch that worked again, with nothing new. */
		if (git != NULL && s->error != NULL && s->git.fetches > 0 &&
		    !s->git.last_failed) {
			log_event(LOG_INFO, NULL, NULL, NULL, "source %s: "
			    "fetched again, no new commit", s->name);
			free(s->error);
			s->error = NULL;
		}
		pthread_mutex_unlock(&d->st.mu);
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
		s->error = strdup(err->msg);
	} else {
		s->nstacks = ctl_stacks_count(d->cfg, snap);
		log_snapshot(s, snap);
		sources_snapshot_unref(s->snap);
		s->snap = snap;
		s->snapshots++;
		free(s->error);
		s->error = NULL;
		d->st.generation++;
	}
	pthread_mutex_unlock(&d->st.mu);
	return rc > 0;
}

int
ctl_source_read(struct ctl_config *c, struct sources_snapshot **out,
    char tmp[4096], struct err *err)
{
	char cache[4096];
	const char *t = getenv("TMPDIR");
	struct sources_source *src = NULL;
	struct sources_opts o;
	int rc;

	*out = NULL;
	if (c->git.url == NULL)
		return sources_dir_snapshot(out, c->dir, err);
	snprintf(tmp, 4096, "%s/stackd-validate.XXXXXX", t && *t ?
	    t : "/tmp");
	if (mkdtemp(tmp) == NULL)
		return err_set(err, ERR_FAIL, "cannot create %s: %s", tmp,
		    strerror(errno));
	free(c->state_dir);
	if ((c->state_dir = strdup(tmp)) == NULL)
		rc = err_set(err, ERR_NOMEM, "out of memory");
	else if ((rc = ctl_source_options(c, &o, cache, sizeof(cache),
	    err)) == 0 && (rc = sources_open(&src, &o, err)) == 0)
		rc = sources_next(src, out, 0, err);
	sources_free(src);
	return rc < 0 ? rc : 0;
}
