/*
 * git_int.h - what the git source's files share.
 */
#ifndef STACKD_GIT_INT_H
#define STACKD_GIT_INT_H

#include <stdatomic.h>
#include <stdbool.h>

#include <git2.h>

#include "err.h"
#include "sandbox.h"

enum git_ref_kind {
	SRC_REF_HEAD,	/* the remote's HEAD */
	SRC_REF_SHORT,	/* a branch or a tag: whichever the remote has */
	SRC_REF_FULL,	/* refs/... */
	SRC_REF_COMMIT,	/* pinned */
};

/* What one fetch asks, in the daemon or in the fetch process. */
struct git_fetch {
	const char *url, *safe_url;
	const char *ref;		/* NULL: HEAD */
	enum git_ref_kind kind;
	const char *username, *token_file, *token_env;
	const char *ssh_key, *ssh_passphrase_file, *known_hosts;
	const char *ca_file;
	int port;			/* ssh */
	int timeout_ms;
	const atomic_int *cancel;	/* NULL in the fetch process */
};

/* The commit id a fetch found ("" for a pinned commit: it names it). */
#define GIT_COMMIT_HEX (GIT_OID_HEXSZ + 1)

/* Fetch f's ref into repo's refs/stackd/, as git.c describes: 0 with
 * commit set and *bytes received, or < 0 (err, one line). */
int sources_git_fetch(git_repository *repo, const struct git_fetch *f,
    char commit[GIT_COMMIT_HEX], unsigned long long *bytes,
    struct err *err);
/* The same in a confined `stackd git-fetch` process (git_child.c), which
 * opens the bare repository at repo_path itself. */
int sources_git_fetch_confined(const char *repo_path,
    const struct git_fetch *f, char commit[GIT_COMMIT_HEX],
    unsigned long long *bytes, struct sandbox_report *r, struct err *err);
/* Between the daemon and the fetch process (git_child.c): one request
 * on the process's descriptor 3, one answer back. */
#define GIT_FETCH_FD SANDBOX_FIRST_FD
#define GIT_MSG_REQUEST 32
#define GIT_MSG_ANSWER 33
#define GIT_REQUEST_MAX (64 * 1024)
#define GIT_ANSWER_MAX (8 * 1024)

/* libgit2, set up once per process (thread-safe). */
void sources_git_init(void);

/* One fetch: what its callbacks need (libgit2 hands them one payload). */
struct git_call {
	const char *username;
	const char *token_file, *token_env;
	const char *ssh_key, *ssh_passphrase_file;
	const char *known_hosts;	/* NULL: libgit2's own check */
	int port;			/* ssh port, for known_hosts */
	const char *ca_file;		/* https: NULL = the system's CAs */
	const atomic_int *cancel;
	long long deadline;		/* ms, monotonic */
	int attempts;
	char why[ERR_MSG_MAX];	/* set when a callback gave up: why */
};

/* git_credential_acquire_cb: one attempt per fetch, then a clear error. */
int sources_git_credentials(git_credential **out, const char *url,
    const char *username_from_url, unsigned int allowed, void *payload);
/* git_transport_certificate_check_cb: known_hosts for ssh, the CA file
 * for https, when set. */
int sources_git_certificate(git_cert *cert, int valid, const char *host,
    void *payload);
/* Progress callbacks: they end a fetch past its deadline or cancelled. */
int sources_git_transfer(const git_indexer_progress *stats, void *payload);
int sources_git_sideband(const char *str, int len, void *payload);
/* Is this host (and port) key in the known_hosts file?  1 yes, 0 no such
 * host, -1 the host is there with another key (or revoked). */
int sources_known_hosts_check(const char *file, const char *host, int port,
    const unsigned char *key, size_t keylen);

/* libgit2's last error message, or "unknown error". */
const char *sources_git_error(void);
/* Write tree into the new directory dir (removed again on failure). */
int sources_git_export(git_repository *repo, const git_tree *tree,
    const char *dir, struct err *err);

/* "https://user:pass@host/": the password would sit in the config, in
 * `ps` and in the cache's logs; it belongs in token_file (git_url.c). */
bool sources_git_url_has_password(const char *url);
/* The port of an ssh:// URL (22 for scp-like and anything else). */
int sources_git_url_ssh_port(const char *url);

#endif
