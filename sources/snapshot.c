/*
 * snapshot.c - a directory's stacks at one revision (see sources.h).
 *
 * The revision hashes every file discovery would not skip, not only the
 * compose files: a secret's or config's file changes what is deployed as
 * much as the compose file does.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "alloc.h"
#include "sources.h"
#include "sources_int.h"
#include "path.h"

/* Bigger files are hashed by size and modification time only: nothing a
 * stack reads is that large, and a stray image or archive in the tree
 * must not make every rescan slow. */
#define HASH_FILE_MAX (16u * 1024 * 1024)
#define HASH_FILES_MAX 100000

struct hasher {
	EVP_MD_CTX *md;
	const char *root;
	size_t files;
	struct err *err;
};

struct snapshot_ref {
	struct sources_snapshot s;
	atomic_int refs;
	char *owned_dir;	/* removed with the last reference */
};

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in dir that are not skipped, sorted, so the hash is stable. */
static int
names_of(const char *dir, char ***out, size_t *n)
{
	struct dirent *de;
	char **v = NULL;
	DIR *d;

	*n = 0;
	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (sources_name_skipped(de->d_name))
			continue;
		v = xrealloc(v, (*n + 1) * sizeof(*v));
		v[(*n)++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (*n > 1)
		qsort(v, *n, sizeof(*v), cmp_str);
	*out = v;
	return 0;
}

static int
hash_file(struct hasher *h, const char *path, const char *rel,
    const struct stat *st)
{
	unsigned char buf[65536];
	uint64_t size = (uint64_t)st->st_size;
	ssize_t got;
	int fd;

	EVP_DigestUpdate(h->md, rel, strlen(rel) + 1);
	EVP_DigestUpdate(h->md, &size, sizeof(size));
	if (size > HASH_FILE_MAX) {
		int64_t mtime = (int64_t)st->st_mtime;
		EVP_DigestUpdate(h->md, &mtime, sizeof(mtime));
		return 0;
	}
	/* An unreadable file is that stack's problem, reported when the
	 * stack is loaded: the other stacks go on.  Its errno is hashed, so
	 * that fixing the permissions is a new revision. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		int e = errno;
		EVP_DigestUpdate(h->md, &e, sizeof(e));
		return 0;
	}
	while ((got = read(fd, buf, sizeof(buf))) > 0)
		EVP_DigestUpdate(h->md, buf, (size_t)got);
	close(fd);
	if (got < 0)
		return err_set(h->err, ERR_FAIL, "source %s: cannot read %s: "
		    "%s", h->root, rel, strerror(errno));
	return 0;
}

static int
hash_dir(struct hasher *h, const char *dir, const char *rel, int depth)
{
	char **names = NULL;
	size_t n = 0;
	int rc = 0;

	if (depth > SOURCES_DEPTH_MAX)
		return 0;
	if (names_of(dir, &names, &n) < 0)
		return err_set(h->err, errno == ENOENT ? ERR_NOTFOUND :
		    ERR_FAIL,
		    "source %s: cannot read %s: %s", h->root, *rel ? rel : ".",
		    strerror(errno));
	for (size_t i = 0; i < n && rc == 0; i++) {
		char *path = path_join(dir, names[i]);
		char *r = *rel ? path_join(rel, names[i]) :
		    xstrdup(names[i]);
		struct stat st;

		if (++h->files > HASH_FILES_MAX)
			rc = err_set(h->err, ERR_INVALID, "source %s: more than "
			    "%d files", h->root, HASH_FILES_MAX);
		/* A dangling symlink or a socket is not part of any stack. */
		else if (stat(path, &st) < 0)
			rc = 0;
		else if (S_ISDIR(st.st_mode))
			rc = hash_dir(h, path, r, depth + 1);
		else if (S_ISREG(st.st_mode))
			rc = hash_file(h, path, r, &st);
		free(path);
		free(r);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

int
sources_dir_revision(char out[65], const char *root, struct err *err)
{
	struct hasher h = { .root = root, .err = err };
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	int rc;

	if ((h.md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(h.md, EVP_sha256(), NULL) != 1)
		alloc_fail();	/* OpenSSL's only reason here */
	rc = hash_dir(&h, root, "", 0);
	if (rc == 0)
		EVP_DigestFinal_ex(h.md, md, &len);
	EVP_MD_CTX_free(h.md);
	if (rc < 0)
		return rc;
	for (unsigned int i = 0; i < len && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	out[64] = '\0';
	return 0;
}

static struct snapshot_ref *
snapshot_alloc(const char *root)
{
	struct snapshot_ref *r = xcalloc(1, sizeof(*r));

	r->s.root = xstrdup(root);
	atomic_init(&r->refs, 1);
	return r;
}

int
sources_dir_snapshot(struct sources_snapshot **out, const char *root,
    struct err *err)
{
	struct snapshot_ref *r = snapshot_alloc(root);
	char again[65];
	int rc = 0;

	*out = NULL;
	/* Hash, discover, hash again: a tree that changed in between is
	 * read again rather than delivered half old, half new. */
	for (int tries = 0; tries < 3; tries++) {
		sources_list_release(&r->s.list);
		if ((rc = sources_dir_revision(r->s.revision, root, err)) < 0 ||
		    (rc = sources_discover(&r->s.list, root, err)) < 0 ||
		    (rc = sources_dir_revision(again, root, err)) < 0)
			break;
		if (strcmp(again, r->s.revision) == 0)
			break;
	}
	if (rc < 0) {
		sources_snapshot_unref(&r->s);
		return rc;
	}
	r->s.taken = (long long)time(NULL);
	*out = &r->s;
	return 0;
}

int
sources_snapshot_new(struct sources_snapshot **out, const char *root,
    const char *revision, const char *owned_dir, struct err *err)
{
	struct snapshot_ref *r = snapshot_alloc(root);
	int rc;

	*out = NULL;
	if (owned_dir != NULL)
		r->owned_dir = xstrdup(owned_dir);
	snprintf(r->s.revision, sizeof(r->s.revision), "%s", revision);
	if ((rc = sources_discover(&r->s.list, root, err)) < 0) {
		sources_snapshot_unref(&r->s);
		return rc;
	}
	r->s.taken = (long long)time(NULL);
	*out = &r->s;
	return 0;
}

struct sources_snapshot *
sources_snapshot_ref(struct sources_snapshot *s)
{
	if (s != NULL)
		atomic_fetch_add(&((struct snapshot_ref *)s)->refs, 1);
	return s;
}

void
sources_snapshot_unref(struct sources_snapshot *s)
{
	struct snapshot_ref *r = (struct snapshot_ref *)s;

	if (s == NULL || atomic_fetch_sub(&r->refs, 1) != 1)
		return;
	sources_list_release(&s->list);
	if (r->owned_dir != NULL)
		sources_remove_tree(r->owned_dir);
	free(r->owned_dir);
	free(s->root);
	free(s->author);
	free(s->subject);
	free(r);
}
