/*
 * notify.c - outgoing notifications: a small JSON document POSTed to a
 * configured URL when a stack's result on an engine changes (synced ->
 * failed, failed -> synced; a stack first seen failing counts too), and
 * when its health does (healthy <-> degraded; first seen degraded too).
 *
 * Workers only compare and queue, under the state lock, and never wait
 * on the network: one thread of the notifier's own delivers, retrying a
 * refused or failed delivery (transport error, 5xx, 429) after 1, 2 and
 * 4 s.  The queue is bounded; what does not fit is dropped and counted.
 * The URL's user:password part, if any, never appears in a log line.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "alloc.h"
#include "clock.h"
#include "daemon.h"
#include "json.h"
#include "log.h"
#include "secret.h"
#include "version.h"

#define QUEUE_MAX 256
#define TRIES 4			/* the first, then after 1, 2 and 4 s */

struct ctl_notifier {
	char *url;
	char shown[512];	/* the URL without credentials */
	char *token;		/* Authorization: Bearer, or NULL */
	long timeout_ms;
	char *owner;
	cJSON *last;		/* {"engine": {"stack": "synced"|"failed"}} */
	cJSON *health;		/* {"engine": {"stack": "healthy"|"degraded"}} */
	pthread_t thread;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char *queue[QUEUE_MAX];	/* JSON bodies, oldest first */
	size_t head, len;
	bool stop;
	unsigned long sent, failed, dropped;
};

static size_t
discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* One POST: 0 delivered, 1 worth retrying, -1 refused for good. */
static int
post(struct ctl_notifier *n, const char *body, char *why, size_t size)
{
	struct curl_slist *h = NULL, *auth = NULL;
	char bearer[600];
	CURL *c = curl_easy_init();
	CURLcode rc;
	long status = 0;

	if (c == NULL)
		alloc_fail();
	h = curl_slist_append(h, "Content-Type: application/json");
	if (n->token != NULL) {
		snprintf(bearer, sizeof(bearer), "Authorization: Bearer %s",
		    n->token);
		if ((auth = curl_slist_append(h, bearer)) != NULL)
			h = auth;
		OPENSSL_cleanse(bearer, sizeof(bearer));
	}
	curl_easy_setopt(c, CURLOPT_URL, n->url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "stackd/" STACKD_VERSION);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, n->timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK) {
		snprintf(why, size, "%s", curl_easy_strerror(rc));
		return 1;
	}
	if (status >= 200 && status < 300)
		return 0;
	snprintf(why, size, "HTTP %ld", status);
	return status >= 500 || status == 429 || status == 408 ? 1 : -1;
}

/* Wait up to ms, or until stopped; true when stopped. */
static bool
pause_ms(struct ctl_notifier *n, long ms)
{
	struct timespec t;
	bool stop;

	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&n->mu);
	while (!n->stop && pthread_cond_timedwait(&n->cv, &n->mu, &t) !=
	    ETIMEDOUT)
		continue;
	stop = n->stop;
	pthread_mutex_unlock(&n->mu);
	return stop;
}

static void
deliver(struct ctl_notifier *n, const char *body)
{
	char why[256];
	int rc = 1;

	for (int i = 0; i < TRIES && rc == 1; i++) {
		if (i > 0 && pause_ms(n, 1000L << (i - 1)))
			break;
		if ((rc = post(n, body, why, sizeof(why))) == 1 &&
		    i + 1 < TRIES)
			log_event(LOG_WARN, NULL, NULL, NULL, "notification to "
			    "%s: %s; trying again in %ld s", n->shown, why,
			    1L << i);
	}
	pthread_mutex_lock(&n->mu);
	if (rc == 0)
		n->sent++;
	else
		n->failed++;
	pthread_mutex_unlock(&n->mu);
	if (rc != 0)
		log_event(LOG_ERROR, NULL, NULL, NULL, "notification to %s "
		    "given up: %s", n->shown, why);
}

static void *
run(void *arg)
{
	struct ctl_notifier *n = arg;
	char *body;

	for (;;) {
		pthread_mutex_lock(&n->mu);
		while (!n->stop && n->len == 0)
			pthread_cond_wait(&n->cv, &n->mu);
		if (n->stop) {
			pthread_mutex_unlock(&n->mu);
			return NULL;
		}
		body = n->queue[n->head];
		n->head = (n->head + 1) % QUEUE_MAX;
		n->len--;
		pthread_mutex_unlock(&n->mu);
		deliver(n, body);
		free(body);
	}
}

int
ctl_notifier_start(struct ctl_notifier **out, const struct ctl_config *c,
    struct err *err)
{
	struct ctl_notifier *n;
	int rc;

	*out = NULL;
	if (c->notify_url == NULL || *c->notify_url == '\0')
		return 0;
	n = xcalloc(1, sizeof(*n));
	n->url = xstrdup(c->notify_url);
	n->owner = xstrdup(c->owner ? c->owner : "stackd");
	n->last = cJSON_CreateObject();
	n->health = cJSON_CreateObject();
	sources_git_url_redact(n->shown, sizeof(n->shown), n->url);
	n->timeout_ms = c->notify_timeout_ms > 0 ? c->notify_timeout_ms : 5000;
	if ((rc = secret_read_file(&n->token, c->notify_token_file,
	    "notification token", err)) < 0) {
		ctl_notifier_stop(n);
		return rc;
	}
	pthread_mutex_init(&n->mu, NULL);
	pthread_cond_init(&n->cv, NULL);
	if (pthread_create(&n->thread, NULL, run, n) != 0) {
		pthread_mutex_destroy(&n->mu);
		pthread_cond_destroy(&n->cv);
		ctl_notifier_stop(n);
		return err_set(err, ERR_FAIL, "cannot start the notifier");
	}
	n->started = true;
	*out = n;
	return 0;
}

