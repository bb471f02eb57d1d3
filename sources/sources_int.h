/*
 * sources_int.h - helpers shared by the files of sources/.
 */
#ifndef STACKD_SOURCES_INT_H
#define STACKD_SOURCES_INT_H

#include <stdbool.h>

#include "sources.h"

/* Hidden files, editor backups and swap files, ..data symlink farms. */
bool sources_name_skipped(const char *name);

/* Directories deeper than this under a root are not read (a symlink loop
 * ends here too). */
#define SOURCES_DEPTH_MAX 16

/* A snapshot of the stacks under root, at a revision the caller names
 * (a git commit).  owned_dir, when not NULL, is removed with the last
 * reference: the export the snapshot was read from. */
int sources_snapshot_new(struct sources_snapshot **out, const char *root,
    const char *revision, const char *owned_dir, struct err *err);

#endif
