/*
 * frame.h - messages between stackd's processes (sandbox/frame.c): over a
 * stream socket (a socketpair), each message is a header of two 32-bit
 * words, its type and its length, then that many bytes.
 *
 * The receiver trusts nothing of the sender's: it names the types it
 * takes and the largest each may be, and a message of another type, a
 * length past its bound or one cut short is refused before any of its
 * payload is read or allocated.  A process that gets a refused message
 * from its peer stops talking to it (the peer is broken or taken over).
 */
#ifndef STACKD_FRAME_H
#define STACKD_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* A type a receiver takes, and the largest payload it takes of it. */
struct frame_rule {
	uint32_t type;
	uint32_t max;
};

struct frame {
	uint32_t type;
	uint32_t len;
	char *data;	/* len bytes and a NUL (for text), owned; NULL if 0 */
};

/*
 * Send one message: 0, or < 0 (ERR_FAIL: the peer is gone, reported,
 * never raised as SIGPIPE; ERR_INVALID: len past what a header holds).
 * Blocks until all of it is written; threads sharing fd serialize their
 * sends themselves.
 */
int frame_send(int fd, uint32_t type, const void *data, size_t len,
    struct err *err);

/*
 * Receive one message taken by rules (n of them) into *out (free with
 * frame_release): 0; 1 at a clean end of the stream (no byte of a next
 * message); < 0: ERR_PROTOCOL for a type not in rules, a length past its
 * rule's max, or a message cut short; ERR_FAIL for a read error.
 */
int frame_recv(int fd, const struct frame_rule *rules, size_t n,
    struct frame *out, struct err *err);

void frame_release(struct frame *f);

#endif
