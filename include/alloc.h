/*
 * alloc.h - the out-of-memory policy: an allocation that fails ends the
 * process (with one line on stderr), as redis and git do.  A daemon that
 * cannot allocate a few bytes cannot report, plan or roll back either;
 * systemd (or the swarm) starts it again.  So no caller checks these for
 * NULL, and cJSON allocates through them too (alloc_hooks_install), which
 * makes its create and add calls infallible.
 *
 * ERR_NOMEM stays for limits stackd sets itself (a bounded buffer full).
 */
#ifndef STACKD_ALLOC_H
#define STACKD_ALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Replace the string *dst owns by a copy of s (NULL: none). */
void xstrset(char **dst, const char *s);

/* What they do when memory runs out; for a library (libyaml, OpenSSL)
 * that reports it instead. */
_Noreturn void alloc_fail(void);

/* Route cJSON's allocations through xmalloc (once, before any thread). */
void alloc_hooks_install(void);

#endif
