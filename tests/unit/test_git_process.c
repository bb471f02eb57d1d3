/*
 * Unit tests: the daemon's side of the fetch process (git_child.c) trusts
 * nothing of it.  This binary, started as `git-fetch`, misbehaves as the
 * URL it is asked to fetch says - garbage, an answer with no commit, a
 * crash, a call outside its sandbox, a hang - and each is a failed fetch
 * with its reason, the process reaped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "frame.h"
#include "sandbox.h"
#include "sources.h"
#include "../../sources/git_int.h"

static char root[64];

/* The next delivery after a trigger: 1 snapshot, 0 nothing, <0 error. */
static int
poll_once(struct sources_git *g, struct sources_snapshot **s,
    struct err *err)
{
	sources_git_trigger(g);
	return sources_git_next(g, s, 5000, err);
}

/* `git-fetch` of this binary: the real fetch process, unless the URL
 * asks for a fault (peeked at: the request stays for the real one). */
static int
fetcher_main(void)
{
	static const char bad[] = "{\"commit\": \"zz\"}";
	const char *const none[] = { NULL };
	struct sandbox_opts o = { .profile = SANDBOX_FETCH,
	    .write_dirs = none, .read_paths = none };
	char req[4096] = "", *const argv[] = { "true", NULL };
	struct sandbox_report r;
	struct err err;
	ssize_t n = recv(GIT_FETCH_FD, req, sizeof(req) - 1, MSG_PEEK);

	req[n > 0 ? n : 0] = '\0';
	if (strstr(req + 8, "fake-garbage") != NULL)
		(void)frame_send(GIT_FETCH_FD, 99, "x", 1, &err);
	else if (strstr(req + 8, "fake-no-commit") != NULL)
		(void)frame_send(GIT_FETCH_FD, GIT_MSG_ANSWER, bad,
		    sizeof(bad) - 1, &err);
	else if (strstr(req + 8, "fake-crash") != NULL)
		raise(SIGKILL);
	else if (strstr(req + 8, "fake-exec") != NULL &&
	    sandbox_confine(&o, &r, &err) == 0)
		execv("/bin/true", argv);
	else if (strstr(req + 8, "fake-hang") != NULL)
		for (;;)
			pause();
	else
		return sources_git_fetcher_main();
	_exit(0);
}

/* A fetch by a process that does what name says: its error. */
static void
fake_fails(const char *name, int code, const char *msg)
{
	char fake[160], cache[128];
	struct sources_git_opts o = { .url = fake, .ref = "main",
	    .confined = true, .timeout_ms = 200, .cache_dir = cache };
	struct sources_snapshot *s = NULL;
	struct sources_git *g;
	struct err err;
	int rc;

	snprintf(fake, sizeof(fake), "file://%s/%s.git", root, name);
	snprintf(cache, sizeof(cache), "%s/cache-%s", root, name);
	if (sources_git_open(&g, &o, &err) < 0)
		fail_msg("open: %s", err.msg);
	rc = poll_once(g, &s, &err);
	assert_null(s);
	if (rc != code || strstr(err.msg, msg) == NULL)
		fail_msg("%s: %d \"%s\", not %d \"%s\"", name, rc, err.msg,
		    code, msg);
	sources_git_free(g);
}

static void
test_fetch_process_faults(void **state)
{
	(void)state;
	fake_fails("fake-garbage", ERR_PROTOCOL, "the fetch process: ");
	fake_fails("fake-no-commit", ERR_PROTOCOL, "answered no commit");
	fake_fails("fake-crash", ERR_FAIL, "died of signal 9");
	fake_fails("fake-exec", ERR_FAIL, "a system call outside its sandbox");
	fake_fails("fake-hang", ERR_TIMEOUT, "fetch timed out");
}

/* No fetch process outlived its fetch. */
static void
test_no_process_left(void **state)
{
	(void)state;
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/stackd-gitproc-XXXXXX");
	return mkdtemp(root) != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	return system(cmd);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fetch_process_faults),
		cmocka_unit_test(test_no_process_left),
	};

	if (argc > 1 && strcmp(argv[1], "git-fetch") == 0)
		return fetcher_main();
	return cmocka_run_group_tests_name("fetch process", tests, setup,
	    teardown);
}
