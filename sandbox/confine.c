/*
 * confine.c - a process of stackd's gives up what its work does not
 * need: root, new privileges, system calls (libseccomp).
 *
 * SANDBOX_SERVE's filter is an allow-list: a call not named here kills
 * the process (SIGSYS), the parent sees it die and starts it again.  A
 * fetch runs libgit2, libcurl, OpenSSL and the resolver, whose calls are
 * too many to list and change with every release, so SANDBOX_FETCH's
 * filter is a deny-list of what a fetch never does (exec, a new process,
 * ptrace, mounts, namespaces, bpf, ...) and Landlock fences its files.
 * Calls are named, not numbered, so that one list serves every
 * architecture; a name the architecture lacks (poll on arm64) is skipped.
 */
#define _GNU_SOURCE	/* setresuid, getresuid, CLONE_THREAD */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>
#include <seccomp.h>

#include "sandbox_int.h"

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

void
sandbox_missing(struct sandbox_report *r, const char *what)
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

/* What a fetch never needs and a taken-over one would want: another
 * program, another process, another's memory, the kernel's
 * administration, and io_uring (its operations pass no filter). */
static const char *const fetch_killed[] = {
	"execve", "execveat", "fork", "vfork", "ptrace", "process_vm_readv",
	"process_vm_writev", "pidfd_open", "pidfd_getfd", "kcmp", "mount",
	"umount2", "pivot_root", "chroot", "setns", "unshare", "bpf",
	"perf_event_open", "kexec_load", "kexec_file_load", "init_module",
	"finit_module", "delete_module", "io_uring_setup", "io_uring_enter",
	"io_uring_register", "userfaultfd", "keyctl", "add_key",
	"request_key", "open_by_handle_at", "name_to_handle_at", "reboot",
	"swapon", "swapoff", "acct", "quotactl", "iopl", "ioperm",
	"personality", "fanotify_init", "mount_setattr", "move_mount",
	"open_tree", "fsopen", "fsmount", "fspick", NULL,
};

/* socket(): IP and netlink (name resolution); AF_UNIX when asked. */
static int
sockets(scmp_filter_ctx ctx, bool unix_sockets)
{
	const uint32_t refuse = SCMP_ACT_ERRNO(EACCES);
	struct scmp_arg_cmp past = { .arg = 0, .op = SCMP_CMP_GE,
	    .datum_a = AF_MAX };

	for (int d = 0; d < AF_MAX; d++) {
		struct scmp_arg_cmp is = { .arg = 0, .op = SCMP_CMP_EQ,
		    .datum_a = (scmp_datum_t)d };

		if (d == AF_INET || d == AF_INET6 || d == AF_NETLINK ||
		    (d == AF_UNIX && unix_sockets))
			continue;
		if (seccomp_rule_add_array(ctx, refuse, SCMP_SYS(socket), 1,
		    &is) < 0)
			return -1;
	}
	return seccomp_rule_add_array(ctx, refuse, SCMP_SYS(socket), 1,
	    &past);
}

/* The fetch profile's filter: a deny-list, as libgit2's transports
 * (OpenSSL, libssh2, the resolver) need a wide, version-bound set of
 * calls; what it denies is what would give a taken-over fetch power
 * beyond its source.  Threads only, as in the serve profile. */
static int
filter_fetch(bool unix_sockets)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	const struct scmp_arg_cmp process = { .arg = 0,
	    .op = SCMP_CMP_MASKED_EQ, .datum_a = CLONE_THREAD, .datum_b = 0 };
	int rc = -1;

	if (ctx == NULL)
		return -1;
	if (add(ctx, SCMP_ACT_KILL_PROCESS, fetch_killed) == 0 &&
	    sockets(ctx, unix_sockets) == 0 &&
	    seccomp_rule_add_array(ctx, SCMP_ACT_KILL_PROCESS,
	    SCMP_SYS(clone), 1, &process) == 0 &&
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3),
	    0) == 0 &&
	    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) == 0)
		rc = seccomp_load(ctx) == 0 ? 0 : -1;
	seccomp_release(ctx);
	return rc;
}

/* Give up every capability (root keeps its uid, so its own files).  The
 * effective and permitted sets go first: emptying them needs no
 * privilege, while the bounding set needs CAP_SETPCAP, which a
 * container may lack (and only matters for an exec, which is killed). */
static int
drop_capabilities(void)
{
	struct __user_cap_header_struct h = {
	    .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = { { 0 }, { 0 } };

	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	for (int c = 0; c <= CAP_LAST_CAP; c++)
		(void)prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
	return (int)syscall(SYS_capset, &h, d);
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

/* The fetch profile's pieces, each said when missing. */
static void
confine_fetch(const struct sandbox_opts *o, struct sandbox_report *r)
{
	if (geteuid() == 0) {
		if (drop_capabilities() == 0)
			r->no_capabilities = true;
		else
			sandbox_missing(r, "capabilities (could not drop "
			    "them)");
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0)
		r->no_new_privs = true;
	else
		sandbox_missing(r, "no_new_privs (the kernel refused it)");
	if (r->no_new_privs && sandbox_landlock(o, r) == 0)
		r->landlock = true;
	if (r->no_new_privs && filter_fetch(o->unix_sockets) == 0)
		r->seccomp = true;
	else
		sandbox_missing(r, "seccomp (the kernel or the container "
		    "refused the filter)");
}

int
sandbox_confine(const struct sandbox_opts *o, struct sandbox_report *r,
    struct err *err)
{
	memset(r, 0, sizeof(*r));
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (o->profile == SANDBOX_FETCH) {
		confine_fetch(o, r);
		return 0;
	}
	if (geteuid() == 0) {
		if (o->user == NULL)
			return err_set(err, ERR_INVALID, "sandbox: running as "
			    "root needs a user to become (status.user)");
		if (become(o->user, err) < 0)
			return err->code;
		r->user = true;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0)
		r->no_new_privs = true;
	else
		sandbox_missing(r, "no_new_privs (the kernel refused it)");
	/* seccomp needs no_new_privs when not root. */
	if (r->no_new_privs && filter_serve() == 0)
		r->seccomp = true;
	else
		sandbox_missing(r, "seccomp (the kernel or the container "
		    "refused the filter)");
	return 0;
}

cJSON *
sandbox_report_json(const struct sandbox_report *r)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddBoolToObject(o, "user", r->user);
	cJSON_AddBoolToObject(o, "no_new_privs", r->no_new_privs);
	cJSON_AddBoolToObject(o, "seccomp", r->seccomp);
	if (r->landlock)
		cJSON_AddBoolToObject(o, "landlock", true);
	if (r->no_capabilities)
		cJSON_AddBoolToObject(o, "no_capabilities", true);
	if (r->missing[0] != '\0')
		cJSON_AddStringToObject(o, "missing", r->missing);
	return o;
}
