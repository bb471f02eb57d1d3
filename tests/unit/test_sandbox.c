/*
 * Unit tests: the profiles on the real kernel.  A child confines itself,
 * then serves HTTP with libmicrohttpd on a socket it opened before, as
 * the status process will; the parent reads /proc/PID/status
 * (NoNewPrivs, Seccomp, the uid when run as root) and has the child try
 * what it must never do: open a file for writing or a socket (refused),
 * exec, connect, fork (killed by SIGSYS).  A fetch child writes its
 * cache and nothing else, reads what it was given, opens no unix socket
 * (the engine's) and starts no program.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/landlock.h>
#include <microhttpd.h>

#include "sandbox.h"

/* The fetch child's directories, made by fetch_dirs(). */
static char base[64], cache[96], given[96], other[96];

struct child {
	enum sandbox_profile profile;
	pid_t pid;
	int cmd, reply;		/* the parent's ends */
	int port;
};

static enum MHD_Result
answer(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *data,
    size_t *size, void **ctx)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(2, "ok",
	    MHD_RESPMEM_PERSISTENT);
	enum MHD_Result rc = MHD_queue_response(c, 200, r);

	(void)cls, (void)url, (void)method, (void)version, (void)data;
	(void)size, (void)ctx;
	MHD_destroy_response(r);
	return rc;
}

static int
open_errno(const char *dir, int flags)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/f", dir);
	if ((fd = open(path, flags, 0600)) < 0)
		return errno;
	close(fd);
	return 0;
}

/* What the child does on command: the errno of the attempt, or 0. */
static int
attempt(char what, int spare)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = htons(9) };
	char *const argv[] = { "true", NULL };
	int fd;

	errno = 0;
	switch (what) {
	case 'o':
		fd = open("/tmp/stackd-sandbox-test", O_WRONLY | O_CREAT, 0600);
		return fd < 0 ? errno : 0;
	case 's':
		fd = socket(AF_INET, SOCK_STREAM, 0);
		return fd < 0 ? errno : 0;
	case 'c':
		(void)connect(spare, (struct sockaddr *)&a, sizeof(a));
		return errno;
	case 'x':
		execv("/bin/true", argv);
		return errno;
	case 'f':
		return fork() < 0 ? errno : 0;
	case 'w':
		return open_errno(cache, O_WRONLY | O_CREAT);
	case 'W':
		return open_errno(other, O_WRONLY | O_CREAT);
	case 'r':
		return open_errno(given, O_RDONLY);
	case 'R':
		return open_errno(other, O_RDONLY);
	case 'u':
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		return fd < 0 ? errno : 0;
	}
	return -1;
}

/* As `stackd git-fetch` is confined: its cache writable, one directory
 * readable, the rest of the file system out of sight. */
static int
confine_fetch(void)
{
	const char *const writes[] = { cache, NULL };
	const char *const reads[] = { given, NULL };
	struct sandbox_opts o = { .profile = SANDBOX_FETCH,
	    .write_dirs = writes, .read_paths = reads };
	struct sandbox_report r;
	struct err err;

	return sandbox_confine(&o, &r, &err) == 0 && r.seccomp &&
	    r.no_new_privs ? 0 : -1;
}

static void
child_loop(int cmd, int reply, int spare)
{
	int rc;
	char c;

	while (read(cmd, &c, 1) == 1) {
		rc = attempt(c, spare);
		if (write(reply, &rc, sizeof(rc)) != sizeof(rc))
			_exit(3);
	}
	_exit(0);
}

static void
fetch_child_main(int cmd, int reply)
{
	int ready = 1;

	if (confine_fetch() < 0)
		_exit(2);
	if (write(reply, &ready, sizeof(ready)) != sizeof(ready))
		_exit(3);
	child_loop(cmd, reply, -1);
}

