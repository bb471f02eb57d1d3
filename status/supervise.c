/*
 * supervise.c - the daemon's side of the status process: it opens the
 * listening socket, starts `stackd status-server` with it and one end of
 * a socketpair, hears what the process verified (webhooks) and starts it
 * again, with backoff, whenever it ends or says what it never says.
 *
 * Two threads: the supervisor starts the process and reads from it, the
 * publisher renders the documents and sends what changed.  The workers
 * only bump ctl_state.changes: they never wait for the status process.
 * The listening socket stays open in the daemon across restarts, so
 * clients wait in its backlog while a new process starts.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "daemon.h"
#include "sandbox.h"
#include "status.h"
#include "status_int.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
/* A process that served this long was fine: the next starts at once. */
#define STABLE_MS 10000
#define PUBLISH_TICK_MS 200
/* Documents that show the time (uptime) are refreshed this often even
 * when nothing changed. */
#define REFRESH_MS 5000

static const struct frame_rule child_rules[] = {
	{ CTL_MSG_HELLO, CTL_MSG_HELLO_MAX },
	{ CTL_MSG_HOOK, CTL_MSG_HOOK_MAX },
	{ CTL_MSG_REGISTRY, CTL_MSG_REGISTRY_MAX },
};

struct ctl_status_server {
	struct ctl_state *st;
	struct ctl_status_opts o;
	char user[256];
	int listen_fd;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	int link;		/* the daemon's end; -1: no process */
	bool fresh;		/* a new process: send it everything */
	bool busy;		/* the publisher is sending on link */
	pid_t pid;
	pthread_t supervisor, publisher;
	struct ctl_publisher *pub;
};

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait on s->cv (s->mu held) for ms at most. */
static void
wait_ms(struct ctl_status_server *s, long long ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_cond_timedwait(&s->cv, &s->mu, &ts);
}

/* Start the process (s->mu held): 0, or < 0 (err). */
static int
spawn(struct ctl_status_server *s, struct err *err)
{
	static char debug[] = "debug", info[] = "info", warn[] = "warn",
	    error[] = "error", json[] = "json", text[] = "text",
	    name[] = "stackd", command[] = "status-server";
	static char *const levels[] = { debug, info, warn, error };
	char *argv[] = { name, command, s->o.log_format == LOG_JSON ? json :
	    text, levels[s->o.log_level], NULL };
	int pair[2], fds[2], rc;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
		return err_set(err, ERR_FAIL, "status process: socketpair: %s",
		    strerror(errno));
	fds[CTL_STATUS_LISTEN_FD - SANDBOX_FIRST_FD] = s->listen_fd;
	fds[CTL_STATUS_LINK_FD - SANDBOX_FIRST_FD] = pair[1];
	rc = sandbox_spawn(&s->pid, argv, fds, 2, NULL, err);
	close(pair[1]);
	if (rc < 0) {
		close(pair[0]);
		return rc;
	}
	s->link = pair[0];
	s->fresh = true;
	pthread_cond_broadcast(&s->cv);
	return 0;
}

static bool
json_true(const cJSON *o, const char *key)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key));
}

/* The process's sandbox report: recorded and said once per process. */
static int
hello(struct ctl_status_server *s, const struct frame *f, struct err *err)
{
	struct ctl_sandbox_state *sb = &s->st->sandbox;
	cJSON *o = cJSON_ParseWithLength(f->data ? f->data : "", f->len);
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "missing");
	int rc = 0;

	pthread_mutex_lock(&s->st->mu);
	if (!cJSON_IsObject(o) || sb->reported) {
		rc = err_set(err, ERR_PROTOCOL, "a second or malformed sandbox "
		    "report");
	} else {
		sb->reported = true;
		sb->report.user = json_true(o, "user");
		sb->report.no_new_privs = json_true(o, "no_new_privs");
		sb->report.seccomp = json_true(o, "seccomp");
		snprintf(sb->report.missing, sizeof(sb->report.missing), "%s",
		    cJSON_IsString(m) ? m->valuestring : "");
	}
	ctl_state_unlock(s->st);
	if (rc == 0 && cJSON_IsString(m))
		log_event(LOG_WARN, NULL, NULL, NULL, "status process %ld: "
		    "could not apply: %s", (long)s->pid, m->valuestring);
	else if (rc == 0)
		log_event(LOG_INFO, NULL, NULL, NULL, "status process %ld: %s",
		    (long)s->pid, s->o.sandbox ? "confined (user, "
		    "no_new_privs, seccomp)" : "NOT confined (--no-sandbox)");
	cJSON_Delete(o);
	return rc;
}

/* A webhook the process verified: the source must be one with a
 * secret; a push makes it fetch. */
