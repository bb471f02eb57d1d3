/*
 * fuzz_status.c - the status server as a client sees it: raw bytes sent
 * to a running server (libmicrohttpd's parser, then stackd's routes, the
 * bearer token and the webhook), the answer read until the server closes.
 * The server runs for the whole fuzzing session on a free loopback port.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "controller.h"
#include "daemon.h"
#include "status.h"
#include "fuzz.h"

static struct ctl_state st;
static struct ctl_engine_state es;
static struct ctl_source_state src;
static struct sockaddr_in addr;

static int
free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		abort();
	close(fd);
	return ntohs(sa.sin_port);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static struct ctl_status_server *server;
	struct sources_opts so = { .kind = SOURCES_DIR };
	struct err err = { 0 };
	char listen[32];
	int port = free_port();

	(void)argc;
	(void)argv;
	pthread_mutex_init(&st.mu, NULL);
	es.name = "e1";
	es.host = "unix:///run/docker.sock";
	es.reachable = es.reached = true;
	es.stacks = cJSON_Parse("{\"web\":{\"state\":\"synced\",\"services\":"
	    "[{\"name\":\"web_app\",\"image\":\"local/busybox:1\","
	    "\"running\":1,\"desired\":1,\"pending\":[]}]}}");
	st.engines = &es;
	st.nengines = 1;
	src.name = "src";
	src.kind = "dir";
	src.location = (char *)fuzz_dir();
	src.webhook_secret = "It's a Secret to Everybody";
	st.sources = &src;
	st.nsources = 1;
	st.token = "t0ken";
	so.dir.root = fuzz_dir();
	if (sources_open(&src.src, &so, &err) < 0)
		abort();
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	if (ctl_status_start(&server, listen, &st, &err) < 0) {
		fprintf(stderr, "fuzz_status: %s\n", err.msg);
		abort();
	}
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
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
