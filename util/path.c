/*
 * path.c - see path.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "path.h"

char *
path_join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = xmalloc(n);

	snprintf(p, n, "%s/%s", dir, name);
	return p;
}

bool
path_has_suffix(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

int
path_mkdirs(const char *path, struct err *err)
{
	char tmp[4096];

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return err_set(err, ERR_INVALID, "path too long: %s", path);
	for (char *p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
			return err_set(err, ERR_FAIL, "cannot create %s: %s",
			    tmp, strerror(errno));
		*p = '/';
	}
	if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
		return err_set(err, ERR_FAIL, "cannot create %s: %s", tmp,
		    strerror(errno));
	return 0;
}

int
path_write_atomic(const char *path, const char *data, size_t len,
    struct err *err)
{
	char tmp[4096];
	size_t off = 0;
	ssize_t n;
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return err_set(err, ERR_INVALID, "path too long: %s", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) < 0)
		return err_set(err, ERR_FAIL, "cannot write %s: %s", tmp,
		    strerror(errno));
	while (off < len) {
		if ((n = write(fd, data + off, len - off)) < 0 &&
		    errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	/* Renamed only once on disk: a crash leaves the old file whole. */
	if (off < len || fsync(fd) < 0) {
		int e = errno;
		close(fd);
		unlink(tmp);
		return err_set(err, ERR_FAIL, "cannot write %s: %s", tmp,
		    strerror(e));
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return err_set(err, ERR_FAIL, "cannot rename %s: %s", tmp,
		    strerror(e));
	}
	return 0;
}
