/*
 * Unit tests: how the engine client treats recorded engine answers
 * (negotiation headers, error bodies, truncated JSON, silence, the event
 * stream), replayed by the fake engine in helper_fake_engine.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "engine.h"
#include "helper_fake_engine.h"

#define PING_41 "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nServer: " \
	"Docker/20.10.24+dfsg1 (linux)\r\nContent-Length: 0\r\n" \
	"Connection: close\r\n\r\n"

struct fixture {
	struct fake_engine *fake;
	struct engine *engine;
	char *owned[8];
	size_t nowned;
};

static struct fixture *
start(const char *const *replies, size_t n, const char *auth_file,
    long timeout_ms)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct engine_config cfg = { 0 };
	struct err err;

	assert_non_null(fx);
	fx->fake = fake_engine_start(replies, n);
	cfg.host = (char *)fake_engine_host(fx->fake);
	cfg.name = "fake";
	cfg.auth_file = (char *)auth_file;
	cfg.timeout_ms = timeout_ms;
	if (auth_file == NULL)
		setenv("DOCKER_CONFIG", "/nonexistent", 1);
	assert_int_equal(engine_open(&fx->engine, &cfg, &err), 0);
	return fx;
}

static void
stop(struct fixture *fx)
{
	engine_free(fx->engine);
	fake_engine_stop(fx->fake);
	for (size_t i = 0; i < fx->nowned; i++)
		free(fx->owned[i]);
	free(fx);
}

static const char *
own(struct fixture *fx, char *s)
{
	fx->owned[fx->nowned++] = s;
	return s;
}

static void
test_negotiates_down_to_engine(void **state)
{
	const char *replies[] = { PING_41, NULL };
	struct fixture *fx;
	struct engine_ping ping;
	cJSON *list = NULL;
	struct err err;

	(void)state;
	fx = start(replies, 2, NULL, 0);
	replies[1] = own(fx, fake_reply(200, "1.41", "[]"));
	assert_int_equal(engine_ping(fx->engine, &ping, &err), 0);
	assert_string_equal(ping.api_version, "1.41");
	assert_string_equal(ping.server, "Docker/20.10.24+dfsg1 (linux)");
	assert_int_equal(engine_object_list(fx->engine, ENGINE_SECRET, NULL,
	    &list, &err), 0);
	assert_int_equal(cJSON_GetArraySize(list), 0);
	cJSON_Delete(list);
	/* The ping is unversioned HEAD, every later call carries /v1.41. */
	assert_memory_equal(fake_engine_request(fx->fake, 0),
	    "HEAD /_ping HTTP/1.1", 20);
	assert_memory_equal(fake_engine_request(fx->fake, 1),
	    "GET /v1.41/secrets HTTP/1.1", 27);
	stop(fx);
}

static void
test_head_refused_falls_back_to_get(void **state)
{
	const char *replies[] = {
	    "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n"
	    "Connection: close\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nApi-Version: 1.52\r\nSwarm: active/manager\r\n"
	    "Content-Length: 2\r\nConnection: close\r\n\r\nOK",
	};
	struct fixture *fx = start(replies, 2, NULL, 0);
	struct engine_ping ping;
	struct err err;

	(void)state;
	assert_int_equal(engine_ping(fx->engine, &ping, &err), 0);
	assert_string_equal(ping.api_version, "1.52");
	assert_string_equal(ping.swarm, "active/manager");
	assert_memory_equal(fake_engine_request(fx->fake, 1), "GET /_ping ", 11);
	stop(fx);
}

static void
test_too_old_engine_refused(void **state)
{
	const char *replies[] = { "HTTP/1.1 200 OK\r\nApi-Version: 1.40\r\n"
	    "Content-Length: 0\r\nConnection: close\r\n\r\n" };
	struct fixture *fx = start(replies, 1, NULL, 0);
	struct err err;

	(void)state;
	assert_int_equal(engine_ping(fx->engine, NULL, &err), ERR_UNSUPPORTED);
	assert_non_null(strstr(err.msg, "engine fake: engine speaks API 1.40"));
	stop(fx);
}

/* Recorded from Debian's 20.10.24: a stale ?version= on service update. */
#define OUT_OF_SEQUENCE "{\"message\":\"rpc error: code = Unknown desc = " \
	"update out of sequence\"}"