static int
hook(struct ctl_status_server *s, const struct frame *f, struct err *err)
{
	struct ctl_state *st = s->st;
	struct ctl_source_state *src = NULL;
	int v = f->len > 1 ? f->data[0] - '0' : -1;

	pthread_mutex_lock(&st->mu);
	for (size_t i = 0; v >= CTL_HOOK_PUSH && v <= CTL_HOOK_BAD_REQUEST &&
	    i < st->nsources && src == NULL; i++)
		if (st->sources[i].webhook_secret != NULL &&
		    st->sources[i].src != NULL &&
		    strcmp(st->sources[i].name, f->data + 1) == 0)
			src = &st->sources[i];
	if (src != NULL) {
		if (v == CTL_HOOK_PUSH)
			src->hooks_accepted++;
		else if (v == CTL_HOOK_IGNORED)
			src->hooks_ignored++;
		else
			src->hooks_refused++;
		if (v == CTL_HOOK_PUSH)
			sources_trigger(src->src);
	}
	ctl_state_unlock(st);
	return src != NULL ? 0 : err_set(err, ERR_PROTOCOL, "a webhook of a "
	    "source that has none");
}

/* A registry delivery verified ('a', 'r') or a push it named ('p'). */
static int
registry(struct ctl_status_server *s, const struct frame *f, struct err *err)
{
	struct ctl_state *st = s->st;
	const char *host, *repo;

	if (f->len == 1 && (f->data[0] == 'a' || f->data[0] == 'r')) {
		pthread_mutex_lock(&st->mu);
		st->registry_hooks[f->data[0] == 'a' ? 0 : 1]++;
		ctl_state_unlock(st);
		return 0;
	}
	host = f->data + 1;
	repo = f->len > 1 ? memchr(host, '\0', f->len - 1) : NULL;
	if (f->data[0] != 'p' || repo == NULL || repo == host ||
	    strlen(host) >= sizeof(st->pushes[0].host) || repo[1] == '\0' ||
	    strlen(repo + 1) >= sizeof(st->pushes[0].repository))
		return err_set(err, ERR_PROTOCOL, "a malformed registry push");
	ctl_state_push(st, host, repo + 1);
	return 0;
}

/* What the process says, until it ends: why it ended, in err. */
static void
listen_to(struct ctl_status_server *s, struct err *err)
{
	const size_t n = sizeof(child_rules) / sizeof(*child_rules);
	struct frame f;
	int rc;

	while ((rc = frame_recv(s->link, child_rules, n, &f, err)) == 0) {
		if (f.type == CTL_MSG_HELLO)
			rc = hello(s, &f, err);
		else if (f.type == CTL_MSG_HOOK)
			rc = hook(s, &f, err);
		else
			rc = registry(s, &f, err);
		frame_release(&f);
		if (rc < 0)
			return;
	}
	if (rc > 0)
		err_set(err, ERR_FAIL, "its end of the socketpair closed");
}

/* How a process ended, for the log and the status: what it said that
 * it never says (we killed it), or how it died. */