static void
child_main(int cmd, int reply)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	int spare = socket(AF_INET, SOCK_STREAM, 0);
	struct sandbox_opts o = { .profile = SANDBOX_SERVE, .user = "nobody" };
	struct sandbox_report r;
	struct MHD_Daemon *d;
	struct err err;
	int port;

	if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(lfd, 8) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&a, &len) < 0 ||
	    sandbox_confine(&o, &r, &err) < 0 || !r.seccomp)
		_exit(2);
	/* MHD's thread and poll set up under the filter. */
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
	    answer, NULL, MHD_OPTION_LISTEN_SOCKET, lfd, MHD_OPTION_END);
	port = d != NULL ? ntohs(a.sin_port) : -1;
	if (write(reply, &port, sizeof(port)) != sizeof(port))
		_exit(3);
	child_loop(cmd, reply, spare);
}

static void
spawn(struct child *c)
{
	int cmd[2], reply[2];

	assert_int_equal(pipe(cmd), 0);
	assert_int_equal(pipe(reply), 0);
	if ((c->pid = fork()) == 0) {
		close(cmd[1]);
		close(reply[0]);
		if (c->profile == SANDBOX_FETCH)
			fetch_child_main(cmd[0], reply[1]);
		child_main(cmd[0], reply[1]);
	}
	close(cmd[0]);
	close(reply[1]);
	c->cmd = cmd[1];
	c->reply = reply[0];
	assert_int_equal(read(c->reply, &c->port, sizeof(c->port)),
	    sizeof(c->port));
	assert_true(c->port > 0);
}

/* The child's answer to what, or -1 when it died instead. */
static int
ask(struct child *c, char what)
{
	int rc;

	assert_int_equal(write(c->cmd, &what, 1), 1);
	return read(c->reply, &rc, sizeof(rc)) == sizeof(rc) ? rc : -1;
}

/* Reap the child: the signal that ended it, 0 for a clean exit. */
static int
reap(struct child *c)
{
	int status;

	close(c->cmd);
	close(c->reply);
	assert_int_equal(waitpid(c->pid, &status, 0), c->pid);
	if (WIFSIGNALED(status))
		return WTERMSIG(status);
	assert_int_equal(WEXITSTATUS(status), 0);
	return 0;
}

/* The line of /proc/PID/status starting with key, its value. */
static void
proc_status(pid_t pid, const char *key, char *out, size_t size)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	assert_non_null(f = fopen(path, "r"));
	*out = '\0';
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, strlen(key)) == 0)
			snprintf(out, size, "%s", line + strlen(key));
	fclose(f);
	out[strcspn(out, "\n")] = '\0';
}

/* The kernel says pid has no new privileges and a seccomp filter. */
static void
assert_confined(pid_t pid)
{
	char v[128];

	proc_status(pid, "NoNewPrivs:", v, sizeof(v));
	assert_string_equal(v, "\t1");
	proc_status(pid, "Seccomp:", v, sizeof(v));
	assert_string_equal(v, "\t2");
}

