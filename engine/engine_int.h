/*
 * engine_int.h - what the engine/ files share and nobody else sees.
 */
#ifndef STACKD_ENGINE_INT_H
#define STACKD_ENGINE_INT_H

#include <stdatomic.h>

#include <curl/curl.h>

#include "buf.h"
#include "engine.h"

struct json_split;

/* Engine replies larger than this are refused (a full service list of a
 * large cluster stays far below it). */
#define ENGINE_REPLY_MAX (64u * 1024 * 1024)

/* One address of the engine (a manager of its swarm). */
struct engine_endpoint {
	char *host;		/* as configured */
	char *sock_path;	/* unix:// only */
	char *base_url;		/* http://localhost, http(s)://host:port */
};

struct engine {
	char *name;
	/* The endpoint in use; borrowed from eps[cur]. */
	const char *host;
	const char *sock_path;
	const char *base_url;
	struct engine_endpoint *eps;	/* in order of preference */
	size_t neps, cur;
	/* Failover (failover.c), with several endpoints only. */
	bool probing;		/* a probe is running: no failover inside */
	bool down;		/* the endpoint in use failed: choose again */
	long long since;	/* unix time eps[cur] was chosen */
	long long recheck_ms;	/* monotonic: look at preferred ones again */
	unsigned long failovers;
	char *reason;		/* why the last failover happened */
	engine_failover_fn on_failover;
	void *failover_arg;
	engine_gate_fn gate;
	void *gate_arg;
	bool tls;
	bool tls_verify;
	char *ca_file;
	char *cert_file;
	char *key_file;
	long connect_timeout_ms;
	long timeout_ms;
	CURL *curl;		/* request handle; reused for keep-alive */
	char api_version[16];	/* "" until negotiated */
	struct engine_auth *auth;
	/* Atomic: the event watch counts from its own thread. */
	atomic_ulong n_get, n_head, n_post, n_del, n_failed;
};

struct engine_req {
	const char *method;	/* GET, HEAD, POST, DELETE */
	const char *path;	/* "/services"; versioned unless raw */
	const char *query;	/* escaped "a=b&c=d", or NULL */
	bool raw;		/* no /vX.Y prefix (only /_ping) */
	const char *body;	/* JSON, or NULL */
	const char *registry_auth;	/* X-Registry-Auth value, or NULL */
	/* Streaming: called with each chunk instead of buffering it;
	 * returning non-zero ends the transfer without an error. */
	int (*chunk_fn)(const char *p, size_t n, void *payload);
	void *chunk_payload;
	/* Streaming: called once the engine's 2xx headers are all in. */
	void (*open_fn)(void *payload);
	const atomic_int *stop;	/* streaming only: polled */
	/* The reply is a JSON array: parse it element by element as it
	 * arrives, each passed through trim_fn, which returns what to keep
	 * of it (it, or a replacement, having freed it), or kept as it is
	 * with its keys shared when trim_fn is NULL; so the whole text and
	 * the whole untrimmed tree are never held at once. */
	bool split;
	engine_trim_fn trim_fn;
	enum engine_kind trim_kind;	/* passed to trim_fn */
};

struct engine_resp {
	long status;
	struct buf body;
	/* set by engine_call_once for a split request: a 2xx reply goes
	 * here instead of into body (which keeps an error's message) */
	struct json_split *split;
	size_t split_len;	/* bytes fed to it, bounded as body is */
	char api_version[16];	/* "Api-Version" header */
	char swarm[32];		/* "Swarm" header */
	char server[128];	/* "Server" header */
};

void engine_resp_init(struct engine_resp *r);
/* The engine's {"message": "..."} or, failing that, the start of the reply. */
void engine_resp_message(const struct engine_resp *r, char *out, size_t outlen);
void engine_resp_release(struct engine_resp *r);

/* One transfer in flight on a handle of the caller's (see begin/end). */
struct engine_xfer {
	const struct engine_req *req;
	struct engine_resp *resp;
	bool stopped;		/* chunk_fn or *stop ended the transfer */
	long status;		/* from the status line, for open_fn */
	struct curl_slist *hdrs;
	char url[4096];
	char detail[CURL_ERROR_SIZE];
};

/*
 * A transfer in two halves, for callers that run several at once on a
 * curl multi handle: begin sets h up for req (and counts it), end reads
 * the outcome rc of the transfer into resp and maps a transport failure
 * to an ERR_* code, as engine_http_do does.  end wipes the headers (they
 * may hold registry credentials); it must follow every begin that
 * returned 0.
 */
int engine_http_begin(struct engine *e, CURL *h, struct engine_xfer *x,
    const struct engine_req *req, struct engine_resp *resp, struct err *err);
int engine_http_end(struct engine *e, CURL *h, struct engine_xfer *x,
    CURLcode rc, struct err *err);

/*
 * One HTTP exchange on handle h (e->curl, or a private one for streams).
 * Returns 0 when the engine answered, whatever the status, and a negative
 * code for transport failures (unreachable, TLS, timeout).
 */
int engine_http_do(struct engine *e, CURL *h, const struct engine_req *req,
    struct engine_resp *resp, struct err *err);

/* Negotiate if needed, send req, turn HTTP errors into ERR_* with the
 * engine's message, and parse a JSON reply into *json (may be NULL).
 * engine_call fails over to another endpoint (failover.c) and retries
 * reads there; engine_call_once talks to the endpoint in use only. */
int engine_call(struct engine *e, const struct engine_req *req, cJSON **json,
    struct err *err);
int engine_call_once(struct engine *e, const struct engine_req *req,
    cJSON **json, struct err *err);

/*
 * Failover between endpoints (failover.c).  engine_failover_prepare runs
 * before an exchange: it chooses an endpoint when the one in use failed,
 * or looks at the preferred ones again when that is due; 0 or the reason
 * no endpoint can serve.  engine_failover_check runs after one: true when
 * rc says the endpoint in use cannot serve (it is then marked down).
 */
int engine_failover_prepare(struct engine *e, struct err *err);
bool engine_failover_check(struct engine *e, int rc, const struct err *err);

/* Make sure the API version is known (one /_ping at most). */
int engine_negotiate(struct engine *e, struct err *err);

/*
 * The /events stream decoder: bytes in, in chunks of any size; fn is
 * called once per complete line holding a JSON object.  feed returns
 * non-zero when the watch should end (fn asked to stop, a line was not
 * JSON, or a line outgrew ENGINE_EVENT_LINE_MAX).
 */
#define ENGINE_EVENT_LINE_MAX (1024u * 1024)
struct engine_event_stream {
	struct buf line;
	engine_event_fn fn;
	void *payload;
	bool bad_json;
	bool done;		/* fn asked to stop */
};
void engine_event_stream_init(struct engine_event_stream *s,
    engine_event_fn fn, void *payload);
int engine_event_stream_feed(struct engine_event_stream *s, const char *p,
    size_t n);
void engine_event_stream_release(struct engine_event_stream *s);

/* "METHOD /vX.Y/path" for messages. */
void engine_req_describe(const struct engine *e, const struct engine_req *req,
    char *out, size_t outlen);

#endif
