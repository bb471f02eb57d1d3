/*
 * sandbox.h - confining a process of stackd's that faces the network
 * (sandbox/confine.c), as OpenBSD's daemons do with pledge: once set up,
 * it gives up its user (root becomes an unprivileged one), any new
 * privilege (no_new_privs: no setuid program can hand one back) and every
 * system call its work does not need (a seccomp filter; what it must
 * never do kills it).
 *
 * Where the kernel lacks a piece (seccomp in a container that filters the
 * call itself, an old kernel), the process goes on without it and the
 * report says what is missing; switching user is never skipped: a
 * process that cannot leave root fails.
 */
#ifndef STACKD_SANDBOX_H
#define STACKD_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "err.h"

enum sandbox_profile {
	/* An HTTP server on the listening socket and the socketpair it was
	 * given: accept, read, write, poll, threads, memory, time.  Killed
	 * by exec, connect, ptrace and the rest; open and socket fail with
	 * EACCES (a library probing a file goes on without it). */
	SANDBOX_SERVE,
	/* A git fetch: the network (TCP, and DNS), files read where
	 * opts.read_paths say and written under opts.write_dirs only
	 * (Landlock), no capability.  Killed by exec, a new process,
	 * ptrace, mounts, namespaces, bpf, io_uring, keyrings; a socket
	 * other than IP or netlink (the engine's unix socket) fails with
	 * EACCES.  The user stays: the cache is the daemon's. */
	SANDBOX_FETCH,
};

struct sandbox_opts {
	enum sandbox_profile profile;
	/* The user to become when running as root (e.g. "nobody"); its
	 * group too, and no supplementary group.  Required as root (a
	 * confined process never stays root), ignored otherwise. */
	const char *user;
	/* SANDBOX_FETCH: NULL-terminated lists of paths.  Missing ones are
	 * skipped. */
	const char *const *write_dirs;	/* anything under them */
	const char *const *read_paths;	/* files or directories */
	bool unix_sockets;		/* allow AF_UNIX (ssh-agent) */
};

struct sandbox_report {
	bool user;		/* switched to opts.user (false: not root) */
	bool no_new_privs;
	bool seccomp;
	bool landlock;		/* SANDBOX_FETCH: its paths enforced */
	bool no_capabilities;	/* SANDBOX_FETCH as root: all dropped */
	char missing[256];	/* what could not be applied, "" if nothing */
};

/* Confine the calling process, every thread it starts later included
 * (call it before starting any): 0 with *r filled, or < 0 (err). */
int sandbox_confine(const struct sandbox_opts *o, struct sandbox_report *r,
    struct err *err);

/* {"user": ..., "no_new_privs": ..., "seccomp": ..., "missing": ...}: what
 * /api/v1/status says of the sandbox. */
cJSON *sandbox_report_json(const struct sandbox_report *r);

/* The first descriptor a started process is handed: fds[i] is its
 * SANDBOX_FIRST_FD + i. */
#define SANDBOX_FIRST_FD 3

/*
 * Start /proc/self/exe with argv (argv[1] is its command, and names it in
 * errors), nfds (at most 8) descriptors and an environment of the
 * sanitizers' settings, TZ and the variables named in keep (NULL-
 * terminated, or NULL), nothing else of the caller's (DOCKER_*, tokens,
 * SOPS_AGE_KEY).  Signals default and unblocked.  0 with *pid, or < 0.
 */
int sandbox_spawn(pid_t *pid, char *const argv[], const int *fds,
    size_t nfds, const char *const *keep, struct err *err);

#endif