static void
describe(int status, const struct err *why, char *out, size_t size)
{
	if (why->code == ERR_PROTOCOL)
		snprintf(out, size, "killed: it sent %s", why->msg);
	else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
		snprintf(out, size, "killed by SIGSYS: it made a system call "
		    "its sandbox forbids");
	else if (WIFSIGNALED(status))
		snprintf(out, size, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(out, size, "exit status %d", WEXITSTATUS(status));
}

/* The process is done with (s->mu held): stop it, wait for it, wait
 * for the publisher to let go of its end. */
static void
reap(struct ctl_status_server *s, const struct err *why)
{
	struct ctl_sandbox_state *sb = &s->st->sandbox;
	char how[ERR_MSG_MAX + 64];
	int status = 0;

	kill(s->pid, SIGKILL);
	while (waitpid(s->pid, &status, 0) < 0 && errno == EINTR)
		continue;
	while (s->busy)
		pthread_cond_wait(&s->cv, &s->mu);
	close(s->link);
	s->link = -1;
	describe(status, why, how, sizeof(how));
	pthread_mutex_lock(&s->st->mu);
	snprintf(sb->last_exit, sizeof(sb->last_exit), "%s", how);
	sb->pid = 0;
	sb->reported = false;
	ctl_state_unlock(s->st);
	if (!s->stop)
		log_event(LOG_WARN, NULL, NULL, NULL, "status process %ld "
		    "ended (%s): starting another", (long)s->pid, how);
	s->pid = 0;
}

static void *
supervise(void *arg)
{
	struct ctl_status_server *s = arg;
	long long backoff = BACKOFF_MIN_MS, started;
	struct err err;

	pthread_mutex_lock(&s->mu);
	while (!s->stop) {
		memset(&err, 0, sizeof(err));
		if (spawn(s, &err) < 0) {
			log_event(LOG_ERROR, NULL, NULL, NULL, "%s", err.msg);
			wait_ms(s, backoff);
			backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
			    backoff * 2;
			continue;
		}
		started = now_ms();
		pthread_mutex_lock(&s->st->mu);
		s->st->sandbox.pid = s->pid;
		s->st->sandbox.starts++;
		ctl_state_unlock(s->st);
		pthread_mutex_unlock(&s->mu);
		listen_to(s, &err);
		pthread_mutex_lock(&s->mu);
		reap(s, &err);
		if (now_ms() - started >= STABLE_MS)
			backoff = BACKOFF_MIN_MS;
		if (!s->stop)
			wait_ms(s, backoff);
		backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
		    backoff * 2;
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static unsigned long
changes(struct ctl_state *st)
{
	unsigned long c;

	pthread_mutex_lock(&st->mu);
	c = st->changes;
	pthread_mutex_unlock(&st->mu);
	return c;
}

/* Send what changed (s->mu held, released while sending). */
static void
publish(struct ctl_status_server *s)
{
	bool fresh = s->fresh;
	int fd = s->link;
	struct err err = { 0 };
	size_t sent;
	int rc;

	s->fresh = false;
	s->busy = true;
	pthread_mutex_unlock(&s->mu);
	if (fresh)
		ctl_publisher_reset(s->pub);
	rc = ctl_publisher_send(s->pub, s->st, s->user, s->o.sandbox, fd,
	    &sent, &err);
	/* The first documents are in: the process may serve them. */
	if (rc == 0 && fresh)
		rc = frame_send(fd, CTL_MSG_SERVE, NULL, 0, &err);
	pthread_mutex_lock(&s->mu);
	s->busy = false;
	pthread_cond_broadcast(&s->cv);
	/* A failure is the process gone: the supervisor sees it too. */
	(void)rc;
}

static void *
publisher(void *arg)
{
	struct ctl_status_server *s = arg;
	unsigned long seen = 0, now;
	long long last = 0;

	pthread_mutex_lock(&s->mu);
	while (!s->stop) {
		wait_ms(s, PUBLISH_TICK_MS);
		if (s->stop || s->link < 0)
			continue;
		now = changes(s->st);
		if (!s->fresh && now == seen && now_ms() - last < REFRESH_MS)
			continue;
		seen = now;
		last = now_ms();
		publish(s);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

int
ctl_status_listen(const char *addr, int *fd, struct err *err)
{
	const char *colon = strrchr(addr, ':');
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char host[64];
	char *end;
	long port;
	int one = 1;

	if (colon == NULL || (size_t)(colon - addr) >= sizeof(host))
		goto bad;
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 1 || port > 65535)
		goto bad;
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	if (inet_pton(AF_INET, *host ? host : "0.0.0.0", &sa.sin_addr) != 1)
		goto bad;
	sa.sin_port = htons((uint16_t)port);
	/* Above the descriptors the process gets it on. */
	if ((*fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return err_set(err, ERR_FAIL, "status server: socket: %s",
		    strerror(errno));
	setsockopt(*fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(*fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(*fd, 64) < 0) {
		int e = errno;
		close(*fd);
		*fd = -1;
		return err_set(err, ERR_FAIL, "status server: cannot listen "
		    "on %s: %s", addr, strerror(e));
	}
	return 0;
bad:
	return err_set(err, ERR_INVALID, "status listen address \"%s\": "
	    "want IPV4ADDR:PORT, e.g. 127.0.0.1:9090", addr);
}

int
ctl_status_start(struct ctl_status_server **out,
    const struct ctl_status_opts *o, struct ctl_state *st, struct err *err)
{
	struct ctl_status_server *s;
	int fd, rc;

	*out = NULL;
	if (o->sandbox && geteuid() == 0 && getpwnam(o->user) == NULL)
		return err_set(err, ERR_INVALID, "status.user %s: no such user "
		    "to run the status server as", o->user);
	if ((rc = ctl_status_listen(o->listen, &fd, err)) < 0)
		return rc;
	s = xcalloc(1, sizeof(*s));
	s->st = st;
	s->o = *o;
	snprintf(s->user, sizeof(s->user), "%s", o->user);
	s->listen_fd = fd;
	s->link = -1;
	s->pub = ctl_publisher_new();
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	pthread_mutex_lock(&st->mu);
	st->sandbox.enabled = o->sandbox;
	ctl_state_unlock(st);
	if (!o->sandbox)
		log_event(LOG_WARN, NULL, NULL, NULL, "--no-sandbox: the status "
		    "server runs as uid %ld, with every system call, and git "
		    "fetches unconfined in the daemon: for debugging only",
		    (long)geteuid());
	if (pthread_create(&s->supervisor, NULL, supervise, s) != 0 ||
	    pthread_create(&s->publisher, NULL, publisher, s) != 0)
		alloc_fail();
	*out = s;
	return 0;
}

void
ctl_status_stop(struct ctl_status_server *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	if (s->pid > 0)
		kill(s->pid, SIGKILL);
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->supervisor, NULL);
	pthread_join(s->publisher, NULL);
	close(s->listen_fd);
	ctl_publisher_free(s->pub);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}
