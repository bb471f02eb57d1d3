/*
 * engine.h - Docker Engine API client (unix socket, TCP, TCP+TLS).
 *
 * One struct engine talks to one engine.  It is not thread-safe: each worker
 * owns its engine.  engine_events_watch() uses a connection of its own and may
 * run in another thread once the version has been negotiated (engine_ping).
 *
 * Every call returns 0 or a negative ERR_* code and fills struct err with the
 * method, path, HTTP status and the engine's own message.  Registry
 * credentials never appear in an error, a log line or a debug dump.
 */
#ifndef STACKD_ENGINE_H
#define STACKD_ENGINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "err.h"

/* The API range stackd speaks: Docker 20.10 (1.41) up to 29.x (1.52). */
#define ENGINE_API_MIN "1.41"
#define ENGINE_API_MAX "1.52"

#define ENGINE_CONNECT_TIMEOUT_MS 5000L
#define ENGINE_TIMEOUT_MS 60000L

/* Where and how to reach an engine.  All strings are owned by the config. */
struct engine_config {
	char *name;		/* for messages; defaults to the host */
	char *host;		/* unix:///path, tcp://host:port */
	/* More managers of the same swarm, tried in order after host; each
	 * with the TLS settings below. */
	char **more_hosts;
	size_t nmore_hosts;
	bool tls;		/* speak TLS (tcp:// only) */
	bool tls_verify;	/* verify the engine's certificate and name */
	char *ca_file;		/* PEM files; NULL = system CA store / none */
	char *cert_file;
	char *key_file;
	char *auth_file;	/* docker config.json with "auths"; NULL = default */
	long connect_timeout_ms;	/* 0 = ENGINE_CONNECT_TIMEOUT_MS */
	long timeout_ms;		/* 0 = ENGINE_TIMEOUT_MS */
};

/*
 * Fill cfg from DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH the way
 * the docker CLI reads them (unset host: unix:///var/run/docker.sock;
 * DOCKER_TLS_VERIFY non-empty: TLS with verification and the client
 * certificate in DOCKER_CERT_PATH, default ~/.docker).  Free with
 * engine_config_release().
 */
void engine_config_from_env(struct engine_config *cfg);
void engine_config_release(struct engine_config *cfg);

struct engine;

/* Parse and check the configuration; no traffic yet.  Caller frees *out. */
int engine_open(struct engine **out, const struct engine_config *cfg,
    struct err *err);
void engine_free(struct engine *e);

/* Requests sent so far, by method (for metrics and benchmarks). */
struct engine_counters {
	unsigned long get;
	unsigned long head;
	unsigned long post;
	unsigned long del;
	unsigned long failed;	/* transport failures and HTTP >= 400 */
};

void engine_counters_get(const struct engine *e, struct engine_counters *out);

/* Display name, as given in the config or the host. Borrowed. */
const char *engine_name(const struct engine *e);

/*
 * Several addresses (host and more_hosts): the engine uses the first that
 * answers as a manager whose swarm has a leader (/info: LocalNodeState
 * active, ControlAvailable, no Swarm.Error).  A transport failure, a 503
 * or a "no leader" or raft timeout answer marks it down; the next request
 * chooses again, and a read is retried there at once.  A write is not
 * retried: whether it happened is unknown, so the caller reads again.
 * Preferred addresses are looked at again every ENGINE_RECHECK_MS while a
 * later one is in use.
 */
#define ENGINE_RECHECK_MS 10000

/* msg: "switched from A to B: why" (no credentials). */
typedef void (*engine_failover_fn)(const char *msg, void *arg);
void engine_failover_notify(struct engine *e, engine_failover_fn fn,
    void *arg);

/* Before each write (POST, DELETE): fn(arg) false refuses it, with
 * ERR_DENIED.  For the lease: a standby writes nothing. */
typedef bool (*engine_gate_fn)(void *arg);
void engine_write_gate(struct engine *e, engine_gate_fn fn, void *arg);

struct engine_address {
	const char *host;	/* in use (borrowed) */
	long long since;	/* unix time it was chosen; 0: never switched */
	unsigned long failovers;
	const char *reason;	/* the last failover's, or NULL (borrowed) */
};

void engine_address_get(const struct engine *e, struct engine_address *out);

struct engine_ping {
	char api_version[16];	/* negotiated: min(ours, the engine's) */
	char engine_api[16];	/* what the engine offered */
	char swarm[32];		/* "Swarm" header (API >= 1.42), or "" */
	char server[128];	/* "Server" header, or "" */
};

/*
 * Unversioned HEAD /_ping (GET if HEAD is refused) and API negotiation.
 * Every other call negotiates on first use; calling this first lets the
 * caller report the result.  out may be NULL.
 */
int engine_ping(struct engine *e, struct engine_ping *out, struct err *err);

/* The negotiated version ("1.41"), or "" before the first exchange. */
const char *engine_api_version(const struct engine *e);

/* Version helpers, exposed for tests: compare "1.41" < "1.52" numerically. */
int engine_version_cmp(const char *a, const char *b);
/* min(ENGINE_API_MAX, offered); ERR_UNSUPPORTED if offered < ENGINE_API_MIN. */
int engine_version_negotiate(char *out, size_t outlen, const char *offered,
    struct err *err);

