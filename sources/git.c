/*
 * git.c - a git repository as a source (see sources.h).
 *
 * Each fetch asks for the one ref followed, into refs/stackd/ of a bare
 * cache repository, forced: a force-push or a rewritten history is simply
 * the new state.  Whether the ref exists is decided by what the remote
 * advertised in this very fetch, so a deleted branch is an error, not a
 * stale commit deployed for ever.  A pinned commit is fetched once.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "clock.h"
#include "git_int.h"
#include "path.h"
#include "sources.h"
#include "sources_int.h"

struct sources_git {
	char *url;
	char *safe_url;		/* without credentials, for messages */
	char *ref, *subpath, *cache;
	char *username, *token_file, *token_env;
	char *ssh_key, *ssh_passphrase_file, *known_hosts, *ca_file;
	const atomic_int *cancel;
	enum git_ref_kind kind;
	bool confined;		/* fetch in a `stackd git-fetch` process */
	int port;
	int poll_ms, timeout_ms;
	git_repository *repo;
	int lockfd;
	int wakefd;		/* eventfd: a trigger */
	long long fetch_at;	/* ms, monotonic: the next fetch */
	unsigned long seq;	/* export directory names */
	char last[GIT_OID_HEXSZ + 1];	/* commit last delivered */
	struct sources_git_stats stats;
};

const char *
sources_git_error(void)
{
	const git_error *e = git_error_last();

	return e != NULL && e->message != NULL ? e->message : "unknown error";
}

static bool
is_commit_id(const char *s)
{
	size_t n = strspn(s, "0123456789abcdef");

	return n == GIT_OID_HEXSZ && s[n] == '\0';
}

static void
dup_opt(char **dst, const char *src)
{
	*dst = src != NULL ? xstrdup(src) : NULL;
}

static int
check_ref(struct sources_git *g, struct err *err)
{
	char full[1024];
	int valid = 0;

	if (g->ref == NULL || *g->ref == '\0') {
		g->kind = SRC_REF_HEAD;
		return 0;
	}
	if (is_commit_id(g->ref)) {
		g->kind = SRC_REF_COMMIT;
		return 0;
	}
	g->kind = strncmp(g->ref, "refs/", 5) == 0 ? SRC_REF_FULL : SRC_REF_SHORT;
	snprintf(full, sizeof(full), "%s%s", g->kind == SRC_REF_FULL ? "" :
	    "refs/heads/", g->ref);
	if (git_reference_name_is_valid(&valid, full) < 0 || !valid)
		return err_set(err, ERR_INVALID, "git ref \"%s\" is not a "
		    "valid branch, tag or ref name (a commit id must be the "
		    "full 40 hex digits)", g->ref);
	return 0;
}

/* The cache: created, locked (two controllers on one cache would
 * remove each other's exports), stale exports removed. */
