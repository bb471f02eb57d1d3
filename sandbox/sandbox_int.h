/*
 * sandbox_int.h - what the sandbox's files share.
 */
#ifndef STACKD_SANDBOX_INT_H
#define STACKD_SANDBOX_INT_H

#include "sandbox.h"

/* Restrict the calling process's file access to o's read_paths and
 * write_dirs (Landlock; no_new_privs set already): 0, or -1 with why in
 * r->missing (no Landlock in this kernel, a ruleset refused). */
int sandbox_landlock(const struct sandbox_opts *o, struct sandbox_report *r);

/* Add what to r->missing ("a; b"). */
void sandbox_missing(struct sandbox_report *r, const char *what);

#endif
