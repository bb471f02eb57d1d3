/*
 * buf.h - a growable byte buffer with a hard upper bound.
 *
 * Every buffer that holds peer-controlled data (engine replies, files from a
 * source) is bounded so that a hostile or broken peer costs an error, not
 * the process's memory.  The data is always NUL-terminated for convenience.
 */
#ifndef STACKD_BUF_H
#define STACKD_BUF_H

#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;	/* buf_append fails once len would exceed this */
};

void buf_init(struct buf *b, size_t max);
/* 0, or ERR_NOMEM when the data would pass the bound. */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_appendf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Drop the first n bytes (used by line readers). */
void buf_consume(struct buf *b, size_t n);
void buf_reset(struct buf *b);
/* Hand the data to the caller (who frees it; "" when there is none)
 * and reset the buffer. */
char *buf_steal(struct buf *b);
void buf_free(struct buf *b);

struct err;
/* Append the rest of the file open on fd: 0, ERR_NOMEM at the bound,
 * ERR_FAIL on a read error.  What passed through the stack is wiped:
 * the file may hold a secret. */
int buf_read_fd(struct buf *b, int fd);
/* The whole file at path, appended; errors name it as "[what ]path: ..."
 * (what: "registry auth file", or NULL): ERR_NOTFOUND, ERR_FAIL, or
 * ERR_NOMEM "larger than MAX bytes". */
int buf_read_file(struct buf *b, const char *path, const char *what,
    struct err *err);

#endif