struct engine_info {
	char *name;		/* node hostname */
	char *server_version;	/* "20.10.24+dfsg1" */
	char *node_id;
	char *swarm_state;	/* "active", "inactive", "pending", ... */
	bool manager;		/* Swarm.ControlAvailable */
};

int engine_info_get(struct engine *e, struct engine_info *out, struct err *err);
void engine_info_release(struct engine_info *info);

enum engine_kind {
	ENGINE_SERVICE,
	ENGINE_NETWORK,
	ENGINE_SECRET,
	ENGINE_CONFIG,
	ENGINE_TASK,		/* list and inspect only */
};

const char *engine_kind_name(enum engine_kind kind);

/*
 * Add key=value to a filters object ({"label": {"k=v": true}}), creating it
 * when *filters is NULL.  Caller frees with cJSON_Delete.
 */
void engine_filter_add(cJSON **filters, const char *key, const char *value);

/* GET /<kind>s?filters=..  (services with ?status=true).  *out is an array,
 * parsed one object at a time as the reply arrives. */
int engine_object_list(struct engine *e, enum engine_kind kind,
    const cJSON *filters, cJSON **out, struct err *err);
/* The same, each object passed through trim before the next is parsed:
 * trim returns what to keep of it (the object, changed or not, or a
 * replacement, having freed it), so the whole untrimmed list is never in
 * memory. */
typedef cJSON *(*engine_trim_fn)(enum engine_kind kind, cJSON *object);
int engine_object_list_trimmed(struct engine *e, enum engine_kind kind,
    const cJSON *filters, engine_trim_fn trim, cJSON **out,
    struct err *err);

/* GET /<kind>s/{id-or-name}.  ERR_NOTFOUND when it does not exist. */
int engine_object_inspect(struct engine *e, enum engine_kind kind,
    const char *id, cJSON **out, struct err *err);

/*
 * POST /<kind>s/create.  *id_out (may be NULL) receives the new ID.
 * Service creates carry X-Registry-Auth when the auth file has credentials
 * for the image's registry.
 */
int engine_object_create(struct engine *e, enum engine_kind kind,
    const cJSON *spec, char **id_out, struct err *err);

/*
 * POST /<kind>s/{id}/update?version=N.  A stale version gives ERR_OUTOFSEQ:
 * re-read and retry.  Networks cannot be updated (ERR_UNSUPPORTED).
 */
int engine_object_update(struct engine *e, enum engine_kind kind,
    const char *id, uint64_t version, const cJSON *spec, struct err *err);

/* DELETE /<kind>s/{id}.  ERR_NOTFOUND when already gone. */
int engine_object_remove(struct engine *e, enum engine_kind kind,
    const char *id, struct err *err);

/*
 * Stream GET /events (since, until now and onwards).  fn is called once
 * with a NULL event when the engine has answered (its 2xx headers are in),
 * then once per event; a
 * non-zero return ends the watch with 0.  *stop (may be NULL) is
 * polled about once a second so another thread can end the watch.  Returns
 * an error when the stream cannot be opened or drops.
 */
typedef int (*engine_event_fn)(const cJSON *event, void *payload);
int engine_events_watch(struct engine *e, const char *since,
    const cJSON *filters, engine_event_fn fn, void *payload,
    const atomic_int *stop, struct err *err);

/*
 * GET /distribution/<image>/json for d[0..n-1] side by side (what the
 * docker CLI asks before it pins a service's image), each with
 * X-Registry-Auth when the auth file has credentials for its registry and
 * each given timeout_ms at most (0 = the engine's timeout).  Every d[i]
 * gets its own outcome; the return is negative only when none could be
 * asked (the engine unreachable at negotiation).
 */
#define ENGINE_IMAGE_REF_MAX 1024
struct engine_dist {
	const char *image;	/* in: the familiar reference */
	int rc;			/* out: 0 or ERR_* */
	char digest[72];	/* out: "sha256:<64 hex>" when rc == 0 */
	cJSON *reply;		/* out: the engine's reply; caller frees */
	int http_status;	/* out: the engine's status, 0 = none */
	char error[512];	/* out: why, when rc < 0 */
	long long ms;		/* out: how long the lookup took */
};
int engine_distribution_inspect(struct engine *e, struct engine_dist *d,
    size_t n, long timeout_ms, struct err *err);

/*
 * Registry credentials, from a docker config.json ("auths").  NULL path:
 * $DOCKER_CONFIG/config.json, else ~/.docker/config.json; a missing file
 * is no credentials, not an error.
 */
struct engine_auth;
int engine_auth_load(struct engine_auth **out, const char *path,
    struct err *err);
void engine_auth_free(struct engine_auth *a);

/* The registry host an image reference pulls from ("docker.io" default). */
int engine_image_registry(char *out, size_t outlen, const char *image);

/*
 * The X-Registry-Auth value for image: base64url (padded) of the JSON
 * {"username","password","serveraddress"} or {"identitytoken",...}.
 * *out is NULL when no credentials match.  Caller frees *out.
 */
int engine_auth_header(char **out, const struct engine_auth *a,
    const char *image, struct err *err);

#endif
