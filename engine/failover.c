/*
 * failover.c - one engine, several managers: use the first that can serve,
 * move on when it cannot, come back when a preferred one can again.
 *
 * "Can serve" is what a write needs: the node is an active manager and its
 * swarm has a leader.  A follower answers reads while the swarm has no
 * leader, so a ping is not enough; /info says it (Swarm.ControlAvailable,
 * Swarm.Error).  Nothing here runs for an engine with one address.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "clock.h"
#include "engine_int.h"
#include "json.h"

/* A probe answers within this, or the manager counts as down: a manager
 * that accepts and never answers must not hold the engine for a minute. */
#define PROBE_TIMEOUT_MS 5000L

void
engine_failover_notify(struct engine *e, engine_failover_fn fn, void *arg)
{
	e->on_failover = fn;
	e->failover_arg = arg;
}

void
engine_write_gate(struct engine *e, engine_gate_fn fn, void *arg)
{
	e->gate = fn;
	e->gate_arg = arg;
}

void
engine_address_get(const struct engine *e, struct engine_address *out)
{
	out->host = e->host;
	out->since = e->since;
	out->failovers = e->failovers;
	out->reason = e->reason;
}

static void
use(struct engine *e, size_t i)
{
	e->cur = i;
	e->host = e->eps[i].host;
	e->sock_path = e->eps[i].sock_path;
	e->base_url = e->eps[i].base_url;
	/* Managers of one swarm may run different versions mid-upgrade. */
	e->api_version[0] = '\0';
}

/* Does the swarm's answer say this manager cannot serve a write now? */
static bool
swarm_unavailable(const struct err *err)
{
	static const char *const says[] = {
		"does not have a leader",	/* quorum lost */
		"context deadline exceeded",	/* raft did not commit */
		"code = Unavailable",
		"code = DeadlineExceeded",
	};

	if (err->http_status == 503)	/* not a manager, or leaving */
		return true;
	if (err->http_status != 500)
		return false;
	for (size_t i = 0; i < sizeof(says) / sizeof(*says); i++)
		if (strstr(err->msg, says[i]) != NULL)
			return true;
	return false;
}

bool
engine_failover_check(struct engine *e, int rc, const struct err *err)
{
	bool down;

	if (e->neps < 2 || e->probing || rc >= 0)
		return false;
	down = rc == ERR_UNREACHABLE || rc == ERR_TIMEOUT || rc == ERR_TLS ||
	    rc == ERR_PROTOCOL || (rc == ERR_ENGINE && swarm_unavailable(err));
	if (down && !e->down) {
		e->down = true;
		xstrset(&e->reason, err->msg);
	}
	return down;
}

/* Can endpoint i serve?  0, or why not in err (without the engine's
 * name: the caller lists several). */
static int
probe(struct engine *e, size_t i, struct err *err)
{
	struct engine_req req = { .method = "GET", .path = "/info" };
	const cJSON *swarm, *state, *error;
	long saved = e->timeout_ms;
	cJSON *info = NULL;
	int rc;

	use(e, i);
	e->probing = true;
	if (e->timeout_ms > PROBE_TIMEOUT_MS)
		e->timeout_ms = PROBE_TIMEOUT_MS;
	rc = engine_call_once(e, &req, &info, err);
	e->timeout_ms = saved;
	e->probing = false;
	if (rc < 0)
		return rc;
	swarm = json_get(info, "Swarm");
	state = json_get(swarm, "LocalNodeState");
	error = json_get(swarm, "Error");
	if (!cJSON_IsString(state) || strcmp(state->valuestring, "active") != 0)
		rc = err_set(err, ERR_ENGINE, "not in a swarm (state %s)",
		    cJSON_IsString(state) ? state->valuestring : "unknown");
	else if (!cJSON_IsTrue(json_get(swarm, "ControlAvailable")))
		rc = err_set(err, ERR_ENGINE, "a worker, not a manager");
	else if (cJSON_IsString(error) && *error->valuestring != '\0')
		rc = err_set(err, ERR_ENGINE, "%s", error->valuestring);
	cJSON_Delete(info);
	return rc;
}

