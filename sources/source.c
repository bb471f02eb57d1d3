/*
 * source.c - one interface over directory and git sources (sources.h).
 */
#include <stdlib.h>

#include "alloc.h"
#include "sources.h"

struct sources_source {
	enum sources_kind kind;
	struct sources_dir *dir;
	struct sources_git *git;
};

int
sources_open(struct sources_source **out, const struct sources_opts *o,
    struct err *err)
{
	struct sources_source *s = xcalloc(1, sizeof(*s));
	int rc;

	*out = NULL;
	s->kind = o->kind;
	rc = o->kind == SOURCES_GIT ? sources_git_open(&s->git, &o->git, err) :
	    sources_dir_open(&s->dir, &o->dir, err);
	if (rc < 0) {
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int
sources_next(struct sources_source *s, struct sources_snapshot **out,
    int timeout_ms, struct err *err)
{
	if (s->kind == SOURCES_GIT)
		return sources_git_next(s->git, out, timeout_ms, err);
	return sources_dir_next(s->dir, out, timeout_ms, err);
}

void
sources_trigger(struct sources_source *s)
{
	if (s == NULL)
		return;
	if (s->kind == SOURCES_GIT)
		sources_git_trigger(s->git);
	else
		sources_dir_trigger(s->dir);
}

struct sources_git *
sources_git_of(struct sources_source *s)
{
	return s != NULL ? s->git : NULL;
}

void
sources_free(struct sources_source *s)
{
	if (s == NULL)
		return;
	sources_git_free(s->git);
	sources_dir_free(s->dir);
	free(s);
}

void
sources_git_opts_release(struct sources_git_opts *o)
{
	char **strings[] = { &o->url, &o->ref, &o->subpath, &o->cache_dir,
	    &o->username, &o->token_file, &o->token_env, &o->ssh_key,
	    &o->ssh_passphrase_file, &o->known_hosts, &o->ca_file };

	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		free(*strings[i]);
		*strings[i] = NULL;
	}
}
