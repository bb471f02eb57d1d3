/*
 * End-to-end: the engine client against the real swarm engines the harness
 * started (tests/harness/swarm.sh): engine 1 on a unix socket, engine 2 on
 * TCP with TLS client certificates.  Every group runs on both.
 *
 * Environment (from the harness): STACKD_TEST_ENGINE1, STACKD_TEST_ENGINE2,
 * STACKD_TEST_CERTS, STACKD_TEST_IMAGE.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <curl/curl.h>

#include "engine.h"

#define NS_LABEL "com.docker.stack.namespace"

struct ctx {
	struct engine *e;
	char prefix[32];	/* unique per run and engine */
};

static char *
path_in(const char *dir, const char *file)
{
	static char buf[4][512];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, file);
	return buf[i];
}

static const char *
need_env(const char *name)
{
	const char *v = getenv(name);

	if (v == NULL || *v == '\0') {
		fprintf(stderr, "%s is not set: run through tests/run.sh\n",
		    name);
		abort();
	}
	return v;
}

/* Engine 2's TLS config; ca/cert/key may be swapped by the error tests. */
static struct engine_config
tls_config(const char *ca, const char *cert, const char *key)
{
	struct engine_config c = {
		.host = (char *)need_env("STACKD_TEST_ENGINE2"),
		.tls = true, .tls_verify = true,
		.ca_file = (char *)ca, .cert_file = (char *)cert,
		.key_file = (char *)key, .timeout_ms = 20000,
	};
	return c;
}

static int
open_ctx(void **state, struct engine_config *cfg, const char *tag)
{
	struct ctx *c = calloc(1, sizeof(*c));
	struct err err;

	if (c == NULL)
		return -1;
	snprintf(c->prefix, sizeof(c->prefix), "e2e%s%ld", tag,
	    (long)getpid());
	if (engine_open(&c->e, cfg, &err) < 0) {
		fprintf(stderr, "engine_open: %s\n", err.msg);
		free(c);
		return -1;
	}
	*state = c;
	return 0;
}

static int
setup_unix(void **state)
{
	struct engine_config cfg = {
		.host = (char *)need_env("STACKD_TEST_ENGINE1"),
		.name = "e1", .timeout_ms = 20000,
	};
	return open_ctx(state, &cfg, "u");
}

static int
setup_tls(void **state)
{
	const char *d = need_env("STACKD_TEST_CERTS");
	struct engine_config cfg = tls_config(path_in(d, "ca.pem"),
	    path_in(d, "cert.pem"), path_in(d, "key.pem"));

	cfg.name = "e2";
	return open_ctx(state, &cfg, "t");
}

static int
teardown(void **state)
{
	struct ctx *c = *state;

	engine_free(c->e);
	free(c);
	return 0;
}

static char *
name_of(struct ctx *c, const char *what)
{
	static char buf[4][96];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s_%s", c->prefix, what);
	return buf[i];
}

static cJSON *
labels(struct ctx *c, const char *extra_key, const char *extra_value)
{
	cJSON *l = cJSON_CreateObject();

	cJSON_AddStringToObject(l, NS_LABEL, c->prefix);
	if (extra_key != NULL)
		cJSON_AddStringToObject(l, extra_key, extra_value);
	return l;
}

static uint64_t
version_of(const cJSON *obj)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "Version");

	v = cJSON_GetObjectItemCaseSensitive(v, "Index");
	assert_true(cJSON_IsNumber(v));
	return (uint64_t)v->valuedouble;
}

