/*
 * fuzz_status.c - the status server as a client sees it: raw bytes sent
 * to a running server (libmicrohttpd's parser, then stackd's routes, the
 * bearer token and the webhook), the answer read until the server closes.
 * This is the status process's server (status/server.c), serving a few
 * documents as the daemon would have sent them; it runs for the whole
 * fuzzing session on a free loopback port.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "frame.h"
#include "status_int.h"
#include "fuzz.h"

static struct sockaddr_in addr;

/* What the daemon would have sent the status process. */
static void
give(struct ctl_docs *docs, uint32_t type, const char *text)
{
	struct frame f = { type, (uint32_t)strlen(text), (char *)text };
	struct err err = { 0 };

	if (ctl_docs_apply(docs, &f, &err) < 0) {
		fprintf(stderr, "fuzz_status: %s\n", err.msg);
		abort();
	}
}

static void hook(void *arg, int verdict, const char *source)
{
	(void)arg, (void)verdict, (void)source;
}
static void registry(void *arg, bool accepted) { (void)arg, (void)accepted; }
static void push(void *arg, const char *host, const char *repository)
{
	(void)arg, (void)host, (void)repository;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const struct ctl_http_ops ops = { hook, registry, push, NULL };
	static struct ctl_http *server;
	struct ctl_docs *docs = ctl_docs_new();
	struct err err = { 0 };
	socklen_t len = sizeof(addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	(void)argc;
	(void)argv;
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(fd, 64) < 0 ||
	    getsockname(fd, (struct sockaddr *)&addr, &len) < 0)
		abort();
	give(docs, CTL_MSG_CONFIG, "{\"token\": \"t0ken\", \"registry_secret\": "
	    "\"r3g\", \"hooks\": {\"src\": \"It's a Secret to Everybody\"}}");
	give(docs, CTL_MSG_DOC, "200 /readyz\ntext/plain\nready\n");
	give(docs, CTL_MSG_DOC, "200 /\ntext/html; charset=utf-8\n<p>page</p>");
	give(docs, CTL_MSG_DOC, "200 /api/v1/stacks/web\napplication/json\n"
	    "{\"name\": \"web\", \"state\": \"synced\"}\n");
	give(docs, CTL_MSG_DOC, "200 /metrics\ntext/plain; version=0.0.4\n"
	    "stackd_up 1\n");
	give(docs, CTL_MSG_JOIN, "200 /api/v1/stacks\napplication/json\n"
	    "/api/v1/stacks/web\n/api/v1/stacks/gone\n/api/v1/stacks\n");
	if (ctl_http_start(&server, fd, docs, &ops, &err) < 0) {
		fprintf(stderr, "fuzz_status: %s\n", err.msg);
		abort();
	}
	return 0;
}

/* A connection to the server.  Closed with a reset, so that a hundred
 * thousand inputs leave no TIME_WAIT sockets to run out of ports with;
 * a refusal (the per-IP limit while the server drops the last ones) is
 * retried for a while before it counts as the server being gone. */
static int
dial(void)
{
	struct timeval tv = { .tv_sec = 2 };
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	for (int tries = 0; tries < 500; tries++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (fd < 0)
			break;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
			return fd;
		close(fd);
		usleep(10000);
	}
	perror("fuzz_status: connect");
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char reply[4096];
	int fd = dial();
	(void)send(fd, data, size, MSG_NOSIGNAL);
	shutdown(fd, SHUT_WR);
	while (recv(fd, reply, sizeof(reply), 0) > 0)
		continue;
	close(fd);
	return 0;
}
