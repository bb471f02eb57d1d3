/*
 * source_opts.c - a configured source as the sources module takes it
 * (options, the state directory its git cache lives in), and read once
 * for the one-shot commands (plan -c, apply -c, validate).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "controller.h"
#include "secret.h"

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
ctl_source_options(const struct ctl_config *c,
    const struct ctl_source_config *s, const char *state,
    struct sources_opts *o, char *cache, size_t size, struct err *err)
{
	char dir[4096];

	memset(o, 0, sizeof(*o));
	if (s->git.url == NULL) {
		o->kind = SOURCES_DIR;
		o->dir.root = s->dir;
		o->dir.debounce_ms = s->debounce_ms;
		o->dir.rescan_ms = s->rescan_ms;
		return 0;
	}
	if (state == NULL) {
		ctl_state_dir(c, dir, sizeof(dir));
		state = dir;
	}
	if (snprintf(cache, size, "%s/git/%s", state, s->name) >= (int)size)
		return err_set(err, ERR_INVALID, "state directory path too "
		    "long: %s", state);
	o->kind = SOURCES_GIT;
	/* Borrowed: the config keeps owning every string. */
	o->git = s->git;
	o->git.cache_dir = cache;
	/* The binary is stackd's, so /proc/self/exe is `stackd git-fetch`. */
	o->git.confined = !c->no_sandbox;
	return 0;
}

/* "https://host/ops.git @ main /swarm": where the stacks come from. */

int
ctl_source_read(const struct ctl_config *c, size_t i,
    struct sources_snapshot **out, char tmp[4096], struct err *err)
{
	const struct ctl_source_config *s = &c->sources[i];
	const char *t = getenv("TMPDIR");
	struct sources_source *src = NULL;
	struct sources_opts o;
	char cache[4096];
	int rc;

	*out = NULL;
	*tmp = '\0';
	if (s->git.url == NULL)
		return sources_dir_snapshot(out, s->dir, err);
	snprintf(tmp, 4096, "%s/stackd-validate.XXXXXX", t && *t ?
	    t : "/tmp");
	if (mkdtemp(tmp) == NULL)
		return err_set(err, ERR_FAIL, "cannot create %s: %s", tmp,
		    strerror(errno));
	if ((rc = ctl_source_options(c, s, tmp, &o, cache, sizeof(cache),
	    err)) == 0 && (rc = sources_open(&src, &o, err)) == 0)
		rc = sources_next(src, out, 0, err);
	sources_free(src);
	return rc < 0 ? rc : 0;
}
