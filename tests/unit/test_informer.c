/*
 * Unit tests: the informer lists only when it must (no stream, the stream
 * taken again, expired, too much named, a resync) and otherwise asks the
 * engine for exactly the objects events named, keeping what the lists
 * would have kept; recorded replies from helper_fake_engine.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "engine.h"
#include "helper_fake_engine.h"
#include "reconciler.h"

#define PING "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nServer: " \
	"Docker/20.10.24+dfsg1 (linux)\r\nContent-Length: 0\r\n" \
	"Connection: close\r\n\r\n"
#define SVC(id, v, labels) "{\"ID\":\"" id "\",\"Version\":{\"Index\":" #v \
	"},\"Spec\":{\"Name\":\"st_" id "\",\"Labels\":{" labels "}}}"
#define NS "\"com.docker.stack.namespace\":\"st\""
#define SERVICES "[" SVC("s1", 1, NS) "," SVC("s2", 1, NS) "]"
#define NETWORKS "[{\"Id\":\"n1\",\"Name\":\"st_default\",\"Scope\":\"swarm\"}]"
#define MAXR 32

struct fixture {
	const char *replies[MAXR];
	char *owned[MAXR];
	size_t n;
	struct fake_engine *fake;
	struct engine *e;
	struct recon_informer *inf;
	struct recon_observed obs;
};

static void
reply(struct fixture *f, int status, const char *json)
{
	f->replies[f->n] = f->owned[f->n] = fake_reply(status, "1.41", json);
	f->n++;
}

/* The four lists one full observe asks for. */
static void
lists(struct fixture *f)
{
	reply(f, 200, SERVICES);
	reply(f, 200, NETWORKS);
	reply(f, 200, "[]");
	reply(f, 200, "[]");
}

static void
begin(struct fixture *f, long long resync_ms)
{
	struct engine_config cfg = { .name = "fake" };
	struct err err;

	setenv("DOCKER_CONFIG", "/nonexistent", 1);
	f->fake = fake_engine_start(f->replies, f->n);
	cfg.host = (char *)fake_engine_host(f->fake);
	assert_int_equal(engine_open(&f->e, &cfg, &err), 0);
	f->inf = recon_informer_new(resync_ms);
}

static void
end(struct fixture *f)
{
	recon_informer_free(f->inf);
	engine_free(f->e);
	fake_engine_stop(f->fake);
	for (size_t i = 0; i < f->n; i++)
		free(f->owned[i]);
}

static int
observe(struct fixture *f)
{
	struct err err;

	return recon_informer_observe(f->inf, f->e, &f->obs, &err);
}

/* The requests so far; the last one's request line is path's GET. */
static void
asked(struct fixture *f, size_t n, const char *path)
{
	char line[256];

	assert_int_equal(fake_engine_count(f->fake), n);
	if (path == NULL)
		return;
	snprintf(line, sizeof(line), "GET /v1.41%s ", path);
	assert_non_null(strstr(fake_engine_request(f->fake, n - 1), line));
}

static uint64_t
version_of(const struct recon_observed *o, const char *name)
{
	return recon_object_version(recon_observed_find(o, ENGINE_SERVICE,
	    name));
}

