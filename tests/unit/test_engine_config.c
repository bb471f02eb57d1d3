/* Unit tests: engine endpoints, environment, version negotiation, filters. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine.h"

static int
open_host(const char *host, struct err *err)
{
	struct engine_config cfg = { .host = strdup(host) };
	struct engine *e = NULL;
	int rc = engine_open(&e, &cfg, err);

	engine_free(e);
	free(cfg.host);
	return rc;
}

static void
test_hosts_accepted(void **state)
{
	struct err err;

	(void)state;
	assert_int_equal(open_host("unix:///var/run/docker.sock", &err), 0);
	assert_int_equal(open_host("tcp://127.0.0.1:2375", &err), 0);
	assert_int_equal(open_host("tcp://127.0.0.1", &err), 0);
	assert_int_equal(open_host("tcp://[::1]:2376", &err), 0);
}

static void
test_hosts_rejected_clearly(void **state)
{
	struct err err;

	(void)state;
	assert_int_equal(open_host("ssh://admin@node1", &err),
	    ERR_UNSUPPORTED);
	assert_non_null(strstr(err.msg, "ssh:// is not supported"));
	assert_int_equal(open_host("npipe:////./pipe/docker_engine", &err),
	    ERR_UNSUPPORTED);
	assert_non_null(strstr(err.msg, "npipe:// (Windows named pipes)"));
	assert_int_equal(open_host("unix://relative.sock", &err),
	    ERR_INVALID);
	assert_int_equal(open_host("tcp://host:1/path", &err), ERR_INVALID);
	assert_int_equal(open_host("http://host", &err), ERR_INVALID);
	assert_non_null(strstr(err.msg, "unknown engine address"));
	assert_int_equal(open_host("", &err), ERR_INVALID);
}

static void
test_tls_files_checked_at_open(void **state)
{
	struct engine_config cfg = {
		.host = "tcp://127.0.0.1:2376", .tls = true, .tls_verify = true,
		.ca_file = "/nonexistent/ca.pem",
	};
	struct engine *e = NULL;
	struct err err;

	(void)state;
	assert_int_equal(engine_open(&e, &cfg, &err), ERR_TLS);
	assert_null(e);
	assert_non_null(strstr(err.msg, "cannot read TLS CA file "
	    "/nonexistent/ca.pem"));
}

static void
test_env_like_docker_cli(void **state)
{
	struct engine_config cfg;

	(void)state;
	unsetenv("DOCKER_HOST");
	unsetenv("DOCKER_TLS_VERIFY");
	engine_config_from_env(&cfg);
	assert_string_equal(cfg.host, "unix:///var/run/docker.sock");
	assert_false(cfg.tls);
	assert_null(cfg.ca_file);
	engine_config_release(&cfg);

	setenv("DOCKER_HOST", "tcp://10.0.0.1:2376", 1);
	setenv("DOCKER_TLS_VERIFY", "1", 1);
	setenv("DOCKER_CERT_PATH", "/etc/stackd/certs", 1);
	engine_config_from_env(&cfg);
	assert_string_equal(cfg.host, "tcp://10.0.0.1:2376");
	assert_true(cfg.tls && cfg.tls_verify);
	assert_string_equal(cfg.ca_file, "/etc/stackd/certs/ca.pem");
	assert_string_equal(cfg.cert_file, "/etc/stackd/certs/cert.pem");
	assert_string_equal(cfg.key_file, "/etc/stackd/certs/key.pem");
	engine_config_release(&cfg);

	/* Empty DOCKER_TLS_VERIFY means off, as for the docker CLI. */
	setenv("DOCKER_TLS_VERIFY", "", 1);
	setenv("HOME", "/home/op", 1);
	unsetenv("DOCKER_CERT_PATH");
	engine_config_from_env(&cfg);
	assert_false(cfg.tls);
	engine_config_release(&cfg);
	setenv("DOCKER_TLS_VERIFY", "yes", 1);
	engine_config_from_env(&cfg);
	assert_string_equal(cfg.ca_file, "/home/op/.docker/ca.pem");
	engine_config_release(&cfg);
	engine_config_release(NULL);
	unsetenv("DOCKER_HOST");
	unsetenv("DOCKER_TLS_VERIFY");
}

static void
test_version_cmp(void **state)
{
	(void)state;
	assert_true(engine_version_cmp("1.41", "1.52") < 0);
	assert_true(engine_version_cmp("1.9", "1.41") < 0);	/* numeric */
	assert_true(engine_version_cmp("2.0", "1.52") > 0);
	assert_int_equal(engine_version_cmp("1.44", "1.44"), 0);
	assert_true(engine_version_cmp("junk", "1.0") < 0);
}

static void
test_version_negotiate(void **state)
{
	char v[16];
	struct err err;

	(void)state;
	/* Debian's 20.10 */
	assert_int_equal(engine_version_negotiate(v, sizeof(v), "1.41", &err),
	    0);
	assert_string_equal(v, "1.41");
	/* 29.0-29.2 refuse < 1.44: we must go up to what they offer */
	assert_int_equal(engine_version_negotiate(v, sizeof(v), "1.52", &err),
	    0);
	assert_string_equal(v, "1.52");
	/* 29.3+ offers 1.54: capped at what stackd knows */
	assert_int_equal(engine_version_negotiate(v, sizeof(v), "1.54", &err),
	    0);
	assert_string_equal(v, ENGINE_API_MAX);
	assert_int_equal(engine_version_negotiate(v, sizeof(v), "1.45", &err),
	    0);
	assert_string_equal(v, "1.45");
	/* too old, and no header at all (1.24) */
	assert_int_equal(engine_version_negotiate(v, sizeof(v), "1.40", &err),
	    ERR_UNSUPPORTED);
	assert_non_null(strstr(err.msg, "needs API 1.41 or newer"));
	assert_int_equal(engine_version_negotiate(v, sizeof(v), "", &err),
	    ERR_UNSUPPORTED);
	assert_int_equal(engine_version_negotiate(v, sizeof(v), "v1.x", &err),
	    ERR_PROTOCOL);
}

static void
test_filters_json(void **state)
{
	cJSON *f = NULL;
	char *s;

	(void)state;
	engine_filter_add(&f, "label", "com.docker.stack.namespace=web");
	engine_filter_add(&f, "label", "owner");
	engine_filter_add(&f, "label", "owner");
	engine_filter_add(&f, "name", "web_");
	s = cJSON_PrintUnformatted(f);
	assert_string_equal(s, "{\"label\":{\"com.docker.stack.namespace="
	    "web\":true,\"owner\":true},\"name\":{\"web_\":true}}");
	free(s);
	cJSON_Delete(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hosts_accepted),
		cmocka_unit_test(test_hosts_rejected_clearly),
		cmocka_unit_test(test_tls_files_checked_at_open),
		cmocka_unit_test(test_env_like_docker_cli),
		cmocka_unit_test(test_version_cmp),
		cmocka_unit_test(test_version_negotiate),
		cmocka_unit_test(test_filters_json),
	};
	return cmocka_run_group_tests_name("engine_config", tests, NULL, NULL);
}
