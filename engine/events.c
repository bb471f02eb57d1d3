/*
 * events.c - the GET /events stream: one JSON object per line, for as long
 * as the engine keeps the connection open.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"

/* A single event is a few hundred bytes; anything near this is garbage. */
#define EVENT_LINE_MAX (1024u * 1024)

struct watch {
	CURL *h;
	struct buf line;
	engine_event_fn fn;
	void *payload;
	bool http_error;	/* collect the error body instead */
	bool bad_json;
	bool done;		/* fn asked to stop */
};

static int
deliver(struct watch *w, const char *p, size_t n)
{
	cJSON *ev;
	int rc;

	while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == ' '))
		n--;
	if (n == 0)
		return 0;
	if ((ev = cJSON_ParseWithLength(p, n)) == NULL) {
		w->bad_json = true;
		return 1;
	}
	rc = w->fn(ev, w->payload);
	cJSON_Delete(ev);
	if (rc != 0)
		w->done = true;
	return rc;
}

static int
on_chunk(const char *p, size_t n, void *arg)
{
	struct watch *w = arg;
	long status = 0;
	char *nl;
	size_t len;

	curl_easy_getinfo(w->h, CURLINFO_RESPONSE_CODE, &status);
	w->http_error = status >= 300;
	if (buf_append(&w->line, p, n) < 0) {
		w->bad_json = true;
		return 1;
	}
	if (w->http_error)
		return 0;
	while ((nl = memchr(w->line.data, '\n', w->line.len)) != NULL) {
		len = (size_t)(nl - w->line.data);
		if (deliver(w, w->line.data, len) != 0)
			return 1;
		buf_consume(&w->line, len + 1);
	}
	return 0;
}

static int
build_query(CURL *h, const char *since, const cJSON *filters,
    struct buf *q, struct err *err)
{
	char *json = NULL, *esc = NULL;
	int rc = 0;

	if (since != NULL && *since != '\0') {
		if ((esc = curl_easy_escape(h, since, 0)) == NULL ||
		    buf_appendf(q, "since=%s", esc) < 0)
			rc = ERR_NOMEM;
		curl_free(esc);
		esc = NULL;
	}
	if (rc == 0 && filters != NULL) {
		if ((json = cJSON_PrintUnformatted(filters)) == NULL ||
		    (esc = curl_easy_escape(h, json, 0)) == NULL ||
		    buf_appendf(q, "%sfilters=%s", q->len ? "&" : "", esc) < 0)
			rc = ERR_NOMEM;
	}
	free(json);
	curl_free(esc);
	return rc < 0 ? err_set(err, rc, "out of memory") : 0;
}

int
engine_events_watch(struct engine *e, const char *since,
    const cJSON *filters, engine_event_fn fn, void *payload,
    const volatile int *stop, struct err *err)
{
	struct watch w = { .fn = fn, .payload = payload };
	struct engine_req req = { .method = "GET", .path = "/events",
	    .chunk_fn = on_chunk, .chunk_payload = &w, .stop = stop };
	struct engine_resp resp;
	struct buf query;
	int rc;

	if ((rc = engine_negotiate(e, err)) < 0)
		return rc;
	buf_init(&query, 64 * 1024);
	buf_init(&w.line, EVENT_LINE_MAX);
	engine_resp_init(&resp);
	if ((w.h = curl_easy_init()) == NULL) {
		rc = err_set(err, ERR_NOMEM, "out of memory (curl handle)");
		goto out;
	}
	if ((rc = build_query(w.h, since, filters, &query, err)) < 0)
		goto out;
	req.query = query.len ? query.data : NULL;
	rc = engine_http_do(e, w.h, &req, &resp, err);
	if (rc < 0 || w.done || (stop != NULL && *stop))
		goto out;
	if (w.http_error) {
		rc = err_set(err, resp.status == 404 ? ERR_NOTFOUND :
		    ERR_ENGINE, "engine %s: GET /events: %ld %.300s", e->name,
		    resp.status, w.line.len ? w.line.data : "");
		if (err != NULL)
			err->http_status = (int)resp.status;
	} else if (w.bad_json)
		rc = err_set(err, ERR_PROTOCOL, "engine %s: GET /events: the "
		    "stream held something other than JSON events", e->name);
	else
		rc = err_set(err, ERR_UNREACHABLE, "engine %s: GET /events: "
		    "the engine closed the event stream", e->name);
out:
	if (w.h != NULL)
		curl_easy_cleanup(w.h);
	engine_resp_release(&resp);
	buf_free(&query);
	buf_free(&w.line);
	return rc;
}
