/*
 * lease.c - one writer per engine and owner: a lease held on the engine.
 *
 * The lease is a swarm config, "stackd-lease.OWNER", whose labels name the
 * holder.  Every change of it is an update at the version last read, which
 * the engine refuses once someone else has changed it ("update out of
 * sequence"): taking over and renewing are compare-and-swaps, and two
 * instances can never both believe they just won.
 *
 * Nobody compares clocks across machines.  The holder counts its lease
 * from the moment it *sent* its last successful renewal and stops writing
 * LEASE_GUARD before the TTL ends; a standby counts from the moment it
 * first *saw* that version, which is later, and takes over only once it
 * has stayed unchanged for a whole TTL.  So the holder has stopped before
 * any standby may start, even across a partition or a SIGSTOP.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "clock.h"
#include "daemon.h"
#include "json.h"

#define LABEL_HOLDER "com.stackd.lease.holder"	/* HOST/PID, "" when free */
#define LABEL_ID "com.stackd.lease.id"		/* the instance, random */
#define LABEL_SINCE "com.stackd.lease.since"	/* acquired, unix time */
#define LABEL_TTL "com.stackd.lease.ttl"	/* ms */
#define LABEL_RENEWED "com.stackd.lease.renewed"	/* makes each renewal a change */

/* The holder stops writing a quarter TTL before its lease ends: room for
 * a write already sent to land, and for the rates of two clocks. */
#define LEASE_GUARD_DIV 4

struct ctl_lease {
	struct engine *e;	/* the lease thread's own connection */
	char name[128];		/* the config's name */
	char holder[300];	/* this instance, HOST/PID */
	char id[33];
	long long ttl_ms;
	void (*on_change)(void *arg);
	void *arg;
	pthread_t thread;
	bool running;
	atomic_int stop;
	pthread_mutex_t mu;	/* guards what follows */
	pthread_cond_t cv;
	long long valid_until;	/* ms (monotonic): may write before */
	long long since;	/* unix time this instance acquired it */
	char other[300];	/* the other holder, "" when none seen */
	long long other_since;
	char problem[ERR_MSG_MAX];	/* the last failure to read or write */
	/* The lease thread's alone: */
	uint64_t seen_version;
	long long seen_at;	/* ms: when seen_version was first seen */
	char oid[128];
	unsigned long renewals;
};

/* One id per process: after a reload the new lease thread renews what
 * the old one held instead of waiting a TTL for itself. */
static char instance_id[33];
static pthread_once_t instance_once = PTHREAD_ONCE_INIT;

