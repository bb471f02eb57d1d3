/*
 * path.h - file names (and key paths) put together and taken apart.
 */
#ifndef STACKD_PATH_H
#define STACKD_PATH_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

/* "dir/name", allocated (never NULL: see alloc.h); caller frees. */
char *path_join(const char *dir, const char *name);
/* Does s end with suffix ("a.yml", ".yml"; "x.Spec.Image", ".Image")? */
bool path_has_suffix(const char *s, const char *suffix);

/* mkdir -p, each new directory private (0700). */
int path_mkdirs(const char *path, struct err *err);
/* Replace path's contents with data (0600): written beside it, synced,
 * then renamed over it, so a reader sees the old file or the new one. */
int path_write_atomic(const char *path, const char *data, size_t len,
    struct err *err);

#endif
