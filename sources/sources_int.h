/*
 * sources_int.h - helpers shared by the files of sources/.
 */
#ifndef STACKD_SOURCES_INT_H
#define STACKD_SOURCES_INT_H

#include <stdbool.h>

/* Hidden files, editor backups and swap files, ..data symlink farms. */
bool sources_name_skipped(const char *name);
/* "dir/name", malloc'd, or NULL. */
char *sources_path_join(const char *dir, const char *name);

/* Directories deeper than this under a root are not read (a symlink loop
 * ends here too). */
#define SOURCES_DEPTH_MAX 16

#endif
