/*
 * secret.h - tokens, passwords and webhook secrets read from files or
 * the environment, the one way: the first line, trailing whitespace
 * trimmed, and never empty.  They never appear in a message.
 */
#ifndef STACKD_SECRET_H
#define STACKD_SECRET_H

#include "err.h"

/* The secret in file path; what names it in errors ("status token").
 * path NULL: *out NULL and 0. */
int secret_read_file(char **out, const char *path, const char *what,
    struct err *err);
/* The secret in environment variable name. */
int secret_read_env(char **out, const char *name, const char *what,
    struct err *err);
/* Wipe, then free.  NULL is a no-op. */
void secret_free(char *s);

#endif