static void
switched(struct engine *e, size_t from, const char *why)
{
	char msg[ERR_MSG_MAX + 512];

	e->failovers++;
	e->since = (long long)time(NULL);
	snprintf(msg, sizeof(msg), "switched from %s to %s: %s",
	    e->eps[from].host, e->host, why);
	xstrset(&e->reason, msg);
	if (e->on_failover != NULL)
		e->on_failover(msg, e->failover_arg);
}

/* msg without its leading "engine NAME: ". */
static const char *
unprefixed(const struct engine *e, const char *msg)
{
	size_t n = strlen(e->name);

	if (strncmp(msg, "engine ", 7) == 0 &&
	    strncmp(msg + 7, e->name, n) == 0 && strncmp(msg + 7 + n, ": ",
	    2) == 0)
		return msg + 9 + n;
	return msg;
}

/*
 * The k-th endpoint to try: in order of preference, except that after a
 * failure the one that just failed comes last.
 */
static size_t
nth(const struct engine *e, size_t failed, bool after_failure, size_t k)
{
	if (!after_failure)
		return k;
	if (k == e->neps - 1)
		return failed;
	return k < failed ? k : k + 1;
}

/* Use the first endpoint that can serve. */
static int
choose(struct engine *e, struct err *err)
{
	size_t failed = e->cur, i;
	bool after_failure = e->down;
	char why[ERR_MSG_MAX] = "", all[ERR_MSG_MAX] = "";
	struct err perr;
	size_t len = 0;

	if (after_failure && e->reason != NULL)
		snprintf(why, sizeof(why), "%s", e->reason);
	for (size_t k = 0; k < e->neps; k++) {
		i = nth(e, failed, after_failure, k);
		if (probe(e, i, &perr) == 0) {
			e->down = false;
			e->recheck_ms = clock_mono_ms() + ENGINE_RECHECK_MS;
			if (i != failed)
				switched(e, failed, why);
			else if (e->since == 0)
				e->since = (long long)time(NULL);
			return 0;
		}
		if (!after_failure && *why == '\0')
			snprintf(why, sizeof(why), "%s: %s", e->host,
			    unprefixed(e, perr.msg));
		if (len + 8 < sizeof(all))
			len += (size_t)snprintf(all + len, sizeof(all) - len,
			    "%s%s: %s", len ? "; " : "", e->host,
			    unprefixed(e, perr.msg));
	}
	use(e, failed);
	e->down = true;
	return err_set(err, ERR_UNREACHABLE, "engine %s: no manager can "
	    "serve: %s", e->name, all);
}

/* A preferred endpoint that can serve again takes over. */
static void
recheck(struct engine *e)
{
	size_t now_in_use = e->cur;
	struct err perr;

	e->recheck_ms = clock_mono_ms() + ENGINE_RECHECK_MS;
	for (size_t i = 0; i < now_in_use; i++)
		if (probe(e, i, &perr) == 0) {
			switched(e, now_in_use, "a preferred manager can serve "
			    "again");
			return;
		}
	use(e, now_in_use);
}

int
engine_failover_prepare(struct engine *e, struct err *err)
{
	if (e->neps < 2 || e->probing)
		return 0;
	/* The first exchange finds out which one to use. */
	if (e->down || e->recheck_ms == 0)
		return choose(e, err);
	if (e->cur > 0 && clock_mono_ms() >= e->recheck_ms)
		recheck(e);
	return 0;
}

int
engine_call(struct engine *e, const struct engine_req *req, cJSON **json,
    struct err *err)
{
	bool write = strcmp(req->method, "GET") != 0 &&
	    strcmp(req->method, "HEAD") != 0;
	struct err local;
	int rc;

	if (err == NULL)
		err = &local;
	if (write && e->gate != NULL && !e->gate(e->gate_arg))
		return err_set(err, ERR_DENIED, "engine %s: %s %s not sent: "
		    "this instance does not hold the writer's lease", e->name,
		    req->method, req->path);
	if ((rc = engine_failover_prepare(e, err)) < 0)
		return rc;
	rc = engine_call_once(e, req, json, err);
	/* A write may have happened: its caller reads again.  A read is
	 * asked again of a manager that can serve. */
	if (!engine_failover_check(e, rc, err) || write)
		return rc;
	if ((rc = engine_failover_prepare(e, err)) < 0)
		return rc;
	return engine_call_once(e, req, json, err);
}
