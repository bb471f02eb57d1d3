/*
 * Unit tests: image pinning.  The platform filter and the pinned form
 * follow docker/cli's service_create.go; the cache's behaviour (one
 * lookup per image and poll interval, failures remembered, a push
 * expiring an answer, a deadline on silence) is checked against the fake
 * engine; the planner's --resolve-image rules on observed services.
 * Deploys against a real registry are in tests/e2e/images.sh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "clock.h"
#include "helper_fake_engine.h"
#include "images.h"
#include "reconciler.h"

#define PING_41 "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Length: 0" \
	"\r\nConnection: close\r\n\r\n"
#define DA "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define DB "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define DIST(d) "{\"Descriptor\":{\"mediaType\":\"application/vnd.docker." \
	"distribution.manifest.v2+json\",\"digest\":\"" d "\",\"size\":527}," \
	"\"Platforms\":[{\"architecture\":\"amd64\",\"os\":\"linux\"}]}"

static char *
platforms(const char *reply)
{
	cJSON *in = cJSON_Parse(reply), *out = images_platforms(in);
	char *s = out ? cJSON_PrintUnformatted(out) : NULL;

	cJSON_Delete(in);
	cJSON_Delete(out);
	return s;
}

static void
test_platforms_filtered_as_the_cli(void **state)
{
	char *s;

	(void)state;
	s = platforms("[{\"architecture\":\"amd64\",\"os\":\"linux\"},"
	    "{\"architecture\":\"unknown\",\"os\":\"unknown\"},"
	    "{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v7\"},"
	    "{\"architecture\":\"ARM\",\"os\":\"linux\",\"variant\":\"v6\"},"
	    "{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"},"
	    "{\"architecture\":\"amd64\",\"os\":\"linux\",\"os.version\":\"x\"}]");
	assert_string_equal(s, "[{\"Architecture\":\"amd64\",\"OS\":\"linux\"},"
	    "{\"OS\":\"linux\"},{\"Architecture\":\"arm64\",\"OS\":\"linux\"}]");
	free(s);
	assert_null(platforms("[{\"architecture\":\"unknown\",\"os\":\"unknown\"}]"));
	assert_null(platforms("[]"));
	assert_null(platforms("null"));
}

static void
test_pinned_form(void **state)
{
	char out[512];

	(void)state;
	assert_int_equal(images_pinned("nginx:latest", DA, out, sizeof(out)), 0);
	assert_string_equal(out, "nginx:latest@" DA);
	images_pinned("docker.io/library/nginx", DA, out, sizeof(out));
	assert_string_equal(out, "nginx:latest@" DA);
	images_pinned("127.0.0.1:5000/app:1", DA, out, sizeof(out));
	assert_string_equal(out, "127.0.0.1:5000/app:1@" DA);
	/* A reference with a digest keeps it (only its platforms are new). */
	images_pinned("app:1@" DB, DA, out, sizeof(out));
	assert_string_equal(out, "app:1@" DB);
	images_pinned("app@" DB, DA, out, sizeof(out));
	assert_string_equal(out, "app@" DB);
	assert_int_equal(images_pinned("nginx:latest", DA, out, 10), -1);
}

static void
test_modes_parse(void **state)
{
	enum images_mode m;

	(void)state;
	assert_int_equal(images_mode_parse("changed", &m), 0);
	assert_int_equal(m, IMAGES_CHANGED);
	assert_string_equal(images_mode_name(IMAGES_NEVER), "never");
	assert_int_equal(images_mode_parse("Always", &m), -1);
}

struct fixture {
	struct fake_engine *fake;
	struct engine *e;
	struct images_cache *c;
	char *replies[8];
};