static void
make_id(void)
{
	char *out = instance_id;
	unsigned char r[16];

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		for (size_t i = 0; i < sizeof(r); i++)	/* unique, not secret */
			r[i] = (unsigned char)(clock_mono_ms() >> (i % 8) ^
			    (long long)getpid() >> i);
	for (size_t i = 0; i < sizeof(r); i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
}

static const char *
label(const cJSON *obj, const char *key)
{
	const cJSON *v = json_get(json_get(json_get(obj, "Spec"), "Labels"),
	    key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static cJSON *
spec(const struct ctl_lease *l, bool hold, long long since,
    unsigned long renewals)
{
	cJSON *s = cJSON_CreateObject(), *labels;
	char n[32];

	cJSON_AddStringToObject(s, "Name", l->name);
	labels = cJSON_AddObjectToObject(s, "Labels");
	cJSON_AddStringToObject(labels, LABEL_HOLDER, hold ? l->holder : "");
	cJSON_AddStringToObject(labels, LABEL_ID, hold ? l->id : "");
	snprintf(n, sizeof(n), "%lld", since);
	cJSON_AddStringToObject(labels, LABEL_SINCE, hold ? n : "");
	snprintf(n, sizeof(n), "%lld", l->ttl_ms);
	cJSON_AddStringToObject(labels, LABEL_TTL, n);
	snprintf(n, sizeof(n), "%lu", renewals);
	cJSON_AddStringToObject(labels, LABEL_RENEWED, n);
	/* Only labels may change: the data is sent as it was created. */
	cJSON_AddStringToObject(s, "Data", "bGVhc2UK");	/* "lease\n" */
	return s;
}

static void
set_problem(struct ctl_lease *l, const char *msg)
{
	pthread_mutex_lock(&l->mu);
	snprintf(l->problem, sizeof(l->problem), "%s", msg ? msg : "");
	pthread_mutex_unlock(&l->mu);
}

/* This instance holds the lease from t0 (when the winning write was
 * sent) for a TTL, less the guard. */
static void
won(struct ctl_lease *l, long long t0, bool fresh)
{
	bool changed;

	pthread_mutex_lock(&l->mu);
	changed = l->valid_until <= clock_mono_ms();
	l->valid_until = t0 + l->ttl_ms - l->ttl_ms / LEASE_GUARD_DIV;
	if (fresh)
		l->since = (long long)time(NULL);
	l->other[0] = '\0';
	l->problem[0] = '\0';
	pthread_mutex_unlock(&l->mu);
	if (changed && l->on_change != NULL)
		l->on_change(l->arg);
}

static void
lost(struct ctl_lease *l, const char *other, long long other_since)
{
	bool changed;

	pthread_mutex_lock(&l->mu);
	changed = l->valid_until > 0 || strcmp(l->other, other) != 0;
	l->valid_until = 0;
	l->since = 0;
	snprintf(l->other, sizeof(l->other), "%s", other);
	l->other_since = other_since;
	pthread_mutex_unlock(&l->mu);
	if (changed && l->on_change != NULL)
		l->on_change(l->arg);
}

/* Write the lease at version v (taking or renewing it). */
static int
write_at(struct ctl_lease *l, uint64_t v, bool fresh, long long since,
    struct err *err)
{
	long long t0 = clock_mono_ms();
	cJSON *s = spec(l, true, since, ++l->renewals);
	int rc = engine_object_update(l->e, ENGINE_CONFIG, l->oid, v, s, err);

	cJSON_Delete(s);
	if (rc == 0)
		/* The engine bumps the index; the next read says to what. */
		won(l, t0, fresh);
	return rc;
}

/* One look at the lease, and what follows from it. */
static void
step(struct ctl_lease *l)
{
	struct err err;
	cJSON *obj = NULL, *s;
	const cJSON *ver, *id;
	long long t0 = clock_mono_ms(), ttl, since;
	uint64_t v;
	int rc;

	rc = engine_object_inspect(l->e, ENGINE_CONFIG, l->name, &obj, &err);
	if (rc == ERR_NOTFOUND) {
		s = spec(l, true, (long long)time(NULL), 0);
		rc = engine_object_create(l->e, ENGINE_CONFIG, s, NULL, &err);
		cJSON_Delete(s);
		if (rc == 0)
			won(l, t0, true);
		else if (rc != ERR_CONFLICT)	/* someone else created it */
			set_problem(l, err.msg);
		return;
	}
	if (rc < 0) {
		set_problem(l, err.msg);
		return;
	}
	ver = json_get(json_get(obj, "Version"), "Index");
	id = json_get(obj, "ID");
	if (!cJSON_IsNumber(ver) || !cJSON_IsString(id)) {
		set_problem(l, "the lease object has no ID or version");
		goto out;
	}
	v = (uint64_t)ver->valuedouble;
	snprintf(l->oid, sizeof(l->oid), "%s", id->valuestring);
	since = strtoll(label(obj, LABEL_SINCE), NULL, 10);
	if (strcmp(label(obj, LABEL_ID), l->id) == 0) {
		rc = write_at(l, v, false, since, &err);
	} else if (*label(obj, LABEL_HOLDER) == '\0') {
		rc = write_at(l, v, true, (long long)time(NULL), &err);
	} else {
		if (v != l->seen_version) {
			l->seen_version = v;
			l->seen_at = t0;
		}
		lost(l, label(obj, LABEL_HOLDER), since);
		/* The longer of the two TTLs: the holder's own is the one it
		 * counts with. */
		ttl = strtoll(label(obj, LABEL_TTL), NULL, 10);
		if (ttl < l->ttl_ms)
			ttl = l->ttl_ms;
		if (t0 - l->seen_at < ttl)
			goto out;
		rc = write_at(l, v, true, (long long)time(NULL), &err);
	}
	if (rc == ERR_OUTOFSEQ) {
		/* Someone else wrote it first: read again at once. */
		lost(l, "another instance", 0);
		l->seen_version = 0;
	} else if (rc < 0)
		set_problem(l, err.msg);
out:
	cJSON_Delete(obj);
}

static void *
lease_main(void *arg)
{
	struct ctl_lease *l = arg;
	long long next;

	while (!l->stop) {
		step(l);
		/* Renew three times per TTL, look ten times as a standby. */
		pthread_mutex_lock(&l->mu);
		next = clock_mono_ms() + (l->valid_until > 0 ? l->ttl_ms / 3 :
		    l->ttl_ms / 10);
		while (!l->stop && clock_mono_ms() < next)
			clock_cond_wait_until(&l->cv, &l->mu, next);
		pthread_mutex_unlock(&l->mu);
	}
	return NULL;
}

static void
lease_name(char *out, size_t size, const char *owner)
{
	size_t n = (size_t)snprintf(out, size, "stackd-lease.%s", owner);

	/* A config name is [a-zA-Z0-9][a-zA-Z0-9_.-]*. */
	for (size_t i = 13; i < n && i < size; i++)
		if (!(out[i] >= 'a' && out[i] <= 'z') &&
		    !(out[i] >= 'A' && out[i] <= 'Z') &&
		    !(out[i] >= '0' && out[i] <= '9') && out[i] != '.' &&
		    out[i] != '-' && out[i] != '_')
			out[i] = '_';
}

int
ctl_lease_start(struct ctl_lease **out, const struct engine_config *cfg,
    const char *owner, long long ttl_ms, void (*on_change)(void *),
    void *arg, struct err *err)
{
	struct ctl_lease *l = xcalloc(1, sizeof(*l));
	char host[256] = "?";

	*out = NULL;
	gethostname(host, sizeof(host) - 1);
	lease_name(l->name, sizeof(l->name), owner ? owner : "stackd");
	snprintf(l->holder, sizeof(l->holder), "%s/%ld", host, (long)getpid());
	pthread_once(&instance_once, make_id);
	memcpy(l->id, instance_id, sizeof(l->id));
	l->ttl_ms = ttl_ms;
	l->on_change = on_change;
	l->arg = arg;
	pthread_mutex_init(&l->mu, NULL);
	clock_cond_init(&l->cv);
	if (engine_open(&l->e, cfg, err) < 0) {
		ctl_lease_stop(l, false);
		return err->code;
	}
	if (pthread_create(&l->thread, NULL, lease_main, l) != 0) {
		ctl_lease_stop(l, false);
		return err_set(err, ERR_FAIL, "cannot start a thread");
	}
	l->running = true;
	*out = l;
	return 0;
}

bool
ctl_lease_held(struct ctl_lease *l)
{
	bool held;

	if (l == NULL)
		return true;
	pthread_mutex_lock(&l->mu);
	held = clock_mono_ms() < l->valid_until;
	pthread_mutex_unlock(&l->mu);
	return held;
}

void
ctl_lease_status(struct ctl_lease *l, struct ctl_lease_status *out)
{
	memset(out, 0, sizeof(*out));
	if (l == NULL)
		return;
	pthread_mutex_lock(&l->mu);
	out->enabled = true;
	out->held = clock_mono_ms() < l->valid_until;
	snprintf(out->holder, sizeof(out->holder), "%s",
	    out->held ? l->holder : l->other);
	out->since = out->held ? l->since : l->other_since;
	snprintf(out->problem, sizeof(out->problem), "%s", l->problem);
	pthread_mutex_unlock(&l->mu);
}

/* Give the lease up, so that a standby takes over at its next look
 * instead of a TTL later. */
static void
release(struct ctl_lease *l)
{
	struct err err;
	cJSON *obj = NULL, *s;
	const cJSON *ver;

	if (!ctl_lease_held(l) ||
	    engine_object_inspect(l->e, ENGINE_CONFIG, l->name, &obj, &err) < 0)
		return;
	ver = json_get(json_get(obj, "Version"), "Index");
	if (cJSON_IsNumber(ver) && strcmp(label(obj, LABEL_ID), l->id) == 0) {
		s = spec(l, false, 0, ++l->renewals);
		engine_object_update(l->e, ENGINE_CONFIG, l->oid,
		    (uint64_t)ver->valuedouble, s, &err);
		cJSON_Delete(s);
	}
	cJSON_Delete(obj);
}

void
ctl_lease_stop(struct ctl_lease *l, bool give_up)
{
	if (l == NULL)
		return;
	pthread_mutex_lock(&l->mu);
	l->stop = 1;
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
	if (l->running)
		pthread_join(l->thread, NULL);
	if (l->e != NULL && give_up)
		release(l);
	engine_free(l->e);
	pthread_cond_destroy(&l->cv);
	pthread_mutex_destroy(&l->mu);
	free(l);
}
