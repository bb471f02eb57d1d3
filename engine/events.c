/*
 * events.c - the GET /events stream: one JSON object per line, for as long
 * as the engine keeps the connection open.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "engine_int.h"

struct watch {
	CURL *h;
	struct engine_event_stream stream;
	bool http_error;	/* the body is an error message, not events */
};

void
engine_event_stream_init(struct engine_event_stream *s, engine_event_fn fn,
    void *payload)
{
	/* A single event is a few hundred bytes; anything near the limit is
	 * garbage. */
	buf_init(&s->line, ENGINE_EVENT_LINE_MAX);
	s->fn = fn;
	s->payload = payload;
	s->bad_json = false;
	s->done = false;
}

void
engine_event_stream_release(struct engine_event_stream *s)
{
	buf_free(&s->line);
}

static int
deliver(struct engine_event_stream *s, const char *p, size_t n)
{
	cJSON *ev;
	int rc;

	while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == ' '))
		n--;
	if (n == 0)
		return 0;
	if ((ev = cJSON_ParseWithLength(p, n)) == NULL ||
	    !cJSON_IsObject(ev)) {
		cJSON_Delete(ev);
		s->bad_json = true;
		return 1;
	}
	rc = s->fn(ev, s->payload);
	cJSON_Delete(ev);
	if (rc != 0)
		s->done = true;
	return rc;
}

int
engine_event_stream_feed(struct engine_event_stream *s, const char *p,
    size_t n)
{
	char *nl;
	size_t len;

	if (buf_append(&s->line, p, n) < 0) {
		s->bad_json = true;
		return 1;
	}
	while ((nl = memchr(s->line.data, '\n', s->line.len)) != NULL) {
		len = (size_t)(nl - s->line.data);
		if (deliver(s, s->line.data, len) != 0)
			return 1;
		buf_consume(&s->line, len + 1);
	}
	return 0;
}

static int
on_chunk(const char *p, size_t n, void *arg)
{
	struct watch *w = arg;
	long status = 0;

	if (w->stream.done)
		return 1;
	curl_easy_getinfo(w->h, CURLINFO_RESPONSE_CODE, &status);
	w->http_error = status >= 300;
	if (w->http_error)	/* keep the error body for the message */
		return buf_append(&w->stream.line, p, n) < 0;
	return engine_event_stream_feed(&w->stream, p, n);
}

/* The engine took the stream: the caller hears it as a NULL event. */
static void
on_open(void *arg)
{
	struct watch *w = arg;

	if (w->stream.fn(NULL, w->stream.payload) != 0)
		w->stream.done = true;
}

static int
build_query(CURL *h, const char *since, const cJSON *filters,
    struct buf *q, struct err *err)
{
	char *json = NULL, *esc = NULL;
	int rc = 0;

	if (since != NULL && *since != '\0') {
		if ((esc = curl_easy_escape(h, since, 0)) == NULL)
			alloc_fail();
		rc = buf_appendf(q, "since=%s", esc);
		curl_free(esc);
		esc = NULL;
	}
	if (rc == 0 && filters != NULL) {
		json = cJSON_PrintUnformatted(filters);
		if ((esc = curl_easy_escape(h, json, 0)) == NULL)
			alloc_fail();
		rc = buf_appendf(q, "%sfilters=%s", q->len ? "&" : "", esc);
	}
	free(json);
	curl_free(esc);
	return rc < 0 ? err_set(err, ERR_INVALID, "engine events: the query "
	    "is larger than %zu bytes", q->max) : 0;
}

int
engine_events_watch(struct engine *e, const char *since,
    const cJSON *filters, engine_event_fn fn, void *payload,
    const atomic_int *stop, struct err *err)
{
	struct watch w = { 0 };
	struct engine_req req = { .method = "GET", .path = "/events",
	    .chunk_fn = on_chunk, .chunk_payload = &w, .open_fn = on_open,
	    .stop = stop };
	struct engine_resp resp;
	struct buf query;
	int rc;

	if ((rc = engine_negotiate(e, err)) < 0)
		return rc;
	buf_init(&query, 64 * 1024);
	engine_event_stream_init(&w.stream, fn, payload);
	engine_resp_init(&resp);
	if ((w.h = curl_easy_init()) == NULL)
		alloc_fail();
	if ((rc = build_query(w.h, since, filters, &query, err)) < 0)
		goto out;
	req.query = query.len ? query.data : NULL;
	rc = engine_http_do(e, w.h, &req, &resp, err);
	if (rc < 0 || w.stream.done || (stop != NULL && *stop))
		goto out;
	if (w.http_error) {
		rc = err_set(err, resp.status == 404 ? ERR_NOTFOUND :
		    ERR_ENGINE, "engine %s: GET /events: %ld %.300s", e->name,
		    resp.status, w.stream.line.len ? w.stream.line.data : "");
		if (err != NULL)
			err->http_status = (int)resp.status;
	} else if (w.stream.bad_json)
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
	engine_event_stream_release(&w.stream);
	return rc;
}
