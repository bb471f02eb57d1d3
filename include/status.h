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

struct ctl_state;

struct ctl_status_server;
int ctl_status_start(struct ctl_status_server **out, const char *listen,
    struct ctl_state *st, struct err *err);
void ctl_status_stop(struct ctl_status_server *s);

/* JSON documents of the status API (caller holds st->mu, frees). */
cJSON *ctl_status_json(const struct ctl_state *st);
cJSON *ctl_stacks_json(const struct ctl_state *st, const char *only);
/* A stack's sync history per engine, newest first; NULL: no engine has
 * the stack or a history of it. */
cJSON *ctl_history_json(const struct ctl_state *st, const char *stack);
/* Prometheus text exposition (caller holds st->mu, frees). */
char *ctl_metrics_text(const struct ctl_state *st);
/* The HTML page (caller holds st->mu, frees). */
char *ctl_page_html(const struct ctl_state *st);
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
