/*
 * status_int.h - what the status/ files share and nobody else sees: the
 * messages between the daemon and its status process, the documents the
 * process serves, and its HTTP server.
 */
#ifndef STACKD_STATUS_INT_H
#define STACKD_STATUS_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "frame.h"

struct ctl_state;

/* The status process's descriptors, as it is started. */
#define CTL_STATUS_LISTEN_FD 3
#define CTL_STATUS_LINK_FD 4

/*
 * Messages (frame.h).  From the daemon: the configuration the process
 * needs (its secrets: the bearer token, the webhook secrets, no other),
 * the documents and their removal.  From the process: what it is
 * confined by, and webhooks it verified: all the power it has over the
 * daemon is to make it fetch a source or look an image up early.
 */
enum ctl_status_msg {
	/* {"token", "registry_secret", "hooks": {"source": "secret"},
	 * "user", "sandbox": bool} */
	CTL_MSG_CONFIG = 1,
	CTL_MSG_DOC,		/* "CODE PATH\nTYPE\n" then the body */
	CTL_MSG_DROP,		/* PATH: no longer served */
	CTL_MSG_SERVE,		/* the first documents are in: serve */
	/* "CODE PATH\nTYPE\n" then a path a line: served as the JSON array
	 * of the documents at those paths (those there, in that order) */
	CTL_MSG_JOIN,
	CTL_MSG_HELLO = 16,	/* sandbox_report_json's text */
	CTL_MSG_HOOK,		/* VERDICT (ctl_hook_verdict) SOURCE */
	/* 'a' or 'r': a registry delivery accepted or refused; 'p'
	 * HOST '\0' REPOSITORY: a push it named. */
	CTL_MSG_REGISTRY,
};

#define CTL_MSG_CONFIG_MAX (1u << 20)
#define CTL_MSG_DOC_MAX (64u << 20)
#define CTL_MSG_PATH_MAX 1024u
#define CTL_MSG_HELLO_MAX 4096u
#define CTL_MSG_HOOK_MAX 512u
#define CTL_MSG_REGISTRY_MAX 600u

/* A string-keyed hash table (pathmap.c); keys are copied, values not. */
struct ctl_pathmap {
	struct ctl_pathmap_entry **buckets;
	size_t nbuckets, n;
};
void *ctl_pathmap_get(const struct ctl_pathmap *m, const char *key);
/* The value slot of key, added (NULL) if it was not there. */
void **ctl_pathmap_slot(struct ctl_pathmap *m, const char *key);
/* Remove key: its value, or NULL. */
void *ctl_pathmap_take(struct ctl_pathmap *m, const char *key);
/* Every entry, in no order; fn may not change m. */
void ctl_pathmap_each(const struct ctl_pathmap *m,
    void (*fn)(const char *key, void *val, void *arg), void *arg);
/* Empty m, passing each value to release (NULL: none). */
void ctl_pathmap_clear(struct ctl_pathmap *m, void (*release)(void *val));

/* fn on every stack any engine of st reports, once each, in the order
 * the sources list them (documents.c; the caller holds st->mu). */
struct ctl_state;
void ctl_stacks_each(const struct ctl_state *st,
    void (*fn)(const char *name, void *arg), void *arg);

/* One document as the process serves it. */
struct ctl_doc {
	unsigned code;
	char type[64];
	char *body;
	size_t len;
	bool join;	/* body: the paths of the parts (CTL_MSG_JOIN) */
};

/* The documents and the configuration (docs.c); thread-safe. */
struct ctl_docs;
struct ctl_docs *ctl_docs_new(void);
void ctl_docs_free(struct ctl_docs *d);
/* A CTL_MSG_DOC, CTL_MSG_DROP or CTL_MSG_CONFIG message: 0, or
 * ERR_PROTOCOL (the daemon sent what it never sends). */
int ctl_docs_apply(struct ctl_docs *d, const struct frame *f,
    struct err *err);
/* A copy of the document at path (free out->body): false if none. */
bool ctl_docs_get(struct ctl_docs *d, const char *path, struct ctl_doc *out);
/* Does an Authorization header value carry the bearer token (or is no
 * token set)?  which 0: the status token, 1: the registry webhook's
 * (never open). */
bool ctl_docs_bearer(struct ctl_docs *d, int which, const char *header);
/* Is there a registry webhook (a secret for it)? */
bool ctl_docs_has_registry(struct ctl_docs *d);
/* A copy of source's webhook secret (free with ctl_docs_secret_free), or
 * NULL: no webhook for it. */
char *ctl_docs_hook_secret(struct ctl_docs *d, const char *source);
void ctl_docs_secret_free(char *s);
/* The configuration's user and sandbox switch (before confining). */
void ctl_docs_sandbox(struct ctl_docs *d, char *user, size_t size,
    bool *enabled);

/* What the HTTP server reports of the webhooks it checked. */
struct ctl_http_ops {
	void (*hook)(void *arg, int verdict, const char *source);
	void (*registry)(void *arg, bool accepted);
	void (*push)(void *arg, const char *host, const char *repository);
	void *arg;
};

/* The HTTP server (server.c) on a listening socket, serving docs. */
struct ctl_http;
int ctl_http_start(struct ctl_http **out, int listen_fd, struct ctl_docs *docs,
    const struct ctl_http_ops *ops, struct err *err);
void ctl_http_stop(struct ctl_http *h);

/* The daemon's sender of documents (publish.c): what it sent the
 * process, by path. */
struct ctl_publisher;
struct ctl_publisher *ctl_publisher_new(void);
/* Forget what was sent: a new process has nothing. */
void ctl_publisher_reset(struct ctl_publisher *p);
void ctl_publisher_free(struct ctl_publisher *p);
/* Render every document of st (taking st->mu) and the process's
 * configuration (user, sandbox), and send fd what changed: 0 with *sent
 * the messages sent, or < 0 (err: the process is gone). */
int ctl_publisher_send(struct ctl_publisher *p, struct ctl_state *st,
    const char *user, bool sandbox, int fd, size_t *sent, struct err *err);

/* "ADDR:PORT" (IPv4) bound and listening, close-on-exec (supervise.c). */
int ctl_status_listen(const char *addr, int *fd, struct err *err);

#endif
