/*
 * frame.c - typed, size-checked messages over a stream socket.  The
 * header is in host order: both ends are the same program on the same
 * machine, never the network.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "alloc.h"
#include "frame.h"

/* All of iov out, past short writes and signals; MSG_NOSIGNAL: a peer
 * gone is an error to report, not a SIGPIPE. */
static int
send_all(int fd, struct iovec *iov, int n, struct err *err)
{
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = (size_t)n };

	while (m.msg_iovlen > 0) {
		ssize_t w = sendmsg(fd, &m, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return err_set(err, ERR_FAIL, "sending to the other "
			    "process: %s", strerror(errno));
		while (m.msg_iovlen > 0 && (size_t)w >= m.msg_iov->iov_len) {
			w -= (ssize_t)m.msg_iov->iov_len;
			m.msg_iov++;
			m.msg_iovlen--;
		}
		if (m.msg_iovlen > 0) {
			m.msg_iov->iov_base = (char *)m.msg_iov->iov_base + w;
			m.msg_iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

int
frame_send(int fd, uint32_t type, const void *data, size_t len,
    struct err *err)
{
	uint32_t h[2] = { type, (uint32_t)len };
	struct iovec iov[2] = { { h, sizeof(h) },
	    { (void *)(uintptr_t)data, len } };

	if (len > UINT32_MAX)
		return err_set(err, ERR_INVALID, "a message of %zu bytes is "
		    "past what a frame holds", len);
	return send_all(fd, iov, len > 0 ? 2 : 1, err);
}

/* Exactly len bytes into buf: 0; 1 at end of stream before the first
 * byte; ERR_PROTOCOL at end of stream after it. */
static int
recv_all(int fd, void *buf, size_t len, struct err *err)
{
	size_t got = 0;

	while (got < len) {
		ssize_t r = recv(fd, (char *)buf + got, len - got, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return err_set(err, ERR_FAIL, "reading from the other "
			    "process: %s", strerror(errno));
		if (r == 0)
			return got == 0 ? 1 : err_set(err, ERR_PROTOCOL,
			    "a message cut short after %zu of %zu bytes", got,
			    len);
		got += (size_t)r;
	}
	return 0;
}

static const struct frame_rule *
rule_of(const struct frame_rule *rules, size_t n, uint32_t type)
{
	for (size_t i = 0; i < n; i++)
		if (rules[i].type == type)
			return &rules[i];
	return NULL;
}

int
frame_recv(int fd, const struct frame_rule *rules, size_t n,
    struct frame *out, struct err *err)
{
	const struct frame_rule *r;
	uint32_t h[2];
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = recv_all(fd, h, sizeof(h), err)) != 0)
		return rc;
	if ((r = rule_of(rules, n, h[0])) == NULL)
		return err_set(err, ERR_PROTOCOL, "a message of unknown type "
		    "%u", (unsigned)h[0]);
	if (h[1] > r->max)
		return err_set(err, ERR_PROTOCOL, "a message of type %u and "
		    "%u bytes, past its limit of %u", (unsigned)h[0],
		    (unsigned)h[1], (unsigned)r->max);
	out->type = h[0];
	out->len = h[1];
	if (h[1] == 0)
		return 0;
	out->data = xmalloc((size_t)h[1] + 1);
	if ((rc = recv_all(fd, out->data, h[1], err)) != 0) {
		frame_release(out);
		/* The header came: an end now cuts the message short. */
		return rc == 1 ? err_set(err, ERR_PROTOCOL, "a message cut "
		    "short after its header") : rc;
	}
	out->data[h[1]] = '\0';
	return 0;
}

void
frame_release(struct frame *f)
{
	free(f->data);
	memset(f, 0, sizeof(*f));
}