static struct fixture *
start(const char *const *bodies, size_t n, long poll_ms, long timeout_ms)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct engine_config cfg = { .name = "fake" };
	struct err err;

	assert_non_null(fx);
	fx->replies[0] = strdup(PING_41);
	for (size_t i = 0; i < n; i++)
		fx->replies[i + 1] = strcmp(bodies[i], FAKE_HANG) == 0 ?
		    strdup(FAKE_HANG) : bodies[i][0] == '{' ?
		    fake_reply(200, "1.41", bodies[i]) :
		    fake_reply(atoi(bodies[i]), "1.41", bodies[i] + 4);
	fx->fake = fake_engine_start((const char *const *)fx->replies, n + 1);
	cfg.host = (char *)fake_engine_host(fx->fake);
	setenv("DOCKER_CONFIG", "/nonexistent", 1);
	assert_int_equal(engine_open(&fx->e, &cfg, &err), 0);
	fx->c = images_cache_new(poll_ms, timeout_ms, NULL, NULL);
	return fx;
}

static void
stop(struct fixture *fx)
{
	images_cache_free(fx->c);
	engine_free(fx->e);
	fake_engine_stop(fx->fake);
	for (size_t i = 0; i < 8; i++)
		free(fx->replies[i]);
	free(fx);
}

static void
test_cache_asks_once_per_poll(void **state)
{
	const char *bodies[] = { DIST(DA), DIST(DB) };
	const char *imgs[] = { "127.0.0.1:5000/app:1", "127.0.0.1:5000/app:1" };
	struct fixture *fx = start(bodies, 2, 60000, 0);
	struct images_pin pin;
	struct images_stats st;
	struct err err;

	(void)state;
	assert_false(images_cache_get(fx->c, imgs[0], &pin));
	/* Twice in one batch: asked once. */
	assert_int_equal(images_cache_resolve(fx->c, fx->e, imgs, 2, &err), 0);
	assert_int_equal(fake_engine_count(fx->fake), 2);
	assert_non_null(strstr(fake_engine_request(fx->fake, 1),
	    "GET /v1.41/distribution/127.0.0.1:5000/app:1/json "));
	assert_true(images_cache_get(fx->c, imgs[0], &pin));
	assert_true(pin.ok);
	assert_string_equal(pin.pinned, "127.0.0.1:5000/app:1@" DA);
	assert_non_null(pin.platforms);
	images_pin_release(&pin);

	/* Fresh: no request at all. */
	assert_int_equal(images_cache_resolve(fx->c, fx->e, imgs, 1, &err), 0);
	assert_int_equal(fake_engine_count(fx->fake), 2);

	/* A push of another repository changes nothing; of this one, the
	 * next look asks again and finds the new digest. */
	assert_int_equal(images_cache_expire(fx->c, "127.0.0.1:5000", "other"),
	    0);
	assert_int_equal(images_cache_expire(fx->c, "127.0.0.1:5000", "app"), 1);
	assert_int_equal(images_cache_resolve(fx->c, fx->e, imgs, 1, &err), 0);
	assert_int_equal(fake_engine_count(fx->fake), 3);
	images_cache_get(fx->c, imgs[0], &pin);
	assert_string_equal(pin.digest, DB);
	images_pin_release(&pin);
	images_cache_stats(fx->c, &st);
	assert_int_equal(st.resolved, 2);
	assert_int_equal(st.moved, 1);
	assert_int_equal(st.failed, 0);
	stop(fx);
}

static void
test_failure_is_remembered_with_the_last_digest(void **state)
{
	const char *bodies[] = { DIST(DA), "500 {\"message\":\"Get \\\"http://"
	    "127.0.0.1:5000/v2/\\\": connection refused\"}" };
	const char *imgs[] = { "127.0.0.1:5000/app:1" };
	struct fixture *fx = start(bodies, 2, 0, 0);
	struct images_pin pin;
	struct err err;

	(void)state;
	images_cache_resolve(fx->c, fx->e, imgs, 1, &err);
	/* poll 0: not again in the same pass, then at every pass. */
	images_cache_resolve(fx->c, fx->e, imgs, 1, &err);
	assert_int_equal(fake_engine_count(fx->fake), 2);
	images_cache_pass(fx->c, NULL, &err);
	images_cache_resolve(fx->c, fx->e, imgs, 1, &err);
	assert_int_equal(fake_engine_count(fx->fake), 3);
	assert_true(images_cache_get(fx->c, imgs[0], &pin));
	assert_false(pin.ok);
	assert_string_equal(pin.digest, DA);
	assert_non_null(strstr(pin.error, "connection refused"));
	images_pin_release(&pin);
	stop(fx);
}

