/*
 * spawn.c - starting one of stackd's own processes: /proc/self/exe again
 * (posix_spawn: the daemon has threads, and a fork of it would copy their
 * locks mid-use), with chosen descriptors and a chosen environment.
 */
#define _GNU_SOURCE	/* environ */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "sandbox.h"

extern char **environ;

/* Always kept: the sanitizers' settings and the time zone. */
static const char *const base_keep[] = { "ASAN_OPTIONS", "UBSAN_OPTIONS",
    "LSAN_OPTIONS", "TSAN_OPTIONS", "TZ", NULL };

static bool
named(const char *entry, const char *const *names)
{
	size_t n;

	for (; names != NULL && *names != NULL; names++) {
		n = strlen(*names);
		if (n > 0 && strncmp(entry, *names, n) == 0 && entry[n] == '=')
			return true;
	}
	return false;
}

static char **
child_env(const char *const *keep)
{
	size_t n = 0, cap = 1;
	char **env;

	for (char **e = environ; *e != NULL; e++)
		cap++;
	env = xcalloc(cap, sizeof(*env));
	for (char **e = environ; *e != NULL; e++)
		if (named(*e, base_keep) || named(*e, keep))
			env[n++] = *e;
	return env;
}

int
sandbox_spawn(pid_t *pid, char *const argv[], const int *fds, size_t nfds,
    const char *const *keep, struct err *err)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	int high[8], rc = 0;
	char **env;
	size_t i;

	if (nfds > sizeof(high) / sizeof(*high))
		return err_set(err, ERR_INVALID, "%s: too many descriptors",
		    argv[1]);
	/* Above every target first, so no dup2 overwrites a source. */
	for (i = 0; i < nfds; i++)
		if ((high[i] = fcntl(fds[i], F_DUPFD_CLOEXEC,
		    SANDBOX_FIRST_FD + (int)nfds)) < 0) {
			rc = err_set(err, ERR_FAIL, "%s: %s", argv[1],
			    strerror(errno));
			break;
		}
	if (rc < 0) {
		while (i > 0)
			close(high[--i]);
		return rc;
	}
	env = child_env(keep);
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF);
	posix_spawn_file_actions_init(&fa);
	for (i = 0; i < nfds; i++)
		posix_spawn_file_actions_adddup2(&fa, high[i],
		    SANDBOX_FIRST_FD + (int)i);
	rc = posix_spawn(pid, "/proc/self/exe", &fa, &attr, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	free(env);
	for (i = 0; i < nfds; i++)
		close(high[i]);
	if (rc != 0) {
		*pid = 0;
		return err_set(err, ERR_FAIL, "%s: cannot start it: %s",
		    argv[1], strerror(rc));
	}
	return 0;
}
