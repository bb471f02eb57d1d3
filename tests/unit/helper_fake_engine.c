#define _GNU_SOURCE /* strcasestr */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "helper_fake_engine.h"

#define MAX_REQ 32

struct fake_engine {
	char dir[32];
	char sock[96];
	char host[160];
	int lfd;
	int stop_pipe[2];
	pthread_t thread;
	pthread_mutex_t lock;
	const char *const *replies;
	size_t nreplies;
	char *requests[MAX_REQ];
	size_t nrequests;
};

/* Read one request: headers, then Content-Length bytes of body. */
static char *
read_request(int fd)
{
	size_t cap = 65536, len = 0, want = 0;
	char *buf = calloc(1, cap + 1), *hdr_end, *cl;
	ssize_t n;

	while (buf != NULL && len < cap) {
		if ((n = read(fd, buf + len, cap - len)) <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		if ((hdr_end = strstr(buf, "\r\n\r\n")) == NULL)
			continue;
		cl = strcasestr(buf, "\r\nContent-Length:");
		want = (size_t)(hdr_end - buf) + 4;
		if (cl != NULL && cl < hdr_end)
			want += strtoul(cl + 17, NULL, 10);
		if (len >= want)
			break;
	}
	return buf;
}

static void
serve(struct fake_engine *f, int fd, const char *reply)
{
	char *req = read_request(fd);
	struct pollfd p = { .fd = f->stop_pipe[0], .events = POLLIN };

	pthread_mutex_lock(&f->lock);
	if (f->nrequests < MAX_REQ)
		f->requests[f->nrequests++] = req;
	else
		free(req);
	pthread_mutex_unlock(&f->lock);
	if (strcmp(reply, FAKE_HANG) == 0) {
		poll(&p, 1, 10000);	/* until stopped, at most 10 s */
		return;
	}
	for (size_t off = 0, len = strlen(reply); off < len;) {
		ssize_t n = write(fd, reply + off, len - off);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
}

static void *
run(void *arg)
{
	struct fake_engine *f = arg;
	struct pollfd p[2] = {
		{ .fd = f->lfd, .events = POLLIN },
		{ .fd = f->stop_pipe[0], .events = POLLIN },
	};

	for (size_t i = 0; i < f->nreplies; i++) {
		if (poll(p, 2, -1) < 0 || (p[1].revents & POLLIN))
			break;
		int fd = accept(f->lfd, NULL, NULL);
		if (fd < 0)
			break;
		serve(f, fd, f->replies[i]);
		close(fd);
	}
	return NULL;
}

struct fake_engine *
fake_engine_start(const char *const *replies, size_t n)
{
	struct fake_engine *f = calloc(1, sizeof(*f));
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (f == NULL)
		return NULL;
	snprintf(f->dir, sizeof(f->dir), "/tmp/stackd-fake.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		goto fail;
	snprintf(f->sock, sizeof(f->sock), "%s/sock", f->dir);
	snprintf(f->host, sizeof(f->host), "unix://%s", f->sock);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->sock);
	f->replies = replies;
	f->nreplies = n;
	pthread_mutex_init(&f->lock, NULL);
	if ((f->lfd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
	    bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(f->lfd, 8) < 0 || pipe(f->stop_pipe) < 0 ||
	    pthread_create(&f->thread, NULL, run, f) != 0)
		goto fail;
	return f;
fail:
	perror("fake_engine_start");
	abort();
}

const char *
fake_engine_host(const struct fake_engine *f)
{
	return f->host;
}

const char *
fake_engine_request(struct fake_engine *f, size_t i)
{
	const char *r;

	pthread_mutex_lock(&f->lock);
	r = i < f->nrequests ? f->requests[i] : NULL;
	pthread_mutex_unlock(&f->lock);
	return r;
}

size_t
fake_engine_count(struct fake_engine *f)
{
	size_t n;

	pthread_mutex_lock(&f->lock);
	n = f->nrequests;
	pthread_mutex_unlock(&f->lock);
	return n;
}

void
fake_engine_stop(struct fake_engine *f)
{
	if (f == NULL)
		return;
	if (write(f->stop_pipe[1], "x", 1) < 0)
		perror("fake_engine_stop");
	pthread_join(f->thread, NULL);
	close(f->lfd);
	close(f->stop_pipe[0]);
	close(f->stop_pipe[1]);
	unlink(f->sock);
	rmdir(f->dir);
	for (size_t i = 0; i < f->nrequests; i++)
		free(f->requests[i]);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

char *
fake_reply(int status, const char *api_version, const char *json)
{
	size_t len = strlen(json), cap = len + 512;
	char *r = malloc(cap);

	if (r == NULL)
		abort();
	snprintf(r, cap, "HTTP/1.1 %d X\r\nApi-Version: %s\r\n"
	    "Server: Docker/fake\r\nContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
	    status, api_version, len, json);
	return r;
}
