/*
 * sources.h - where stack files come from.
 *
 * Discovery in a source root: each subdirectory NAME/ holding compose.yaml,
 * compose.yml, docker-compose.yaml, docker-compose.yml or stack.yml is the
 * stack NAME, with vars.yaml / vars.yml / *.vars.yaml beside it (and .env,
 * which the compose loader reads itself); a top-level NAME.yml or
 * NAME.yaml is a single-file stack.  Hidden files and editor leftovers are
 * skipped.  A bad stack name is an error of that stack only.
 */
#ifndef STACKD_SOURCES_H
#define STACKD_SOURCES_H

#include <stddef.h>

#include "err.h"

struct sources_stack {
	char *name;
	char *file;		/* the compose file */
	char **var_files;	/* sorted */
	size_t nvar_files;
	char *error;		/* set when this stack cannot be used */
};

struct sources_list {
	struct sources_stack *stacks;	/* sorted by name */
	size_t n;
};

/* Discover the stacks under root.  Fails only when root itself cannot be
 * read: per-stack problems are in stacks[i].error. */
int sources_discover(struct sources_list *out, const char *root,
    struct err *err);
void sources_list_release(struct sources_list *l);

#endif
