/*
 * path.h - file names (and key paths) put together and taken apart.
 */
#ifndef STACKD_PATH_H
#define STACKD_PATH_H

#include <stdbool.h>

/* "dir/name", allocated (never NULL: see alloc.h); caller frees. */
char *path_join(const char *dir, const char *name);
/* Does s end with suffix ("a.yml", ".yml"; "x.Spec.Image", ".Image")? */
bool path_has_suffix(const char *s, const char *suffix);

#endif