static void
test_lists_then_inspects_what_events_name(void **state)
{
	struct fixture f = { 0 };
	struct recon_informer_stats st;

	(void)state;
	f.replies[f.n++] = PING;
	lists(&f);		/* no stream yet */
	lists(&f);		/* the stream taken */
	reply(&f, 200, SVC("s1", 7, NS));
	reply(&f, 404, "{\"message\":\"service s2 not found\"}");
	reply(&f, 200, "{\"Id\":\"n9\",\"Name\":\"ext\",\"Scope\":\"swarm\"}");
	reply(&f, 200, SVC("s3", 2, "\"other\":\"x\""));
	begin(&f, RECON_RESYNC_MS);

	assert_int_equal(observe(&f), 0);
	asked(&f, 5, "/configs");
	/* Without a stream, every observe lists: here the stream is taken. */
	recon_informer_stream(f.inf, true);
	assert_int_equal(observe(&f), 0);
	asked(&f, 9, "/configs");
	assert_int_equal(version_of(&f.obs, "st_s1"), 1);
	/* Nothing named: nothing asked. */
	assert_int_equal(observe(&f), 0);
	assert_int_equal(observe(&f), 0);
	asked(&f, 9, NULL);
	/* Named twice, asked once; gone; new; not a stack's (not listed). */
	recon_informer_touch(f.inf, ENGINE_SERVICE, "s1");
	recon_informer_touch(f.inf, ENGINE_SERVICE, "s1");
	recon_informer_touch(f.inf, ENGINE_SERVICE, "s2");
	recon_informer_touch(f.inf, ENGINE_NETWORK, "n9");
	recon_informer_touch(f.inf, ENGINE_SERVICE, "s3");
	recon_informer_touch(f.inf, ENGINE_TASK, "t1");
	assert_int_equal(observe(&f), 0);
	asked(&f, 13, "/services/s3");
	assert_non_null(strstr(fake_engine_request(f.fake, 9),
	    "GET /v1.41/services/s1 "));
	assert_int_equal(version_of(&f.obs, "st_s1"), 7);
	assert_null(recon_observed_find(&f.obs, ENGINE_SERVICE, "st_s2"));
	assert_null(recon_observed_find(&f.obs, ENGINE_SERVICE, "st_s3"));
	assert_non_null(recon_observed_find(&f.obs, ENGINE_NETWORK, "ext"));
	assert_non_null(recon_observed_find(&f.obs, ENGINE_NETWORK,
	    "st_default"));
	recon_informer_stats(f.inf, &st);
	assert_int_equal(st.lists, 2);
	assert_int_equal(st.events, 1);
	assert_int_equal(st.inspects, 4);
	assert_int_equal(st.quiet, 2);
	end(&f);
}

/* Expired, named too much, the stream lost, the resync: a full list. */
static void
test_lists_again_when_it_must(void **state)
{
	struct fixture f = { 0 };
	char id[16];

	(void)state;
	f.replies[f.n++] = PING;
	for (int i = 0; i < 5; i++)
		lists(&f);
	begin(&f, 50);
	recon_informer_stream(f.inf, true);
	assert_int_equal(observe(&f), 0);
	asked(&f, 5, "/configs");
	recon_informer_expire(f.inf);
	assert_int_equal(observe(&f), 0);
	asked(&f, 9, "/configs");
	for (int i = 0; i < 100; i++) {
		snprintf(id, sizeof(id), "x%d", i);
		recon_informer_touch(f.inf, ENGINE_CONFIG, id);
	}
	assert_int_equal(observe(&f), 0);
	asked(&f, 13, "/configs");
	recon_informer_stream(f.inf, false);
	assert_int_equal(observe(&f), 0);
	asked(&f, 17, "/configs");
	recon_informer_stream(f.inf, true);
	usleep(60 * 1000);	/* > resync: no quiet observe before it */
	assert_int_equal(observe(&f), 0);
	asked(&f, 21, "/configs");
	end(&f);
}

/* An engine error on an inspect fails the observe; the next one lists. */
static void
test_failed_inspect_lists_next_time(void **state)
{
	struct fixture f = { 0 };

	(void)state;
	f.replies[f.n++] = PING;
	lists(&f);
	reply(&f, 500, "{\"message\":\"rpc error\"}");
	lists(&f);
	begin(&f, RECON_RESYNC_MS);
	recon_informer_stream(f.inf, true);
	assert_int_equal(observe(&f), 0);
	recon_informer_touch(f.inf, ENGINE_SERVICE, "s1");
	assert_true(observe(&f) < 0);
	assert_null(f.obs.services);
	assert_int_equal(observe(&f), 0);
	asked(&f, 10, "/configs");
	assert_non_null(recon_observed_find(&f.obs, ENGINE_SERVICE, "st_s2"));
	end(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lists_then_inspects_what_events_name),
		cmocka_unit_test(test_lists_again_when_it_must),
		cmocka_unit_test(test_failed_inspect_lists_next_time),
	};

	return cmocka_run_group_tests_name("informer", tests, NULL, NULL);
}