static void
test_engine_errors_are_typed(void **state)
{
	const char *replies[] = { PING_41, NULL, NULL, NULL, NULL };
	struct fixture *fx = start(replies, 5, NULL, 0);
	cJSON *spec = cJSON_Parse("{\"Name\":\"web_app\"}"), *out = NULL;
	struct err err;

	(void)state;
	replies[1] = own(fx, fake_reply(500, "1.41", OUT_OF_SEQUENCE));
	replies[2] = own(fx, fake_reply(404, "1.41",
	    "{\"message\":\"service nope not found\"}"));
	replies[3] = own(fx, fake_reply(409, "1.41", "{\"message\":\"rpc "
	    "error: code = AlreadyExists desc = secret web_s exists\"}"));
	replies[4] = own(fx, fake_reply(500, "1.41", "{\"message\":\"network "
	    "web_nope not found\"}"));

	assert_int_equal(engine_object_update(fx->engine, ENGINE_SERVICE, "abc",
	    17, spec, &err), ERR_OUTOFSEQ);
	assert_int_equal(err.http_status, 500);
	assert_string_equal(err.msg, "engine fake: POST /v1.41/services/abc/"
	    "update: 500 rpc error: code = Unknown desc = update out of "
	    "sequence");
	assert_non_null(strstr(fake_engine_request(fx->fake, 1),
	    "POST /v1.41/services/abc/update?version=17 "));

	assert_int_equal(engine_object_inspect(fx->engine, ENGINE_SERVICE,
	    "nope", &out, &err), ERR_NOTFOUND);
	assert_null(out);
	assert_int_equal(err.http_status, 404);
	assert_int_equal(engine_object_create(fx->engine, ENGINE_SECRET, spec,
	    NULL, &err), ERR_CONFLICT);
	assert_int_equal(engine_object_create(fx->engine, ENGINE_SERVICE, spec,
	    NULL, &err), ERR_ENGINE);
	assert_non_null(strstr(err.msg, "network web_nope not found"));
	cJSON_Delete(spec);
	stop(fx);
}

static void
test_truncated_json_is_protocol_error(void **state)
{
	const char *replies[] = { PING_41, NULL, NULL };
	struct fixture *fx = start(replies, 3, NULL, 0);
	cJSON *out = NULL;
	struct err err;

	(void)state;
	replies[1] = own(fx, fake_reply(200, "1.41", "[{\"ID\":\"abc\",\"Spe"));
	replies[2] = own(fx, fake_reply(200, "1.41", "{\"ID\":\"abc\"}"));
	assert_int_equal(engine_object_list(fx->engine, ENGINE_SERVICE, NULL,
	    &out, &err), ERR_PROTOCOL);
	assert_null(out);
	assert_non_null(strstr(err.msg, "not valid JSON"));
	/* valid JSON of the wrong shape */
	assert_int_equal(engine_object_list(fx->engine, ENGINE_CONFIG, NULL,
	    &out, &err), ERR_PROTOCOL);
	assert_non_null(strstr(err.msg, "expected a JSON array"));
	stop(fx);
}

static cJSON *
drop_spec(enum engine_kind k, cJSON *o)
{
	assert_int_equal(k, ENGINE_SERVICE);
	cJSON_DeleteItemFromObjectCaseSensitive(o, "Spec");
	return o;
}

/* A list is parsed object by object as it arrives, each trimmed before
 * the next; an error status still gives the engine's own message. */
static void
test_list_trimmed_as_it_arrives(void **state)
{
	const char *replies[] = { PING_41, NULL, NULL };
	struct fixture *fx = start(replies, 3, NULL, 0);
	cJSON *out = NULL;
	struct err err;

	(void)state;
	replies[1] = own(fx, fake_reply(200, "1.41", "[{\"ID\":\"a\",\"Spec\":"
	    "{\"Name\":\"x,]\"}}, {\"ID\":\"b\",\"Spec\":[1]}]"));
	replies[2] = own(fx, fake_reply(500, "1.41",
	    "{\"message\":\"manager is not the leader\"}"));
	assert_int_equal(engine_object_list_trimmed(fx->engine, ENGINE_SERVICE,
	    NULL, drop_spec, &out, &err), 0);
	assert_int_equal(cJSON_GetArraySize(out), 2);
	assert_string_equal(cJSON_GetArrayItem(out, 1)->child->valuestring, "b");
	assert_null(cJSON_GetObjectItem(cJSON_GetArrayItem(out, 0), "Spec"));
	assert_null(cJSON_GetObjectItem(cJSON_GetArrayItem(out, 1), "Spec"));
	cJSON_Delete(out);
	assert_int_equal(engine_object_list(fx->engine, ENGINE_SERVICE, NULL,
	    &out, &err), ERR_ENGINE);
	assert_null(out);
	assert_non_null(strstr(err.msg, "500 manager is not the leader"));
	stop(fx);
}

static void
test_silent_engine_times_out(void **state)
{
	const char *replies[] = { PING_41, FAKE_HANG };
	struct fixture *fx = start(replies, 2, NULL, 300);
	struct timespec t0, t1;
	cJSON *out = NULL;
	struct err err;
	long ms;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(engine_object_list(fx->engine, ENGINE_TASK, NULL,
	    &out, &err), ERR_TIMEOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms >= 250 && ms < 5000);
	assert_non_null(strstr(err.msg, "no complete reply within 300 ms"));
	stop(fx);
}

