/*
 * status.h - the status room (status/): the read-only HTTP server, the
 * JSON documents, the Prometheus metrics and the HTML page, all rendered
 * from the daemon's published state (struct ctl_state, daemon.h), and the
 * webhooks, whose one arrow back is a trigger (sources_trigger,
 * ctl_state_push).
 */
#ifndef STACKD_STATUS_H
#define STACKD_STATUS_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "log.h"

struct ctl_state;

/*
 * The status server runs in a process of its own (status/supervise.c):
 * `stackd run` starts `stackd status-server` with the listening socket
 * and a socketpair, sends it the documents below whenever they change,
 * and starts it again, with backoff, when it ends.  The process confines
 * itself (sandbox.h: an unprivileged user, no new privileges, seccomp)
 * and holds no engine socket, no credential but the status token and
 * the webhook secrets; what it sends back is a verified webhook.
 */
struct ctl_status_opts {
	const char *listen;	/* "ADDR:PORT" */
	const char *user;	/* status.user: who it runs as under root */
	bool sandbox;		/* false: --no-sandbox, unconfined */
	enum log_format log_format;
	enum log_level log_level;
};
struct ctl_status_server;
int ctl_status_start(struct ctl_status_server **out,
    const struct ctl_status_opts *o, struct ctl_state *st, struct err *err);
void ctl_status_stop(struct ctl_status_server *s);

/* `stackd status-server FORMAT LEVEL`: the status process (child.c);
 * only `stackd run` starts it. */
int ctl_status_child_main(int argc, char **argv);

/* The documents, rendered in the daemon (caller holds st->mu, frees).
 * The status API's JSON: */
cJSON *ctl_status_json(const struct ctl_state *st);
cJSON *ctl_stacks_json(const struct ctl_state *st, const char *only);
/* A stack's sync history per engine, newest first; NULL: no engine has
 * the stack or a history of it. */
cJSON *ctl_history_json(const struct ctl_state *st, const char *stack);
/* Prometheus text exposition (caller holds st->mu, frees).  The stacks'
 * families change with the stacks only: given as stacks_part (from
 * ctl_metrics_stacks_text), or rendered now (NULL). */
char *ctl_metrics_text(const struct ctl_state *st, const char *stacks_part);
char *ctl_metrics_stacks_text(const struct ctl_state *st);
/* The HTML page (caller holds st->mu, frees); its stacks table likewise
 * given (ctl_page_stacks_html) or rendered now (NULL). */
char *ctl_page_html(const struct ctl_state *st, const char *stacks_table);
char *ctl_page_stacks_html(const struct ctl_state *st);
/* A stack's page (same terms); NULL: no engine has it or its history. */
char *ctl_stack_page_html(const struct ctl_state *st, const char *stack);
/* Is the controller ready: a snapshot of every source, and every engine
 * reached once. */
bool ctl_ready(const struct ctl_state *st);
/* The state of a stack over all engines: the worst one. */
const char *ctl_stack_state(const cJSON *per_engine);

/*
 * Webhooks (webhook.c): a push delivery from GitHub (X-Hub-Signature-256),
 * Gitea/Forgejo (X-Gitea-Signature, X-Forgejo-Signature: HMAC-SHA256 of
 * the body) or GitLab (X-Gitlab-Token: the secret itself).  get(name,
 * payload) returns a request header or NULL.
 */
enum ctl_hook_verdict {
	CTL_HOOK_PUSH,		/* verified push: fetch now (202) */
	CTL_HOOK_IGNORED,	/* verified, another event (200) */
	CTL_HOOK_UNSIGNED,	/* no signature or token header (401) */
	CTL_HOOK_BAD_SIGNATURE,	/* wrong signature or token (401) */
	CTL_HOOK_BAD_REQUEST,	/* no event header (400) */
};
enum ctl_hook_verdict ctl_webhook_check(const char *secret,
    const char *body, size_t len,
    const char *(*get)(const char *name, void *payload), void *payload,
    const char **event);

#endif
