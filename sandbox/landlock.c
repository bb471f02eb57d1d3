/*
 * landlock.c - the fetch process's view of the file system (Landlock):
 * it reads the libraries, the TLS and name-service configuration and its
 * source's own credential files, and writes the git cache, nothing else:
 * not the engines' TLS keys, not the state directory, not /etc.
 *
 * The kernel's ABI version says which rights it can handle; rights it
 * does not know stay unrestricted, as Landlock intends (best effort).
 */
#define _GNU_SOURCE	/* O_PATH */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/landlock.h>

#include "sandbox_int.h"

/* Rights of later ABIs than Debian's headers know (kernel ABI values). */
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif

#define FS_READ (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
/* What a rule on a file (not a directory) may grant. */
#define FS_FILE (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | \
    LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE)

/* Every right the kernel's ABI knows (up to those of ABI 3). */
static uint64_t
handled(int abi)
{
	uint64_t all = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;

	if (abi >= 2)
		all |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		all |= LANDLOCK_ACCESS_FS_TRUNCATE;
	return all;
}

/* Grant access under path: 0, 1 when the path does not exist, -1. */
static int
allow(int ruleset, const char *path, uint64_t access)
{
	struct landlock_path_beneath_attr pb = { 0 };
	struct stat st;
	int rc;

	if ((pb.parent_fd = open(path, O_PATH | O_CLOEXEC)) < 0)
		return errno == ENOENT || errno == ENOTDIR ? 1 : -1;
	if (fstat(pb.parent_fd, &st) == 0 && !S_ISDIR(st.st_mode))
		access &= FS_FILE;
	pb.allowed_access = access;
	rc = (int)syscall(SYS_landlock_add_rule, ruleset,
	    LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
	close(pb.parent_fd);
	return rc < 0 ? -1 : 0;
}

static int
allow_all(int ruleset, const char *const *paths, uint64_t access,
    char *bad, size_t size)
{
	for (; paths != NULL && *paths != NULL; paths++)
		if (allow(ruleset, *paths, access) < 0) {
			snprintf(bad, size, "%s: %s", *paths, strerror(errno));
			return -1;
		}
	return 0;
}

int
sandbox_landlock(const struct sandbox_opts *o, struct sandbox_report *r)
{
	struct landlock_ruleset_attr attr = { 0 };
	char why[300], bad[256] = "";
	int abi, ruleset, rc = -1;

	abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 1) {
		sandbox_missing(r, "landlock (not in this kernel)");
		return -1;
	}
	attr.handled_access_fs = handled(abi);
	ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr,
	    sizeof(attr), 0);
	if (ruleset < 0) {
		snprintf(bad, sizeof(bad), "%s", strerror(errno));
	} else if (allow_all(ruleset, o->read_paths, FS_READ, bad,
	    sizeof(bad)) == 0 && allow_all(ruleset, o->write_dirs,
	    attr.handled_access_fs & ~LANDLOCK_ACCESS_FS_EXECUTE, bad,
	    sizeof(bad)) == 0) {
		if (syscall(SYS_landlock_restrict_self, ruleset, 0) == 0)
			rc = 0;
		else
			snprintf(bad, sizeof(bad), "%s", strerror(errno));
	}
	if (ruleset >= 0)
		close(ruleset);
	if (rc < 0) {
		snprintf(why, sizeof(why), "landlock (%s)", bad);
		sandbox_missing(r, why);
	}
	return rc;
}
