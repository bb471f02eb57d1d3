/*
 * sources.h - where stack files come from.
 *
 * Discovery in a source root: each subdirectory NAME/ holding compose.yaml,
 * compose.yml, docker-compose.yaml, docker-compose.yml or stack.yml is the
 * stack NAME, with vars.yaml / vars.yml / *.vars.yaml beside it (and .env,
 * which the compose loader reads itself); a top-level NAME.yml or
 * NAME.yaml is a single-file stack.  Hidden files and editor leftovers are
 * skipped.  A bad stack name is an error of that stack only.
 */
#ifndef STACKD_SOURCES_H
#define STACKD_SOURCES_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "sandbox.h"

struct sources_stack {
	char *name;
	char **files;		/* the compose files, merged in order (one
				 * when discovered) */
	size_t nfiles;
	char **var_files;	/* sorted */
	size_t nvar_files;
	char *error;		/* set when this stack cannot be used */
};

struct sources_list {
	struct sources_stack *stacks;	/* sorted by name */
	size_t n;
};

/* Discover the stacks under root.  Fails only when root itself cannot be
 * read: per-stack problems are in stacks[i].error. */
int sources_discover(struct sources_list *out, const char *root,
    struct err *err);
void sources_list_release(struct sources_list *l);
/* Append path (taken over) to s's compose files. */
void sources_stack_add_file(struct sources_stack *s, char *path);

/*
 * A snapshot: the stacks a source held at one revision.  Immutable once
 * taken; shared between threads by reference count.
 *
 * For a directory the revision is a SHA-256 over the path and content of
 * every file under the root that discovery does not skip (compose and
 * vars files, and the files secrets and configs read), so an unchanged
 * rescan yields the same revision and triggers nothing.
 */
struct sources_snapshot {
	char revision[65];	/* hex */
	char *root;		/* where the stack files are */
	struct sources_list list;
	long long taken;	/* unix time */
	/* git sources: the commit */
	char *author;
	char *subject;
	long long commit_time;
};

int sources_dir_snapshot(struct sources_snapshot **out, const char *root,
    struct err *err);
/* The revision alone (what sources_dir_snapshot would record). */
int sources_dir_revision(char out[65], const char *root, struct err *err);
/* rm -rf, without following symlinks; errors are ignored. */
void sources_remove_tree(const char *path);
struct sources_snapshot *sources_snapshot_ref(struct sources_snapshot *s);
void sources_snapshot_unref(struct sources_snapshot *s);

/*
 * A watched directory.  Changes are debounced: a burst of events (an
 * editor's write-and-rename, a `cp -r` of many files) gives one new
 * snapshot once debounce_ms pass without another.  An inotify queue
 * overflow, or a directory that cannot get a watch, falls back to a
 * rescan; a periodic rescan catches anything missed.  Only a snapshot
 * whose revision differs from the last one delivered is delivered.
 */
struct sources_dir_opts {
	const char *root;
	int debounce_ms;	/* 0 = 200 */
	int rescan_ms;		/* 0 = 300000 (5 min) */
};

struct sources_dir;

int sources_dir_open(struct sources_dir **out,
    const struct sources_dir_opts *opts, struct err *err);
/*
 * Wait up to timeout_ms for a change.  Returns 1 and a new snapshot in
 * *out, 0 when nothing changed (*out NULL), or an error: then the last
 * good snapshot stays in force and the caller retries later.  The first
 * call delivers the initial snapshot at once.
 */
int sources_dir_next(struct sources_dir *d, struct sources_snapshot **out,
    int timeout_ms, struct err *err);
/* Rescan at the next call (a waiting call sees it within its timeout).
 * Any thread. */
void sources_dir_trigger(struct sources_dir *d);
/* inotify watches held, and whether the source fell back to rescans. */
size_t sources_dir_watches(const struct sources_dir *d, bool *degraded);
void sources_dir_free(struct sources_dir *d);