static void
enqueue(struct ctl_notifier *n, char *body)
{
	pthread_mutex_lock(&n->mu);
	if (n->len == QUEUE_MAX) {
		free(body);
		n->dropped++;
	} else {
		n->queue[(n->head + n->len++) % QUEUE_MAX] = body;
		pthread_cond_signal(&n->cv);
	}
	pthread_mutex_unlock(&n->mu);
}

/* What a notification says; event names it, previous is the state
 * (or health) it left, prev_key which of the two. */
static char *
document(const struct ctl_notifier *n, const char *engine, const char *stack,
    const cJSON *st, const char *event, const char *prev_key,
    const char *previous)
{
	const char *state = json_str(st, "state");
	char when[32];
	cJSON *o = cJSON_CreateObject();
	char *text;

	cJSON_AddStringToObject(o, "event", event);
	cJSON_AddStringToObject(o, "stack", stack);
	cJSON_AddStringToObject(o, "engine", engine);
	cJSON_AddStringToObject(o, "state", state);
	if (previous != NULL)
		cJSON_AddStringToObject(o, prev_key, previous);
	else
		cJSON_AddNullToObject(o, prev_key);
	if (json_str(st, "error") != NULL)
		cJSON_AddStringToObject(o, "error", json_str(st, "error"));
	else
		cJSON_AddNullToObject(o, "error");
	if (json_str(st, "health") != NULL)
		cJSON_AddStringToObject(o, "health", json_str(st, "health"));
	if (json_str(st, "health_reason") != NULL)
		cJSON_AddStringToObject(o, "health_reason",
		    json_str(st, "health_reason"));
	if (json_str(st, "revision") != NULL)
		cJSON_AddStringToObject(o, "revision", json_str(st, "revision"));
	cJSON_AddStringToObject(o, "owner", n->owner);
	cJSON_AddStringToObject(o, "time", clock_iso_time((long long)time(NULL),
	    when));
	cJSON_AddStringToObject(o, "controller", "stackd " STACKD_VERSION);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

/*
 * One of a stack's two outcomes (key: "state" or "health"), remembered
 * in mine: only good and bad count (progressing, out-of-sync, missing
 * are on the way to one), and the first look says something only when it
 * is bad.
 */
static void
compare(struct ctl_notifier *n, const char *engine, cJSON *mine,
    const cJSON *s, const char *key, const char *good, const char *bad)
{
	const char *now = json_str(s, key), *prev = json_str(mine, s->string);
	char *body, event[32];

	if (now == NULL || (strcmp(now, good) != 0 && strcmp(now, bad) != 0))
		return;
	if (prev != NULL ? strcmp(prev, now) == 0 : strcmp(now, bad) != 0) {
		if (prev == NULL)
			cJSON_AddStringToObject(mine, s->string, now);
		return;
	}
	snprintf(event, sizeof(event), "stack.%s", now);
	if ((body = document(n, engine, s->string, s, event,
	    strcmp(key, "state") == 0 ? "previous" : "previous_health",
	    prev)) != NULL)
		enqueue(n, body);
	log_event(LOG_INFO, engine, s->string, NULL, "notifying %s: %s%s -> %s",
	    n->shown, strcmp(key, "state") == 0 ? "" : "health ",
	    prev ? prev : "(new)", now);
	cJSON_DeleteItemFromObjectCaseSensitive(mine, s->string);
	cJSON_AddStringToObject(mine, s->string, now);
}

static cJSON *
of_engine(cJSON *memory, const char *engine)
{
	cJSON *mine = cJSON_GetObjectItemCaseSensitive(memory, engine);

	return mine != NULL ? mine : cJSON_AddObjectToObject(memory, engine);
}

void
ctl_notifier_compare(struct ctl_notifier *n, const char *engine,
    const cJSON *stacks)
{
	const cJSON *s;
	cJSON *states, *health;

	if (n == NULL)
		return;
	states = of_engine(n->last, engine);
	health = of_engine(n->health, engine);
	cJSON_ArrayForEach(s, stacks) {
		compare(n, engine, states, s, "state", "synced", "failed");
		compare(n, engine, health, s, "health", "healthy", "degraded");
	}
}

void
ctl_notifier_stats(struct ctl_notifier *n, unsigned long *sent,
    unsigned long *failed, unsigned long *dropped)
{
	pthread_mutex_lock(&n->mu);
	*sent = n->sent;
	*failed = n->failed;
	*dropped = n->dropped;
	pthread_mutex_unlock(&n->mu);
}

void
ctl_notifier_stop(struct ctl_notifier *n)
{
	if (n == NULL)
		return;
	if (n->started) {
		pthread_mutex_lock(&n->mu);
		n->stop = true;
		pthread_cond_broadcast(&n->cv);
		pthread_mutex_unlock(&n->mu);
		pthread_join(n->thread, NULL);
		if (n->len > 0)
			log_event(LOG_WARN, NULL, NULL, NULL, "stopping: %zu "
			    "notification%s not sent", n->len,
			    n->len == 1 ? "" : "s");
		for (; n->len > 0; n->len--, n->head = (n->head + 1) %
		    QUEUE_MAX)
			free(n->queue[n->head]);
		pthread_mutex_destroy(&n->mu);
		pthread_cond_destroy(&n->cv);
	}
	free(n->url);
	secret_free(n->token);
	free(n->owner);
	cJSON_Delete(n->last);
	cJSON_Delete(n->health);
	free(n);
}
