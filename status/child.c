/*
 * child.c - `stackd status-server`: the status process, as `stackd run`
 * starts it (supervise.c), with the listening socket on descriptor 3 and
 * its end of a socketpair on 4.
 *
 * It closes every other descriptor it may have been handed, takes its
 * configuration, confines itself (sandbox.h) before it starts a thread or
 * reads a byte from the network, says how, and then serves what the
 * daemon sends it.  Whatever goes wrong ends it; the daemon starts
 * another.  It exits with _exit: the sanitizers' exit-time checks would
 * need what the sandbox took away.
 */
#define _GNU_SOURCE	/* close_range */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "log.h"
#include "sandbox.h"
#include "status.h"
#include "status_int.h"

static const struct frame_rule config_rule[] = {
	{ CTL_MSG_CONFIG, CTL_MSG_CONFIG_MAX },
};
static const struct frame_rule daemon_rules[] = {
	{ CTL_MSG_CONFIG, CTL_MSG_CONFIG_MAX },
	{ CTL_MSG_DOC, CTL_MSG_DOC_MAX },
	{ CTL_MSG_DROP, CTL_MSG_PATH_MAX },
	{ CTL_MSG_SERVE, 0 },
	{ CTL_MSG_JOIN, CTL_MSG_DOC_MAX },
};

static pthread_mutex_t send_mu = PTHREAD_MUTEX_INITIALIZER;

/* One message to the daemon; a failure is the daemon gone: stop. */
static void
tell(uint32_t type, const char *data, size_t len)
{
	struct err err = { 0 };
	int rc;

	pthread_mutex_lock(&send_mu);
	rc = frame_send(CTL_STATUS_LINK_FD, type, data, len, &err);
	pthread_mutex_unlock(&send_mu);
	if (rc < 0)
		_exit(0);
}

static void
on_hook(void *arg, int verdict, const char *source)
{
	char m[CTL_MSG_HOOK_MAX];
	int n = snprintf(m, sizeof(m), "%c%s", '0' + verdict, source);

	(void)arg;
	if (n > 0 && (size_t)n < sizeof(m))
		tell(CTL_MSG_HOOK, m, (size_t)n);
}

static void
on_registry(void *arg, bool accepted)
{
	(void)arg;
	tell(CTL_MSG_REGISTRY, accepted ? "a" : "r", 1);
}

static void
on_push(void *arg, const char *host, const char *repository)
{
	char m[CTL_MSG_REGISTRY_MAX];
	int n = snprintf(m, sizeof(m), "p%s%c%s", host, '\0', repository);

	(void)arg;
	if (n > 0 && (size_t)n < sizeof(m))
		tell(CTL_MSG_REGISTRY, m, (size_t)n);
}

/* The configuration, then the sandbox: what it could not apply is in
 * the report the daemon gets. */
static int
confine(struct ctl_docs *docs, struct err *err)
{
	struct sandbox_report r = { 0 };
	struct sandbox_opts o = { .profile = SANDBOX_SERVE };
	struct frame f;
	char user[256], *text;
	bool enabled;
	cJSON *hello;
	int rc;

	if ((rc = frame_recv(CTL_STATUS_LINK_FD, config_rule, 1, &f,
	    err)) != 0 || (rc = ctl_docs_apply(docs, &f, err)) < 0) {
		frame_release(&f);
		return rc > 0 ? err_set(err, ERR_FAIL, "the daemon left") : rc;
	}
	frame_release(&f);
	ctl_docs_sandbox(docs, user, sizeof(user), &enabled);
	o.user = user;
	if (enabled && (rc = sandbox_confine(&o, &r, err)) < 0)
		return rc;
	hello = sandbox_report_json(&r);
	cJSON_AddBoolToObject(hello, "enabled", enabled);
	text = cJSON_PrintUnformatted(hello);
	cJSON_Delete(hello);
	tell(CTL_MSG_HELLO, text, strlen(text));
	free(text);
	return 0;
}

/* What the daemon sends, until it closes its end: 0, or < 0.  Requests
 * wait in the socket's backlog until the first documents are in. */
static int
serve(struct ctl_docs *docs, struct err *err)
{
	const struct ctl_http_ops ops = { on_hook, on_registry, on_push, NULL };
	const size_t nrules = sizeof(daemon_rules) / sizeof(*daemon_rules);
	struct ctl_http *http = NULL;
	struct frame f;
	int rc;

	while ((rc = frame_recv(CTL_STATUS_LINK_FD, daemon_rules, nrules, &f,
	    err)) == 0) {
		if (f.type != CTL_MSG_SERVE)
			rc = ctl_docs_apply(docs, &f, err);
		else if (http == NULL)
			rc = ctl_http_start(&http, CTL_STATUS_LISTEN_FD, docs,
			    &ops, err);
		frame_release(&f);
		if (rc < 0)
			return rc;
	}
	return rc > 0 ? 0 : rc;
}

int
ctl_status_child_main(int argc, char **argv)
{
	enum log_format format = LOG_TEXT;
	enum log_level level = LOG_INFO;
	struct ctl_docs *docs;
	struct err err = { 0 };
	int rc;

	if (argc != 4 || log_format_parse(argv[2], &format) < 0 ||
	    log_level_parse(argv[3], &level) < 0 ||
	    fcntl(CTL_STATUS_LISTEN_FD, F_GETFD) < 0 ||
	    fcntl(CTL_STATUS_LINK_FD, F_GETFD) < 0) {
		fprintf(stderr, "stackd status-server: the status process of "
		    "`stackd run`, which starts it; not a command\n");
		return 2;
	}
	/* Only what the daemon meant to hand over: never an engine's
	 * connection that lacked close-on-exec. */
	(void)close_range(CTL_STATUS_LINK_FD + 1, ~0U, 0);
	log_setup(stderr, format, level);
	docs = ctl_docs_new();
	if ((rc = confine(docs, &err)) == 0)
		rc = serve(docs, &err);
	if (rc < 0)
		log_event(LOG_ERROR, NULL, NULL, NULL, "status process: %s",
		    err.msg);
	_exit(rc < 0 ? 1 : 0);
}
