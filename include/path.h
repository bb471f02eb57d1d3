/*
 * path.h - file names put together.
 */
#ifndef STACKD_PATH_H
#define STACKD_PATH_H

/* "dir/name", allocated (never NULL: see alloc.h); caller frees. */
char *path_join(const char *dir, const char *name);

#endif
