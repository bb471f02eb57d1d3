/*
 * confine.c - a process of stackd's gives up what its work does not
 * need: root, new privileges, system calls (libseccomp).
 *
 * The filter is an allow-list: a call not named here kills the process
 * (SIGSYS), the parent sees it die and starts it again.  Calls are named,
 * not numbered, so that one list serves every architecture; a name the
 * architecture lacks (poll on arm64) is skipped.
 */
#define _GNU_SOURCE	/* setresuid, getresuid, CLONE_THREAD */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <seccomp.h>

#include "sandbox.h"

/* Serving HTTP on sockets already open: I/O, polling, threads (MHD's),
 * memory, signals, time. */
static const char *const serve_calls[] = {
	"read", "write", "readv", "writev", "recvfrom", "recvmsg", "sendto",
	"sendmsg", "accept", "accept4", "shutdown", "close", "poll", "ppoll",
	"select", "pselect6", "epoll_create", "epoll_create1", "epoll_ctl",
	"epoll_wait", "epoll_pwait", "epoll_pwait2", "eventfd2", "pipe2",
	"fcntl", "fstat", "newfstatat", "lseek", "getsockopt", "setsockopt",
	"getsockname", "getpeername", "futex", "set_robust_list", "rseq",
	"mmap", "munmap", "mremap", "mprotect", "madvise", "brk",
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack",
	"restart_syscall", "exit", "exit_group", "getpid", "gettid",
	"tgkill", "clock_gettime", "clock_nanosleep", "nanosleep",
	"gettimeofday", "getrandom", "sched_yield", "sched_getaffinity",
	"prlimit64", "getrlimit", "membarrier", NULL,
};

/* Refused, not fatal: a library may probe a file or a socket and do
 * without. */
static const char *const serve_refused[] = { "open", "openat", "openat2",
    "socket", NULL };

static void
missing(struct sandbox_report *r, const char *what)
{
	size_t n = strlen(r->missing);

	snprintf(r->missing + n, sizeof(r->missing) - n, "%s%s",
	    n > 0 ? "; " : "", what);
}

static int
add(scmp_filter_ctx ctx, uint32_t action, const char *const *names)
{
	for (; *names != NULL; names++) {
		int nr = seccomp_syscall_resolve_name(*names);

		if (nr != __NR_SCMP_ERROR &&
		    seccomp_rule_add(ctx, action, nr, 0) < 0)
			return -1;
	}
	return 0;
}

/* The serve profile's filter, loaded: 0; -1 when the kernel refuses it. */
static int
filter_serve(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	const struct scmp_arg_cmp thread = { .arg = 0,
	    .op = SCMP_CMP_MASKED_EQ, .datum_a = CLONE_THREAD,
	    .datum_b = CLONE_THREAD };
	const struct scmp_arg_cmp name = { .arg = 0, .op = SCMP_CMP_EQ,
	    .datum_a = PR_SET_NAME, .datum_b = 0 };
	int rc = -1;

	if (ctx == NULL)
		return -1;
	/* Threads only (CLONE_THREAD), never a new process; clone3's flags
	 * are out of a filter's reach: ENOSYS makes glibc use clone. */
	if (add(ctx, SCMP_ACT_ALLOW, serve_calls) == 0 &&
	    add(ctx, SCMP_ACT_ERRNO(EACCES), serve_refused) == 0 &&
	    seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
	    &thread) == 0 &&
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3),
	    0) == 0 &&
	    /* Threads name themselves (MHD's do); no other prctl. */
	    seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
	    &name) == 0 &&
	    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) == 0)
		rc = seccomp_load(ctx) == 0 ? 0 : -1;
	seccomp_release(ctx);
	return rc;
}

/* Become user (and its group, with no supplementary one), for good. */
static int
become(const char *user, struct err *err)
{
	const struct passwd *pw = getpwnam(user);
	uid_t ru, eu, su;

	if (pw == NULL)
		return err_set(err, ERR_INVALID, "sandbox: no user %s to run "
		    "as (status.user)", user);
	if (pw->pw_uid == 0)
		return err_set(err, ERR_INVALID, "sandbox: status.user %s is "
		    "root", user);
	if (setgroups(0, NULL) < 0 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0)
		return err_set(err, ERR_FAIL, "sandbox: becoming %s: %s", user,
		    strerror(errno));
	/* No way back: a process that could regain root is not confined. */
	if (getresuid(&ru, &eu, &su) < 0 || ru == 0 || eu == 0 || su == 0 ||
	    setuid(0) == 0)
		return err_set(err, ERR_FAIL, "sandbox: still able to be root "
		    "after becoming %s", user);
	return 0;
}

int
sandbox_confine(const struct sandbox_opts *o, struct sandbox_report *r,
    struct err *err)
{
	memset(r, 0, sizeof(*r));
	if (geteuid() == 0) {
		if (o->user == NULL)
			return err_set(err, ERR_INVALID, "sandbox: running as "
			    "root needs a user to become (status.user)");
		if (become(o->user, err) < 0)
			return err->code;
		r->user = true;
	}
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0)
		r->no_new_privs = true;
	else
		missing(r, "no_new_privs (the kernel refused it)");
	/* seccomp needs no_new_privs when not root. */
	if (r->no_new_privs && filter_serve() == 0)
		r->seccomp = true;
	else
		missing(r, "seccomp (the kernel or the container refused the "
		    "filter)");
	return 0;
}

cJSON *
sandbox_report_json(const struct sandbox_report *r)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddBoolToObject(o, "user", r->user);
	cJSON_AddBoolToObject(o, "no_new_privs", r->no_new_privs);
	cJSON_AddBoolToObject(o, "seccomp", r->seccomp);
	if (r->missing[0] != '\0')
		cJSON_AddStringToObject(o, "missing", r->missing);
	return o;
}
