/*
 * watch.c - a directory source: inotify, debounce, rescans (see sources.h).
 *
 * Every directory under the root gets a watch (hidden ones included: a
 * Kubernetes-style `..data` swap renames a hidden symlink).  Events only
 * say "something changed"; what changed is found by hashing the tree, so
 * missed or coalesced events cannot leave a stale snapshot in force once
 * the next event or rescan comes.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "clock.h"
#include "sources.h"
#include "sources_int.h"
#include "path.h"

#define WATCH_MASK (IN_CREATE | IN_DELETE | IN_CLOSE_WRITE | IN_MODIFY | \
    IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF | \
    IN_MOVE_SELF | IN_ONLYDIR)

struct sources_dir {
	char *root;
	int fd;			/* inotify, or -1 */
	int debounce_ms;
	int rescan_ms;
	size_t watches;
	bool degraded;		/* some directory has no watch: poll */
	bool dirty;		/* a change is waiting for quiet */
	long long quiet_at;	/* ms: when the burst is over */
	long long rescan_at;	/* ms: the next periodic rescan */
	char last[65];		/* revision last delivered ("" = none) */
	atomic_bool kicked;	/* sources_dir_trigger: rescan now */
};

/* Watch dir and every directory below it; adding a watch twice is
 * harmless (the kernel returns the same descriptor). */
static void
watch_tree(struct sources_dir *d, const char *dir, int depth)
{
	struct dirent *de;
	DIR *dp;

	if (depth > SOURCES_DEPTH_MAX)
		return;
	if (inotify_add_watch(d->fd, dir, WATCH_MASK) < 0) {
		/* ENOSPC: out of watches; the periodic rescan covers it. */
		d->degraded = true;
		return;
	}
	d->watches++;
	if ((dp = opendir(dir)) == NULL)
		return;
	while ((de = readdir(dp)) != NULL) {
		struct stat st;
		char *p;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, ".git") == 0)
			continue;
		if ((p = path_join(dir, de->d_name)) == NULL)
			break;
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			watch_tree(d, p, depth + 1);
		free(p);
	}
	closedir(dp);
}

static void
rewatch(struct sources_dir *d)
{
	d->watches = 0;
	d->degraded = d->fd < 0;
	if (d->fd >= 0)
		watch_tree(d, d->root, 0);
}

int
sources_dir_open(struct sources_dir **out, const struct sources_dir_opts *o,
    struct err *err)
{
	struct sources_dir *d = xcalloc(1, sizeof(*d));
	struct stat st;

	*out = NULL;
	d->root = xstrdup(o->root);
	d->fd = -1;
	errno = 0;
	if (stat(o->root, &st) < 0 || !S_ISDIR(st.st_mode)) {
		int rc = err_set(err, errno == ENOENT ? ERR_NOTFOUND :
		    ERR_INVALID, "source %s: %s", o->root, errno ?
		    strerror(errno) : "not a directory");
		sources_dir_free(d);
		return rc;
	}
	d->debounce_ms = o->debounce_ms > 0 ? o->debounce_ms : 200;
	d->rescan_ms = o->rescan_ms > 0 ? o->rescan_ms : 300000;
	d->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	rewatch(d);
	d->dirty = true;	/* the first call delivers at once */
	d->quiet_at = clock_mono_ms();
	d->rescan_at = clock_mono_ms() + d->rescan_ms;
	*out = d;
	return 0;
}

/* Drain the queue; true when any event arrived. */
static bool
drain(struct sources_dir *d)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool any = false, subdir = false;
	ssize_t n;

	while ((n = read(d->fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const void *)p;
			if (ev->mask & (IN_Q_OVERFLOW | IN_IGNORED))
				subdir = true;
			if ((ev->mask & IN_ISDIR) && (ev->mask & (IN_CREATE |
			    IN_MOVED_TO)))
				subdir = true;
			if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF))
				subdir = true;
			any = true;
			p += sizeof(*ev) + ev->len;
		}
	}
	/* New directories need watches; after an overflow anything may have
	 * happened, so the tree is walked again. */
	if (subdir)
		rewatch(d);
	return any;
}

static int
deliver(struct sources_dir *d, struct sources_snapshot **out,
    struct err *err)
{
	struct sources_snapshot *s;
	int rc;

	d->dirty = false;
	if ((rc = sources_dir_snapshot(&s, d->root, err)) < 0)
		return rc;
	if (strcmp(s->revision, d->last) == 0) {
		sources_snapshot_unref(s);
		return 0;
	}
	memcpy(d->last, s->revision, sizeof(d->last));
	*out = s;
	return 1;
}

int
sources_dir_next(struct sources_dir *d, struct sources_snapshot **out,
    int timeout_ms, struct err *err)
{
	long long end = clock_mono_ms() + timeout_ms, t, wait;
	struct pollfd pfd = { .fd = d->fd, .events = POLLIN };

	*out = NULL;
	for (;;) {
		t = clock_mono_ms();
		if (atomic_exchange(&d->kicked, false))
			return deliver(d, out, err);
		if (d->dirty && t >= d->quiet_at)
			return deliver(d, out, err);
		if (t >= d->rescan_at) {
			d->rescan_at = t + d->rescan_ms;
			if (d->degraded)
				rewatch(d);
			return deliver(d, out, err);
		}
		if (t >= end)
			return 0;
		wait = end - t;
		if (d->dirty && d->quiet_at - t < wait)
			wait = d->quiet_at - t;
		if (d->rescan_at - t < wait)
			wait = d->rescan_at - t;
		/* Without inotify (or with directories it could not watch)
		 * the tree is polled every two seconds. */
		if (d->degraded && wait > 2000) {
			d->rescan_at = t + 2000;
			wait = 2000;
		}
		if (d->fd < 0) {
			usleep((useconds_t)wait * 1000);
			continue;
		}
		if (poll(&pfd, 1, (int)wait) > 0 && drain(d)) {
			d->dirty = true;
			d->quiet_at = clock_mono_ms() + d->debounce_ms;
		}
	}
}

void
sources_dir_trigger(struct sources_dir *d)
{
	if (d != NULL)
		atomic_store(&d->kicked, true);
}

size_t
sources_dir_watches(const struct sources_dir *d, bool *degraded)
{
	if (degraded != NULL)
		*degraded = d->degraded;
	return d->watches;
}

void
sources_dir_free(struct sources_dir *d)
{
	if (d == NULL)
		return;
	if (d->fd >= 0)
		close(d->fd);
	free(d->root);
	free(d);
}