static int
open_cache(struct sources_git *g, struct err *err)
{
	char path[4096];
	int rc;

	if ((rc = path_mkdirs(g->cache, err)) < 0)
		return rc;
	snprintf(path, sizeof(path), "%s/lock", g->cache);
	if ((g->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return err_set(err, ERR_FAIL, "git cache %s: %s", path,
		    strerror(errno));
	if (flock(g->lockfd, LOCK_EX | LOCK_NB) < 0)
		return err_set(err, ERR_CONFLICT, "git cache %s is in use by "
		    "another stackd (give each its own state directory)",
		    g->cache);
	snprintf(path, sizeof(path), "%s/exports", g->cache);
	sources_remove_tree(path);
	if (mkdir(path, 0700) < 0)
		return err_set(err, ERR_FAIL, "git cache %s: %s", path,
		    strerror(errno));
	snprintf(path, sizeof(path), "%s/repo.git", g->cache);
	if (git_repository_open_bare(&g->repo, path) == 0)
		return 0;
	/* Missing or damaged: a cache is only a cache. */
	sources_remove_tree(path);
	if (git_repository_init(&g->repo, path, 1) < 0)
		return err_set(err, ERR_FAIL, "git cache %s: %s", path,
		    sources_git_error());
	return 0;
}

int
sources_git_open(struct sources_git **out, const struct sources_git_opts *o,
    struct err *err)
{
	struct sources_git *g = xcalloc(1, sizeof(*g));
	char safe[2048];
	int rc;

	*out = NULL;
	g->lockfd = g->wakefd = -1;
	sources_git_init();
	sources_git_url_redact(safe, sizeof(safe), o->url ? o->url : "");
	dup_opt(&g->url, o->url);
	dup_opt(&g->safe_url, safe);
	dup_opt(&g->ref, o->ref);
	dup_opt(&g->subpath, o->subpath);
	dup_opt(&g->cache, o->cache_dir);
	dup_opt(&g->username, o->username);
	dup_opt(&g->token_file, o->token_file);
	dup_opt(&g->token_env, o->token_env);
	dup_opt(&g->ssh_key, o->ssh_key);
	dup_opt(&g->ssh_passphrase_file, o->ssh_passphrase_file);
	dup_opt(&g->known_hosts, o->known_hosts);
	dup_opt(&g->ca_file, o->ca_file);
	if (g->url == NULL || *g->url == '\0' || g->cache == NULL) {
		rc = err_set(err, ERR_INVALID, "a git source needs a url and "
		    "a cache directory");
		goto fail;
	}
	if (sources_git_url_has_password(g->url)) {
		rc = err_set(err, ERR_INVALID, "git url %s carries a password:"
		    " put it in token_file instead", g->safe_url);
		goto fail;
	}
	if (g->subpath != NULL && (strstr(g->subpath, "..") != NULL ||
	    *g->subpath == '/')) {
		rc = err_set(err, ERR_INVALID, "git path \"%s\" must be a "
		    "directory inside the repository", g->subpath);
		goto fail;
	}
	g->cancel = o->cancel;
	g->confined = o->confined;
	g->port = sources_git_url_ssh_port(g->url);
	g->poll_ms = o->poll_ms > 0 ? o->poll_ms : 60000;
	g->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 120000;
	if ((rc = check_ref(g, err)) < 0 || (rc = open_cache(g, err)) < 0)
		goto fail;
	if ((g->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		rc = err_set(err, ERR_FAIL, "eventfd: %s", strerror(errno));
		goto fail;
	}
	g->fetch_at = clock_mono_ms();
	*out = g;
	return 0;
fail:
	sources_git_free(g);
	return rc;
}

/* One fetch, counted: into commit the id the ref is at now. */
static int
fetch(struct sources_git *g, char commit[GIT_COMMIT_HEX], struct err *err)
{
	const struct git_fetch f = { .url = g->url, .safe_url = g->safe_url,
	    .ref = g->ref, .kind = g->kind, .username = g->username,
	    .token_file = g->token_file, .token_env = g->token_env,
	    .ssh_key = g->ssh_key,
	    .ssh_passphrase_file = g->ssh_passphrase_file,
	    .known_hosts = g->known_hosts, .ca_file = g->ca_file,
	    .port = g->port, .timeout_ms = g->timeout_ms,
	    .cancel = g->cancel };
	long long t0 = clock_mono_ms();
	char path[4096];
	int rc;

	g->stats.fetches++;
	g->stats.last_fetch = (long long)time(NULL);
	snprintf(path, sizeof(path), "%s/repo.git", g->cache);
	g->stats.confined = g->confined;
	rc = g->confined ? sources_git_fetch_confined(path, &f, commit,
	    &g->stats.last_bytes, &g->stats.sandbox, err) :
	    sources_git_fetch(g->repo, &f, commit, &g->stats.last_bytes, err);
	g->stats.last_seconds = (double)(clock_mono_ms() - t0) / 1000.0;
	g->stats.last_failed = rc < 0;
	if (rc < 0)
		g->stats.fetch_errors++;
	return rc;
}

/* The commit to deploy now: fetched, or (pinned) already here. */
static int
resolve(struct sources_git *g, git_commit **out, struct err *err)
{
	char commit[GIT_COMMIT_HEX];
	git_oid id;
	int rc;

	if (g->kind == SRC_REF_COMMIT) {
		git_oid_fromstr(&id, g->ref);
		if (git_commit_lookup(out, g->repo, &id) == 0)
			return 0;
		if ((rc = fetch(g, commit, err)) < 0)
			return rc;
		if (git_commit_lookup(out, g->repo, &id) == 0)
			return 0;
		return err_set(err, ERR_NOTFOUND, "git %s: commit %s is in "
		    "no branch or tag", g->safe_url, g->ref);
	}
	if ((rc = fetch(g, commit, err)) < 0)
		return rc;
	/* The fetch process wrote the objects: read them from the cache. */
	if (git_oid_fromstr(&id, commit) < 0 ||
	    git_commit_lookup(out, g->repo, &id) < 0)
		return err_set(err, ERR_PROTOCOL, "git %s: %s is at %.40s, "
		    "which is not a commit in the cache: %s", g->safe_url,
		    g->ref ? g->ref : "HEAD", commit, sources_git_error());
	return 0;
}

/* The tree the stacks live in: the commit's, or its subpath's. */
static int
stack_tree(struct sources_git *g, git_commit *c, const char *id,
    git_tree **out, struct err *err)
{
	git_tree_entry *e = NULL;
	git_tree *root = NULL;
	int rc = 0;

	if (git_commit_tree(&root, c) < 0)
		return err_set(err, ERR_FAIL, "commit %.12s: %s", id,
		    sources_git_error());
	if (g->subpath == NULL || *g->subpath == '\0' ||
	    strcmp(g->subpath, ".") == 0) {
		*out = root;
		return 0;
	}
	if (git_tree_entry_bypath(&e, root, g->subpath) < 0 ||
	    git_tree_entry_type(e) != GIT_OBJECT_TREE)
		rc = err_set(err, ERR_NOTFOUND, "commit %.12s has no "
		    "directory %s", id, g->subpath);
	else if (git_tree_lookup(out, g->repo, git_tree_entry_id(e)) < 0)
		rc = err_set(err, ERR_FAIL, "commit %.12s: %s", id,
		    sources_git_error());
	git_tree_entry_free(e);
	git_tree_free(root);
	return rc;
}

static int
snapshot_of(struct sources_git *g, git_commit *c, const char *id,
    struct sources_snapshot **out, struct err *err)
{
	const git_signature *a = git_commit_author(c);
	const char *subject = git_commit_summary(c);
	struct sources_snapshot *s = NULL;
	git_tree *tree = NULL;
	char dir[4096];
	int rc;

	snprintf(dir, sizeof(dir), "%s/exports/%.12s.%lu", g->cache, id,
	    ++g->seq);
	if ((rc = stack_tree(g, c, id, &tree, err)) < 0)
		return rc;
	rc = sources_git_export(g->repo, tree, dir, err);
	git_tree_free(tree);
	if (rc < 0) {
		err_prefix(err, "commit %.12s: ", id);
		return rc;
	}
	if ((rc = sources_snapshot_new(&s, dir, id, dir, err)) < 0) {
		sources_remove_tree(dir);
		err_prefix(err, "commit %.12s: ", id);
		return rc;
	}
	if (a != NULL && a->name != NULL)
		s->author = xstrdup(a->name);
	if (subject != NULL)
		s->subject = xstrdup(subject);
	s->commit_time = (long long)git_commit_time(c);
	*out = s;
	return 0;
}

static int
sync_once(struct sources_git *g, struct sources_snapshot **out,
    struct err *err)
{
	char id[GIT_OID_HEXSZ + 1];
	git_commit *c = NULL;
	int rc;

	if ((rc = resolve(g, &c, err)) < 0)
		return rc;
	git_oid_tostr(id, sizeof(id), git_commit_id(c));
	if (strcmp(id, g->last) == 0) {
		git_commit_free(c);
		return 0;
	}
	rc = snapshot_of(g, c, id, out, err);
	git_commit_free(c);
	if (rc < 0)
		return rc;
	memcpy(g->last, id, sizeof(g->last));
	return 1;
}

/* The next poll: the interval, give or take 10 %, so that many
 * controllers polling one server spread out. */
static long long
next_poll(const struct sources_git *g, long long now)
{
	long long spread = g->poll_ms / 10;

	if (spread <= 0)
		return now + g->poll_ms;
	return now + g->poll_ms - spread + (long long)(random() %
	    (2 * spread + 1));
}

int
sources_git_next(struct sources_git *g, struct sources_snapshot **out,
    int timeout_ms, struct err *err)
{
	long long end = clock_mono_ms() + timeout_ms, t;
	struct pollfd pfd = { .fd = g->wakefd, .events = POLLIN };
	uint64_t n;

	*out = NULL;
	for (;;) {
		t = clock_mono_ms();
		if (t >= g->fetch_at) {
			/* A pinned commit, once delivered, never changes. */
			g->fetch_at = g->kind == SRC_REF_COMMIT && *g->last ?
			    INT64_MAX : next_poll(g, t);
			return sync_once(g, out, err);
		}
		if (t >= end)
			return 0;
		if (poll(&pfd, 1, (int)((g->fetch_at < end ? g->fetch_at :
		    end) - t)) > 0 && read(g->wakefd, &n, sizeof(n)) > 0)
			g->fetch_at = clock_mono_ms();
	}
}

void
sources_git_trigger(struct sources_git *g)
{
	uint64_t one = 1;

	if (g != NULL && write(g->wakefd, &one, sizeof(one)) < 0) {
		/* The counter is full: a fetch is due already. */
	}
}

void
sources_git_stats(const struct sources_git *g, struct sources_git_stats *out)
{
	*out = g->stats;
}

void
sources_git_free(struct sources_git *g)
{
	if (g == NULL)
		return;
	git_repository_free(g->repo);
	if (g->wakefd >= 0)
		close(g->wakefd);
	if (g->lockfd >= 0)
		close(g->lockfd);
	free(g->url);
	free(g->safe_url);
	free(g->ref);
	free(g->subpath);
	free(g->cache);
	free(g->username);
	free(g->token_file);
	free(g->token_env);
	free(g->ssh_key);
	free(g->ssh_passphrase_file);
	free(g->known_hosts);
	free(g->ca_file);
	free(g);
}