static void
test_silence_costs_the_deadline(void **state)
{
	const char *bodies[] = { FAKE_HANG };
	const char *imgs[] = { "127.0.0.1:5000/app:1" };
	struct fixture *fx = start(bodies, 1, 60000, 300);
	struct images_pin pin;
	struct err err;
	long long t0 = clock_mono_ms();

	(void)state;
	assert_int_equal(images_cache_resolve(fx->c, fx->e, imgs, 1, &err), 0);
	/* Bounded by the deadline, not by the engine's 25 s. */
	assert_true(clock_mono_ms() - t0 < 5000);
	images_cache_get(fx->c, imgs[0], &pin);
	assert_false(pin.ok);
	assert_non_null(strstr(pin.error, "did not answer within 300 ms"));
	images_pin_release(&pin);
	stop(fx);
}

static void
collect(const char *host, const char *repo, void *arg)
{
	char *out = arg;

	strcat(out, host);
	strcat(out, "/");
	strcat(out, repo);
	strcat(out, " ");
}

/* An envelope as docker-registry 2.8 sends it: a layer and a manifest
 * pushed, then a pull. */
static void
test_registry_events(void **state)
{
	static const char body[] = "{\"events\":[{\"id\":\"1\",\"action\":"
	    "\"push\",\"target\":{\"mediaType\":\"application/octet-stream\","
	    "\"repository\":\"team/app\"},\"request\":{\"host\":"
	    "\"127.0.0.1:5000\"}},{\"action\":\"push\",\"target\":{"
	    "\"mediaType\":\"application/vnd.docker.distribution.manifest.v2"
	    "+json\",\"repository\":\"app\",\"tag\":\"1\"},\"request\":{"
	    "\"host\":\"127.0.0.1:5000\"}},{\"action\":\"pull\",\"target\":"
	    "{\"repository\":\"other\"},\"request\":{\"host\":\"h\"}},"
	    "{\"action\":\"push\",\"target\":{}}]}";
	char got[256] = "";

	(void)state;
	assert_int_equal(images_events_read(body, sizeof(body) - 1, collect,
	    got), 2);
	assert_string_equal(got, "127.0.0.1:5000/team/app 127.0.0.1:5000/app ");
	assert_int_equal(images_events_read("[]", 2, collect, got), -1);
	assert_int_equal(images_events_read("{\"events\":", 10, collect,
	    got), -1);
}

/* --- the planner's rules ------------------------------------------- */

#define SVC(label, image) "{\"Name\":\"st_app\",\"Labels\":{" \
	"\"com.docker.stack.namespace\":\"st\",\"com.docker.stack.image\":\"" \
	label "\"},\"TaskTemplate\":{\"ContainerSpec\":{\"Image\":\"" image \
	"\"},\"Placement\":{}}}"

static cJSON *
pinned_spec(const char *desired, const char *actual, enum images_mode mode,
    struct images_cache *c, cJSON **notes)
{
	cJSON *spec = cJSON_Parse(desired);
	cJSON *act = actual ? cJSON_Parse(actual) : NULL;
	struct recon_options opt = { .resolve = mode, .images = c };

	*notes = cJSON_CreateArray();
	recon_service_pin(spec, act, &opt, *notes);
	cJSON_Delete(act);
	return spec;
}

static bool
contains(const cJSON *spec, const char *what)
{
	char *s = cJSON_PrintUnformatted(spec);
	bool yes = s != NULL && strstr(s, what) != NULL;

	free(s);
	return yes;
}

