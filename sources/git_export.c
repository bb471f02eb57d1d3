/*
 * git_export.c - write one tree of a commit into a directory.
 *
 * The compose loader reads files, so the stacks of a commit are written
 * out from the object database into a fresh directory that belongs to
 * the snapshot and is removed with it.  There is no index and no working
 * tree: nothing a force-push or a rewritten history can conflict with,
 * and a snapshot in use is never changed under a reader.
 *
 * A repository is input from elsewhere, so the export is careful: entry
 * names cannot climb out, symlinks pointing outside the exported tree are
 * left out, submodules are skipped, and sizes are bounded.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "git_int.h"
#include "sources_int.h"

/* Nothing a stack reads is bigger (compose files stop at 8 MiB, configs
 * at 1000 KiB): larger blobs are images or archives that happen to live
 * in the repository, and are not written. */
#define EXPORT_BLOB_MAX (16u * 1024 * 1024)
#define EXPORT_FILES_MAX 100000
#define EXPORT_BYTES_MAX (512ull * 1024 * 1024)

struct export {
	git_repository *repo;
	const char *dir;
	size_t files;
	unsigned long long bytes;
	struct err *err;
	int rc;
};

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void
sources_remove_tree(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static bool
name_ok(const char *name)
{
	return *name != '\0' && strcmp(name, ".") != 0 &&
	    strcmp(name, "..") != 0 && strcmp(name, ".git") != 0 &&
	    strchr(name, '/') == NULL;
}

/* Does a link at depth (directories below the export root) with this
 * target stay inside the export? */
static bool
link_inside(const char *target, int depth)
{
	const char *p = target, *slash;
	size_t len;

	if (*target == '/' || *target == '\0')
		return false;
	while (*p != '\0') {
		slash = strchr(p, '/');
		len = slash ? (size_t)(slash - p) : strlen(p);
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			if (--depth < 0)
				return false;
		} else if (len > 0 && !(len == 1 && p[0] == '.')) {
			depth++;
		}
		p += len + (slash != NULL);
	}
	return true;
}

static int
depth_of(const char *root)
{
	int d = 0;

	for (const char *p = root; *p != '\0'; p++)
		d += *p == '/';
	return d;
}

static int
write_blob(const char *path, const git_blob *b, mode_t mode)
{
	const char *data = git_blob_rawcontent(b);
	size_t left = (size_t)git_blob_rawsize(b);
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    mode);
	if (fd < 0)
		return -1;
	while (left > 0) {
		if ((n = write(fd, data, left)) < 0) {
			close(fd);
			return -1;
		}
		data += n;
		left -= (size_t)n;
	}
	return close(fd);
}

static int
export_blob(struct export *x, const char *root, const git_tree_entry *e,
    const char *path)
{
	git_filemode_t mode = git_tree_entry_filemode(e);
	git_blob *b = NULL;
	int rc = 0;

	if (git_blob_lookup(&b, x->repo, git_tree_entry_id(e)) < 0)
		return err_set(x->err, ERR_FAIL, "cannot read %s%s: %s", root,
		    git_tree_entry_name(e), sources_git_error());
	if ((size_t)git_blob_rawsize(b) > EXPORT_BLOB_MAX) {
		git_blob_free(b);
		return 0;
	}
	x->bytes += (unsigned long long)git_blob_rawsize(b);
	if (x->bytes > EXPORT_BYTES_MAX) {
		git_blob_free(b);
		return err_set(x->err, ERR_INVALID, "the tree holds more than "
		    "%llu MiB of files", EXPORT_BYTES_MAX >> 20);
	}
	if (mode == GIT_FILEMODE_LINK) {
		char target[4096];
		size_t len = (size_t)git_blob_rawsize(b);

		if (len < sizeof(target) && memchr(git_blob_rawcontent(b), 0,
		    len) == NULL) {
			memcpy(target, git_blob_rawcontent(b), len);
			target[len] = '\0';
			if (link_inside(target, depth_of(root)) &&
			    symlink(target, path) < 0)
				rc = -1;
		}
	} else {
		rc = write_blob(path, b, mode == GIT_FILEMODE_BLOB_EXECUTABLE ?
		    0755 : 0644);
	}
	git_blob_free(b);
	if (rc < 0)
		return err_set(x->err, ERR_FAIL, "cannot write %s: %s", path,
		    strerror(errno));
	return 0;
}

/* git_tree_walk callback: 1 skips a subtree, negative stops the walk. */
static int
export_entry(const char *root, const git_tree_entry *e, void *payload)
{
	struct export *x = payload;
	const char *name = git_tree_entry_name(e);
	char path[4096];

	if (!name_ok(name))
		return git_tree_entry_type(e) == GIT_OBJECT_TREE ? 1 : 0;
	if (snprintf(path, sizeof(path), "%s/%s%s", x->dir, root, name) >=
	    (int)sizeof(path))
		return 1;
	if (++x->files > EXPORT_FILES_MAX) {
		x->rc = err_set(x->err, ERR_INVALID, "the tree holds more "
		    "than %d files", EXPORT_FILES_MAX);
		return -1;
	}
	switch (git_tree_entry_filemode(e)) {
	case GIT_FILEMODE_TREE:
		if (depth_of(root) >= SOURCES_DEPTH_MAX)
			return 1;
		if (mkdir(path, 0755) < 0) {
			x->rc = err_set(x->err, ERR_FAIL, "cannot create %s: "
			    "%s", path, strerror(errno));
			return -1;
		}
		return 0;
	case GIT_FILEMODE_BLOB:
	case GIT_FILEMODE_BLOB_EXECUTABLE:
	case GIT_FILEMODE_LINK:
		if ((x->rc = export_blob(x, root, e, path)) < 0)
			return -1;
		return 0;
	default:		/* a submodule: not part of this repository */
		return 0;
	}
}

int
sources_git_export(git_repository *repo, const git_tree *tree,
    const char *dir, struct err *err)
{
	struct export x = { .repo = repo, .dir = dir, .err = err };

	if (mkdir(dir, 0755) < 0)
		return err_set(err, ERR_FAIL, "cannot create %s: %s", dir,
		    strerror(errno));
	if (git_tree_walk(tree, GIT_TREEWALK_PRE, export_entry, &x) < 0 &&
	    x.rc == 0)
		x.rc = err_set(err, ERR_FAIL, "cannot read the tree: %s",
		    sources_git_error());
	if (x.rc < 0)
		sources_remove_tree(dir);
	return x.rc;
}