static void
test_it_serves_http_confined(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct child c = { .profile = SANDBOX_SERVE };
	char buf[512], v[128];
	int fd;
	ssize_t n, got = 0;

	(void)state;
	spawn(&c);
	assert_confined(c.pid);
	proc_status(c.pid, "Uid:", v, sizeof(v));
	if (geteuid() == 0)
		assert_true(strtol(v, NULL, 10) != 0 && strstr(v, "\t0") == NULL);

	a.sin_port = htons((uint16_t)c.port);
	assert_true((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(write(fd, "GET / HTTP/1.0\r\n\r\n", 18), 18);
	while ((n = read(fd, buf + got, sizeof(buf) - 1 - (size_t)got)) > 0)
		got += n;
	buf[got] = '\0';
	close(fd);
	if (strstr(buf, " 200 ") == NULL)
		fail_msg("the confined server answered: %s", buf);
	assert_non_null(strstr(buf, "\r\n\r\nok"));
	assert_int_equal(reap(&c), 0);
}

static void
test_open_and_socket_are_refused(void **state)
{
	struct child c = { .profile = SANDBOX_SERVE };

	(void)state;
	spawn(&c);
	assert_int_equal(ask(&c, 'o'), EACCES);
	assert_int_equal(ask(&c, 's'), EACCES);
	assert_int_equal(access("/tmp/stackd-sandbox-test", F_OK), -1);
	assert_int_equal(reap(&c), 0);
}

/* Each attempt in what kills a fresh child of profile p, whatever it was
 * doing. */
static void
each_kills(enum sandbox_profile p, const char *what)
{
	struct child c = { .profile = p };

	for (const char *w = what; *w != '\0'; w++) {
		spawn(&c);
		assert_int_equal(ask(&c, *w), -1);
		if (reap(&c) != SIGSYS)
			fail_msg("attempt '%c' did not end in SIGSYS", *w);
	}
}

static void
test_exec_connect_and_fork_kill_it(void **state)
{
	(void)state;
	each_kills(SANDBOX_SERVE, "xcf");
}

/* As root, a confined process names the user it becomes: it never
 * stays root by leaving the name out.  (In a child: had it confined, the
 * test itself would be.) */
static void
test_root_without_a_user_is_refused(void **state)
{
	struct sandbox_opts o = { .profile = SANDBOX_SERVE };
	struct sandbox_report r;
	struct err err;
	pid_t pid;
	int status;

	(void)state;
	if (geteuid() != 0)
		skip();
	if ((pid = fork()) == 0)
		_exit(sandbox_confine(&o, &r, &err) == ERR_INVALID &&
		    strstr(err.msg, "needs a user") != NULL ? 0 : 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static int
fetch_dirs(void **state)
{
	(void)state;
	snprintf(base, sizeof(base), "/tmp/stackd-fetch-XXXXXX");
	if (mkdtemp(base) == NULL)
		return -1;
	snprintf(cache, sizeof(cache), "%s/cache", base);
	snprintf(given, sizeof(given), "%s/given", base);
	snprintf(other, sizeof(other), "%s/other", base);
	if (mkdir(cache, 0700) < 0 || mkdir(given, 0700) < 0 ||
	    mkdir(other, 0700) < 0)
		return -1;
	/* Files to read: the test is of the sandbox, not of ENOENT. */
	return open_errno(given, O_WRONLY | O_CREAT) == 0 &&
	    open_errno(other, O_WRONLY | O_CREAT) == 0 ? 0 : -1;
}

static int
fetch_dirs_remove(void **state)
{
	const char *dirs[] = { cache, given, other };
	char path[128];

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/f", dirs[i]);
		(void)unlink(path);
		(void)rmdir(dirs[i]);
	}
	return rmdir(base);
}

/* Landlock where the kernel has it: its ABI version, asked of it. */
static bool
kernel_has_landlock(void)
{
	return syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION) > 0;
}

static void
test_fetch_writes_only_its_cache(void **state)
{
	struct child c = { .profile = SANDBOX_FETCH };
	char v[128];

	(void)state;
	spawn(&c);
	assert_confined(c.pid);
	if (geteuid() == 0) {
		proc_status(c.pid, "CapEff:", v, sizeof(v));
		assert_string_equal(v, "\t0000000000000000");
	}
	assert_int_equal(ask(&c, 'w'), 0);
	assert_int_equal(ask(&c, 'r'), 0);
	if (kernel_has_landlock()) {
		assert_int_equal(ask(&c, 'W'), EACCES);
		assert_int_equal(ask(&c, 'R'), EACCES);
	}
	/* The network is its work; the engine's unix socket is not. */
	assert_int_equal(ask(&c, 's'), 0);
	assert_int_equal(ask(&c, 'u'), EACCES);
	assert_int_equal(reap(&c), 0);
}

static void
test_fetch_exec_and_fork_kill_it(void **state)
{
	(void)state;
	each_kills(SANDBOX_FETCH, "xf");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_it_serves_http_confined),
		cmocka_unit_test(test_open_and_socket_are_refused),
		cmocka_unit_test(test_exec_connect_and_fork_kill_it),
		cmocka_unit_test(test_root_without_a_user_is_refused),
	};
	const struct CMUnitTest fetch[] = {
		cmocka_unit_test(test_fetch_writes_only_its_cache),
		cmocka_unit_test(test_fetch_exec_and_fork_kill_it),
	};

	return cmocka_run_group_tests_name("sandbox", tests, NULL, NULL) |
	    cmocka_run_group_tests_name("fetch sandbox", fetch, fetch_dirs,
	    fetch_dirs_remove);
}
