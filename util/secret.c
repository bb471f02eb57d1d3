/*
 * secret.c - see secret.h.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "alloc.h"
#include "secret.h"

/* Longer than any token or passphrase: the rest of a line is ignored. */
#define SECRET_MAX 8192

/* s (owned) trimmed and checked; where says where it came from. */
static int
finish(char **out, char *s, const char *what, const char *where,
    struct err *err)
{
	size_t len;

	len = strlen(s);
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		s[--len] = '\0';
	if (len == 0) {
		secret_free(s);
		return err_set(err, ERR_INVALID, "%s %s is empty", what,
		    where);
	}
	*out = s;
	return 0;
}

int
secret_read_file(char **out, const char *path, const char *what,
    struct err *err)
{
	char where[4200];
	char *s;
	FILE *f;

	*out = NULL;
	if (path == NULL)
		return 0;
	if ((f = fopen(path, "re")) == NULL)
		return err_set(err, ERR_INVALID, "%s file %s: %s", what, path,
		    strerror(errno));
	s = xcalloc(1, SECRET_MAX);
	if (fgets(s, SECRET_MAX, f) == NULL)
		*s = '\0';
	fclose(f);
	snprintf(where, sizeof(where), "file %s", path);
	return finish(out, s, what, where, err);
}

int
secret_read_env(char **out, const char *name, const char *what,
    struct err *err)
{
	const char *v = getenv(name);
	char where[300];

	*out = NULL;
	if (v == NULL)
		return err_set(err, ERR_INVALID, "%s variable %s is not set",
		    what, name);
	snprintf(where, sizeof(where), "variable %s", name);
	return finish(out, xstrdup(v), what, where, err);
}

void
secret_free(char *s)
{
	if (s != NULL)
		OPENSSL_cleanse(s, strlen(s));
	free(s);
}