static const char *
image_of(const cJSON *spec)
{
	return cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(
	    cJSON_GetObjectItem(spec, "TaskTemplate"), "ContainerSpec"),
	    "Image"));
}

static void
test_plan_rules(void **state)
{
	const char *bodies[] = { DIST(DB), "404 {\"message\":\"manifest "
	    "unknown\"}" };
	const char *imgs[] = { "r:5000/app:1", "r:5000/gone:1" };
	struct fixture *fx = start(bodies, 2, 60000, 0);
	const char *running = "{\"Spec\":" SVC("r:5000/app:1",
	    "r:5000/app:1@" DA) "}";
	const char *running_gone = "{\"Spec\":" SVC("r:5000/gone:1",
	    "r:5000/gone:1@" DA) "}";
	cJSON *spec, *notes;
	struct err err;

	(void)state;
	images_cache_resolve(fx->c, fx->e, imgs, 1, &err);
	images_cache_resolve(fx->c, fx->e, imgs + 1, 1, &err);

	/* always: the new digest, with the platforms. */
	spec = pinned_spec(SVC("r:5000/app:1", "r:5000/app:1"), running,
	    IMAGES_ALWAYS, fx->c, &notes);
	assert_string_equal(image_of(spec), "r:5000/app:1@" DB);
	assert_true(contains(spec, "\"Platforms\":[{\"Architecture\":"
	    "\"amd64\",\"OS\":\"linux\"}]"));
	cJSON_Delete(spec);
	cJSON_Delete(notes);

	/* changed and never, same text: the running pin, no platforms. */
	for (int m = IMAGES_CHANGED; m <= IMAGES_NEVER; m++) {
		spec = pinned_spec(SVC("r:5000/app:1", "r:5000/app:1"), running,
		    (enum images_mode)m, fx->c, &notes);
		assert_string_equal(image_of(spec), "r:5000/app:1@" DA);
		assert_false(contains(spec, "Platforms"));
		cJSON_Delete(spec);
		cJSON_Delete(notes);
	}
	/* never, new service: the tag as written. */
	spec = pinned_spec(SVC("r:5000/app:1", "r:5000/app:1"), NULL,
	    IMAGES_NEVER, fx->c, &notes);
	assert_string_equal(image_of(spec), "r:5000/app:1");
	cJSON_Delete(spec);
	cJSON_Delete(notes);

	/* always, the lookup failed: the running pin stays, and why. */
	spec = pinned_spec(SVC("r:5000/gone:1", "r:5000/gone:1"), running_gone,
	    IMAGES_ALWAYS, fx->c, &notes);
	assert_string_equal(image_of(spec), "r:5000/gone:1@" DA);
	assert_non_null(strstr(cJSON_GetArrayItem(notes, 0)->valuestring,
	    "manifest unknown"));
	cJSON_Delete(spec);
	cJSON_Delete(notes);

	/* ... and a new service goes out unpinned, with the CLI's words. */
	spec = pinned_spec(SVC("r:5000/gone:1", "r:5000/gone:1"), NULL,
	    IMAGES_ALWAYS, fx->c, &notes);
	assert_string_equal(image_of(spec), "r:5000/gone:1");
	assert_non_null(strstr(cJSON_GetArrayItem(notes, 0)->valuestring,
	    "could not be accessed on a registry to record its digest"));
	cJSON_Delete(spec);
	cJSON_Delete(notes);
	stop(fx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_platforms_filtered_as_the_cli),
		cmocka_unit_test(test_pinned_form),
		cmocka_unit_test(test_modes_parse),
		cmocka_unit_test(test_cache_asks_once_per_poll),
		cmocka_unit_test(test_failure_is_remembered_with_the_last_digest),
		cmocka_unit_test(test_silence_costs_the_deadline),
		cmocka_unit_test(test_registry_events),
		cmocka_unit_test(test_plan_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
