/*
 * config_int.h - what the files reading stackd.yaml share: the reader
 * (the file's directory, the error record) and its typed readers, each
 * 0 or a negative ERR_* with the key path, file, line and column in the
 * error (config_read.c); the stacks: section (config_stacks.c).
 */
#ifndef STACKD_CONFIG_INT_H
#define STACKD_CONFIG_INT_H

#include "controller.h"

struct reader {
	char *dir;		/* the config file's directory */
	struct err *err;
};


int cfg_bad(struct reader *r, const struct ynode *n, const char *path,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Every key of map n must be one of keys[] (NULL-terminated). */
int cfg_known_keys(struct reader *r, const struct ynode *n, const char *path,
    const char *const *keys);
/* map[key], when present, into *out (replacing it). */
int cfg_get_str(struct reader *r, const struct ynode *map, const char *key,
    const char *path, char **out);
/* A path, taken from the config file's directory when relative. */
int cfg_get_path(struct reader *r, const struct ynode *map, const char *key,
    const char *path, char **out);
int cfg_get_bool(struct reader *r, const struct ynode *map, const char *key,
    const char *path, bool *out);
/* A duration (ctl_duration_parse), more than 0. */
int cfg_get_duration(struct reader *r, const struct ynode *map,
    const char *key, const char *path, int *out);
/* interpolation: and resolve_image: of map; *set (may be NULL) tells it
 * was there. */
int cfg_get_interp(struct reader *r, const struct ynode *map,
    const char *path, enum compose_interp_mode *out, bool *set);
int cfg_get_resolve(struct reader *r, const struct ynode *map,
    const char *path, enum images_mode *out, bool *set);

/* stacks: its policies, engines and list (config_stacks.c). */
int cfg_policies(struct reader *r, struct ctl_config *c,
    const struct ynode *n);

#endif