static const char *
str_at(const cJSON *obj, const char *a, const char *b, const char *k)
{
	const cJSON *v = obj;

	if (a != NULL)
		v = cJSON_GetObjectItemCaseSensitive(v, a);
	if (b != NULL)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	v = cJSON_GetObjectItemCaseSensitive(v, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* List kind with our namespace label (and optionally another) -> count. */
static int
count_labelled(struct ctx *c, enum engine_kind kind, const char *label)
{
	char want[128];
	cJSON *f = NULL, *list = NULL;
	struct err err;
	int n;

	snprintf(want, sizeof(want), "%s=%s", NS_LABEL, c->prefix);
	engine_filter_add(&f, "label", want);
	if (label != NULL)
		engine_filter_add(&f, "label", label);
	if (engine_object_list(c->e, kind, f, &list, &err) < 0)
		fail_msg("%s", err.msg);
	n = cJSON_GetArraySize(list);
	cJSON_Delete(f);
	cJSON_Delete(list);
	return n;
}

static void
test_ping_and_info(void **state)
{
	struct ctx *c = *state;
	struct engine_ping ping;
	struct engine_info info;
	struct err err;

	if (engine_ping(c->e, &ping, &err) < 0)
		fail_msg("%s", err.msg);
	assert_true(engine_version_cmp(ping.api_version, ENGINE_API_MIN) >= 0);
	assert_true(engine_version_cmp(ping.api_version, ENGINE_API_MAX) <= 0);
	assert_int_equal(engine_version_cmp(ping.api_version,
	    ping.engine_api) <= 0, 1);
	assert_string_equal(engine_api_version(c->e), ping.api_version);
	if (engine_info_get(c->e, &info, &err) < 0)
		fail_msg("%s", err.msg);
	assert_string_equal(info.swarm_state, "active");
	assert_true(info.manager);
	assert_true(strlen(info.node_id) > 0);
	engine_info_release(&info);
}

static void
test_network_lifecycle(void **state)
{
	struct ctx *c = *state;
	cJSON *spec = cJSON_CreateObject(), *got = NULL;
	char *id = NULL;
	struct err err;

	cJSON_AddStringToObject(spec, "Name", name_of(c, "net"));
	cJSON_AddStringToObject(spec, "Driver", "overlay");
	cJSON_AddTrueToObject(spec, "Attachable");
	cJSON_AddItemToObject(spec, "Labels", labels(c, "tier", "back"));
	if (engine_object_create(c->e, ENGINE_NETWORK, spec, &id, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(count_labelled(c, ENGINE_NETWORK, "tier=back"), 1);
	assert_int_equal(count_labelled(c, ENGINE_NETWORK, "tier=front"), 0);
	/* by name, as stack deploy looks networks up */
	if (engine_object_inspect(c->e, ENGINE_NETWORK, name_of(c, "net"),
	    &got, &err) < 0)
		fail_msg("%s", err.msg);
	assert_string_equal(str_at(got, NULL, NULL, "Id"), id);
	assert_string_equal(str_at(got, NULL, NULL, "Scope"), "swarm");
	assert_int_equal(engine_object_update(c->e, ENGINE_NETWORK, id, 1,
	    spec, &err), ERR_UNSUPPORTED);
	assert_int_equal(engine_object_remove(c->e, ENGINE_NETWORK, id, &err),
	    0);
	cJSON_Delete(got);
	assert_int_equal(engine_object_inspect(c->e, ENGINE_NETWORK, id, &got,
	    &err), ERR_NOTFOUND);
	assert_int_equal(err.http_status, 404);
	assert_int_equal(engine_object_remove(c->e, ENGINE_NETWORK, id, &err),
	    ERR_NOTFOUND);
	free(id);
	cJSON_Delete(spec);
}

/* Secrets and configs share a life cycle: create, find by label, labels
 * update with the current version, data update refused, remove. */
static void
secret_or_config(struct ctx *c, enum engine_kind kind, const char *what)
{
	cJSON *spec = cJSON_CreateObject(), *got = NULL;
	char *id = NULL;
	uint64_t v;
	struct err err;

	cJSON_AddStringToObject(spec, "Name", name_of(c, what));
	cJSON_AddStringToObject(spec, "Data", "aGVsbG8=");	/* "hello" */
	cJSON_AddItemToObject(spec, "Labels", labels(c, "rev", "1"));
	if (engine_object_create(c->e, kind, spec, &id, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(engine_object_create(c->e, kind, spec, NULL, &err),
	    ERR_CONFLICT);
	assert_int_equal(err.http_status, 409);
	assert_int_equal(count_labelled(c, kind, "rev=1"), 1);

	if (engine_object_inspect(c->e, kind, id, &got, &err) < 0)
		fail_msg("%s", err.msg);
	v = version_of(got);
	/* Secrets never come back with their data; configs do. */
	if (kind == ENGINE_SECRET)
		assert_null(str_at(got, "Spec", NULL, "Data"));
	else
		assert_string_equal(str_at(got, "Spec", NULL, "Data"),
		    "aGVsbG8=");
	cJSON_Delete(got);

	cJSON_ReplaceItemInObject(spec, "Labels", labels(c, "rev", "2"));
	if (engine_object_update(c->e, kind, id, v, spec, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(count_labelled(c, kind, "rev=2"), 1);

	/* The data is immutable: the engine's own message comes through. */
	cJSON_ReplaceItemInObject(spec, "Data", cJSON_CreateString("Ynll"));
	if (engine_object_inspect(c->e, kind, id, &got, &err) < 0)
		fail_msg("%s", err.msg);
	assert_true(engine_object_update(c->e, kind, id, version_of(got),
	    spec, &err) < 0);
	assert_int_equal(err.http_status, 400);
	assert_non_null(strstr(err.msg, "only updates to Labels are allowed"));
	cJSON_Delete(got);

	assert_int_equal(engine_object_remove(c->e, kind, id, &err), 0);
	assert_int_equal(count_labelled(c, kind, NULL), 0);
	free(id);
	cJSON_Delete(spec);
}

static void
test_secret_lifecycle(void **state)
{
	secret_or_config(*state, ENGINE_SECRET, "secret");
}

static void
test_config_lifecycle(void **state)
{
	secret_or_config(*state, ENGINE_CONFIG, "config");
}

static cJSON *
service_spec(struct ctx *c, const char *label_value)
{
	cJSON *spec = cJSON_CreateObject(), *tt, *cs, *mode, *rep;

	cJSON_AddStringToObject(spec, "Name", name_of(c, "svc"));
	cJSON_AddItemToObject(spec, "Labels", labels(c, "rev", label_value));
	tt = cJSON_AddObjectToObject(spec, "TaskTemplate");
	cs = cJSON_AddObjectToObject(tt, "ContainerSpec");
	cJSON_AddStringToObject(cs, "Image", need_env("STACKD_TEST_IMAGE"));
	mode = cJSON_AddObjectToObject(spec, "Mode");
	rep = cJSON_AddObjectToObject(mode, "Replicated");
	cJSON_AddNumberToObject(rep, "Replicas", 1);
	return spec;
}

static void
test_service_lifecycle(void **state)
{
	struct ctx *c = *state;
	cJSON *spec = service_spec(c, "1"), *got = NULL, *tasks = NULL;
	cJSON *f = NULL;
	char *id = NULL;
	uint64_t v1;
	struct err err;

	if (engine_object_create(c->e, ENGINE_SERVICE, spec, &id, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(count_labelled(c, ENGINE_SERVICE, "rev=1"), 1);
	if (engine_object_inspect(c->e, ENGINE_SERVICE, id, &got, &err) < 0)
		fail_msg("%s", err.msg);
	assert_string_equal(str_at(got, "Spec", NULL, "Name"),
	    name_of(c, "svc"));
	assert_string_equal(str_at(got, "Spec", "TaskTemplate", "Runtime"),
	    "container");	/* filled in by the engine */
	v1 = version_of(got);
	cJSON_Delete(got);

	/* update with the version just read */
	cJSON_Delete(spec);
	spec = service_spec(c, "2");
	if (engine_object_update(c->e, ENGINE_SERVICE, id, v1, spec, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(count_labelled(c, ENGINE_SERVICE, "rev=2"), 1);

	/* the same version again is stale: a typed error to retry on */
	cJSON_Delete(spec);
	spec = service_spec(c, "3");
	assert_int_equal(engine_object_update(c->e, ENGINE_SERVICE, id, v1,
	    spec, &err), ERR_OUTOFSEQ);
	assert_int_equal(err.http_status, 500);
	assert_non_null(strstr(err.msg, "update out of sequence"));
	assert_non_null(strstr(err.msg, "/update"));
	assert_int_equal(count_labelled(c, ENGINE_SERVICE, "rev=3"), 0);

	/* tasks of the service, by filter */
	engine_filter_add(&f, "service", id);
	if (engine_object_list(c->e, ENGINE_TASK, f, &tasks, &err) < 0)
		fail_msg("%s", err.msg);
	assert_true(cJSON_GetArraySize(tasks) >= 1);
	assert_string_equal(str_at(cJSON_GetArrayItem(tasks, 0), NULL, NULL,
	    "ServiceID"), id);

	assert_int_equal(engine_object_remove(c->e, ENGINE_SERVICE, id, &err),
	    0);
	assert_int_equal(engine_object_inspect(c->e, ENGINE_SERVICE, id, &got,
	    &err), ERR_NOTFOUND);
	assert_int_equal(count_labelled(c, ENGINE_SERVICE, NULL), 0);
	cJSON_Delete(f);
	cJSON_Delete(tasks);
	cJSON_Delete(spec);
	free(id);
}

struct want_event {
	const char *name;
	int seen;
};

static int
on_event(const cJSON *ev, void *payload)
{
	struct want_event *w = payload;
	const char *name = str_at(ev, "Actor", "Attributes", "name");
	const char *action = str_at(ev, NULL, NULL, "Action");

	if (name && action && strcmp(name, w->name) == 0 &&
	    strcmp(action, "create") == 0)
		w->seen++;
	return w->seen > 0;
}

static void
test_events_stream(void **state)
{
	struct ctx *c = *state;
	cJSON *spec = cJSON_CreateObject(), *f = NULL;
	struct want_event w = { name_of(c, "evcfg"), 0 };
	char since[32], *id = NULL;
	struct err err;

	snprintf(since, sizeof(since), "%ld", (long)time(NULL) - 5);
	cJSON_AddStringToObject(spec, "Name", w.name);
	cJSON_AddStringToObject(spec, "Data", "eA==");
	cJSON_AddItemToObject(spec, "Labels", labels(c, NULL, NULL));
	if (engine_object_create(c->e, ENGINE_CONFIG, spec, &id, &err) < 0)
		fail_msg("%s", err.msg);
	engine_filter_add(&f, "type", "config");
	/* since= replays the create; the callback ends the watch. */
	if (engine_events_watch(c->e, since, f, on_event, &w, NULL, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(w.seen, 1);
	assert_int_equal(engine_object_remove(c->e, ENGINE_CONFIG, id, &err),
	    0);
	free(id);
	cJSON_Delete(f);
	cJSON_Delete(spec);
}

/* Each failure: the right code, a message that says what to check, and
 * well within the timeout. */
static void
expect_ping_error(struct engine_config *cfg, int code, const char *msg)
{
	struct engine *e = NULL;
	struct timespec t0, t1;
	struct err err;
	double secs;

	cfg->connect_timeout_ms = 3000;
	cfg->timeout_ms = 3000;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (engine_open(&e, cfg, &err) == 0)
		assert_int_equal(engine_ping(e, NULL, &err), code);
	else
		assert_int_equal(err.code, code);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (strstr(err.msg, msg) == NULL)
		fail_msg("expected \"%s\" in: %s", msg, err.msg);
	assert_true(secs < 4.0);
	engine_free(e);
}

static void
test_wrong_ca(void **state)
{
	const char *d = need_env("STACKD_TEST_CERTS");
	struct engine_config cfg = tls_config(path_in(d, "other/ca.pem"),
	    path_in(d, "cert.pem"), path_in(d, "key.pem"));

	(void)state;
	expect_ping_error(&cfg, ERR_TLS, "certificate was not accepted");
}

static void
test_missing_client_cert(void **state)
{
	const char *d = need_env("STACKD_TEST_CERTS");
	struct engine_config cfg = tls_config(path_in(d, "ca.pem"), NULL,
	    NULL);
	struct engine_config nofile = tls_config(path_in(d, "ca.pem"),
	    path_in(d, "missing-cert.pem"), path_in(d, "key.pem"));

	(void)state;
	expect_ping_error(&cfg, ERR_TLS, "client certificate");
	expect_ping_error(&nofile, ERR_TLS, "cannot read TLS certificate");
}

static void
test_plain_http_to_tls_port(void **state)
{
	struct engine_config cfg = {
		.host = (char *)need_env("STACKD_TEST_ENGINE2"),
	};

	(void)state;
	expect_ping_error(&cfg, ERR_PROTOCOL, "--tlsverify");
}

static void
test_closed_port(void **state)
{
	/* 127.0.0.3: loopback, and nothing of ours listens there. */
	struct engine_config cfg = { .host = "tcp://127.0.0.3:2376" };

	(void)state;
	expect_ping_error(&cfg, ERR_UNREACHABLE, "cannot connect");
}

static void
test_dead_socket(void **state)
{
	char dir[] = "/tmp/stackd-dead.XXXXXX", host[128];
	struct engine_config cfg = { .host = host };

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(host, sizeof(host), "unix://%s/docker.sock", dir);
	expect_ping_error(&cfg, ERR_UNREACHABLE, "no such socket");
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest engine_tests[] = {
		cmocka_unit_test(test_ping_and_info),
		cmocka_unit_test(test_network_lifecycle),
		cmocka_unit_test(test_secret_lifecycle),
		cmocka_unit_test(test_config_lifecycle),
		cmocka_unit_test(test_service_lifecycle),
		cmocka_unit_test(test_events_stream),
	};
	const struct CMUnitTest failure_tests[] = {
		cmocka_unit_test(test_wrong_ca),
		cmocka_unit_test(test_missing_client_cert),
		cmocka_unit_test(test_plain_http_to_tls_port),
		cmocka_unit_test(test_closed_port),
		cmocka_unit_test(test_dead_socket),
	};
	int failed = 0;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	failed += cmocka_run_group_tests_name("engine_e2e_unix", engine_tests,
	    setup_unix, teardown);
	failed += cmocka_run_group_tests_name("engine_e2e_tls", engine_tests,
	    setup_tls, teardown);
	failed += cmocka_run_group_tests_name("engine_e2e_failures",
	    failure_tests, NULL, NULL);
	curl_global_cleanup();
	return failed;
}