static void
test_list_query_and_registry_auth(void **state)
{
	const char *replies[] = { PING_41, NULL, NULL, NULL };
	struct fixture *fx = start(replies, 4, SRCDIR
	    "/tests/data/docker-config.json", 0);
	cJSON *f = NULL, *out = NULL;
	cJSON *svc = cJSON_Parse("{\"Name\":\"web_app\",\"TaskTemplate\":"
	    "{\"ContainerSpec\":{\"Image\":\"registry.example.com:5000/app\"}}}");
	cJSON *sec = cJSON_Parse("{\"Name\":\"web_s\",\"Data\":\"eA==\"}");
	char *id = NULL;
	struct err err;

	(void)state;
	replies[1] = own(fx, fake_reply(200, "1.41", "[]"));
	replies[2] = own(fx, fake_reply(201, "1.41", "{\"ID\":\"svc1\"}"));
	replies[3] = own(fx, fake_reply(201, "1.41", "{\"ID\":\"sec1\"}"));
	engine_filter_add(&f, "label", "com.docker.stack.namespace=web");
	assert_int_equal(engine_object_list(fx->engine, ENGINE_SERVICE, f,
	    &out, &err), 0);
	assert_non_null(strstr(fake_engine_request(fx->fake, 1),
	    "GET /v1.41/services?status=true&filters=%7B%22label%22%3A%7B%22"
	    "com.docker.stack.namespace%3Dweb%22%3Atrue%7D%7D HTTP/1.1"));

	assert_int_equal(engine_object_create(fx->engine, ENGINE_SERVICE, svc,
	    &id, &err), 0);
	assert_string_equal(id, "svc1");
	free(id);
	assert_non_null(strstr(fake_engine_request(fx->fake, 2),
	    "X-Registry-Auth: eyJ1c2VybmFtZSI6InJvYm90Ii"));
	assert_non_null(strstr(fake_engine_request(fx->fake, 2),
	    "\r\n\r\n{\"Name\":\"web_app\""));
	/* Only services carry credentials. */
	assert_int_equal(engine_object_create(fx->engine, ENGINE_SECRET, sec,
	    &id, &err), 0);
	free(id);
	assert_null(strstr(fake_engine_request(fx->fake, 3), "X-Registry-Auth"));
	cJSON_Delete(f);
	cJSON_Delete(out);
	cJSON_Delete(svc);
	cJSON_Delete(sec);
	stop(fx);
}

struct seen {
	int n;
	int opened;		/* NULL events: the stream was taken */
	int events_before_open;
	char actions[4][16];
	int stop_after;
};

static int
on_event(const cJSON *ev, void *payload)
{
	struct seen *s = payload;
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(ev, "Action");

	if (ev == NULL) {
		s->events_before_open = s->n;
		s->opened++;
		return 0;
	}
	if (s->n < 4 && cJSON_IsString(a))
		snprintf(s->actions[s->n], sizeof(s->actions[0]), "%s",
		    a->valuestring);
	s->n++;
	return s->stop_after > 0 && s->n >= s->stop_after;
}

#define EVENT_STREAM "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\n" \
	"Content-Type: application/json\r\nConnection: close\r\n\r\n" \
	"{\"Type\":\"service\",\"Action\":\"create\"}\n" \
	"{\"Type\":\"service\",\"Action\":\"update\"}\r\n" \
	"{\"Type\":\"config\",\"Action\":\"remove\"}\n"

static void
test_event_stream(void **state)
{
	const char *replies[] = { PING_41, EVENT_STREAM, EVENT_STREAM,
	    FAKE_HANG };
	struct fixture *fx = start(replies, 4, NULL, 0);
	struct seen all = { 0 }, two = { .stop_after = 2 }, none = { 0 };
	atomic_int stop_now = 1;
	struct err err;

	(void)state;
	/* The engine ending the stream is an error the caller reconnects on. */
	assert_int_equal(engine_events_watch(fx->engine, "1700000000", NULL,
	    on_event, &all, NULL, &err), ERR_UNREACHABLE);
	assert_int_equal(all.n, 3);
	/* The answer's headers are heard before any event. */
	assert_int_equal(all.opened, 1);
	assert_int_equal(all.events_before_open, 0);
	assert_string_equal(all.actions[1], "update");
	assert_string_equal(all.actions[2], "remove");
	assert_non_null(strstr(fake_engine_request(fx->fake, 1),
	    "GET /v1.41/events?since=1700000000 "));
	/* The callback ends the watch. */
	assert_int_equal(engine_events_watch(fx->engine, NULL, NULL, on_event,
	    &two, NULL, &err), 0);
	assert_int_equal(two.n, 2);
	/* So does the stop flag, even on a silent stream. */
	assert_int_equal(engine_events_watch(fx->engine, NULL, NULL, on_event,
	    &none, &stop_now, &err), 0);
	assert_int_equal(none.n, 0);
	assert_int_equal(none.opened, 0);	/* it never answered */
	stop(fx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_negotiates_down_to_engine),
		cmocka_unit_test(test_head_refused_falls_back_to_get),
		cmocka_unit_test(test_too_old_engine_refused),
		cmocka_unit_test(test_engine_errors_are_typed),
		cmocka_unit_test(test_truncated_json_is_protocol_error),
		cmocka_unit_test(test_list_trimmed_as_it_arrives),
		cmocka_unit_test(test_silent_engine_times_out),
		cmocka_unit_test(test_list_query_and_registry_auth),
		cmocka_unit_test(test_event_stream),
	};
	return cmocka_run_group_tests_name("engine_http", tests, NULL, NULL);
}