/*
 * A git repository.  Fetched into a bare cache repository under cache_dir
 * (one per source); the tree of the commit is read from the object
 * database into a directory the snapshot owns.  The snapshot's revision
 * is the commit id; author, subject and commit time are recorded.
 *
 * ref: a branch (followed), a tag, a full ref name, or a full commit id
 * (pinned: fetched once).  NULL or "" follows the remote's HEAD.
 * Credentials are read from files (or an environment variable) at each
 * fetch, never from the URL, and never appear in a message.
 */
/* Each string is owned by whoever filled the struct (stackd.yaml's
 * reader owns those of a config, released by sources_git_opts_release);
 * sources_open copies what it keeps. */
struct sources_git_opts {
	char *url;	/* https://, http://, ssh://, user@host:path,
				 * file:// or a local path */
	char *ref;
	char *subpath;	/* stacks live under this directory */
	char *cache_dir;	/* created if missing; locked */
	int poll_ms;		/* 0 = 60 s; jittered by up to 10 % */
	int timeout_ms;		/* one fetch; 0 = 120 s */
	/* https: a token (or password) for username */
	char *username;	/* default: the URL's, else "git" */
	char *token_file;
	char *token_env;
	/* ssh */
	char *ssh_key;	/* private key file; NULL = ssh-agent */
	char *ssh_passphrase_file;
	char *known_hosts;	/* NULL = ~/.ssh/known_hosts */
	/* https: trust only the CAs of this PEM file (NULL = the system's) */
	char *ca_file;
	/* A fetch in flight gives up once *cancel is set. */
	const atomic_int *cancel;
	/* Fetch in a confined process (`stackd git-fetch`, started from
	 * /proc/self/exe, which must dispatch it to sources_git_fetcher_main):
	 * it holds the network, the credentials and the cache's write; the
	 * caller reads the commit from the cache. */
	bool confined;
};
void sources_git_opts_release(struct sources_git_opts *o);


struct sources_git;

/* What the last fetch did, for status and benchmarks. */
struct sources_git_stats {
	unsigned long fetches;
	unsigned long fetch_errors;
	unsigned long long last_bytes;	/* received by the last fetch */
	double last_seconds;		/* its wall time */
	long long last_fetch;		/* unix time */
	bool last_failed;
	bool confined;			/* fetched in the fetch process */
	struct sandbox_report sandbox;	/* its last report, if confined */
};

int sources_git_open(struct sources_git **out,
    const struct sources_git_opts *opts, struct err *err);
/* As sources_dir_next: fetches when the poll interval is up or a trigger
 * came, delivers a snapshot for a new commit only. */
int sources_git_next(struct sources_git *g, struct sources_snapshot **out,
    int timeout_ms, struct err *err);
/* Fetch at the next chance (a webhook).  Any thread; async-signal-safe. */
void sources_git_trigger(struct sources_git *g);
void sources_git_stats(const struct sources_git *g,
    struct sources_git_stats *out);
/* `stackd git-fetch`: the fetch process, its request on descriptor 3
 * (git_child.c).  Returns the exit status. */
int sources_git_fetcher_main(void);
/* The URL without any user:password part, for messages. */
void sources_git_url_redact(char *out, size_t size, const char *url);
void sources_git_free(struct sources_git *g);

/*
 * Either kind of source behind one interface, for the daemon.
 */
enum sources_kind { SOURCES_DIR, SOURCES_GIT };

struct sources_opts {
	enum sources_kind kind;
	struct sources_dir_opts dir;
	struct sources_git_opts git;
};

struct sources_source;

int sources_open(struct sources_source **out, const struct sources_opts *o,
    struct err *err);
int sources_next(struct sources_source *s, struct sources_snapshot **out,
    int timeout_ms, struct err *err);
/* Read again at the next chance: a git source fetches, a directory is
 * rescanned.  Any thread. */
void sources_trigger(struct sources_source *s);
/* The git source behind s, or NULL. */
struct sources_git *sources_git_of(struct sources_source *s);
void sources_free(struct sources_source *s);

#endif
