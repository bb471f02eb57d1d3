/*
 * git_int.h - what the git source's files share.
 */
#ifndef STACKD_GIT_INT_H
#define STACKD_GIT_INT_H

#include <stdatomic.h>
#include <stdbool.h>

#include <git2.h>

#include "err.h"

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
