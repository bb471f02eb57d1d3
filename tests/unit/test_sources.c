/*
 * Unit tests: directory sources on a real filesystem under /tmp - the
 * revision, discovery through snapshots, and the inotify watcher's
 * debounce (a burst of changes is one snapshot).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/capability.h>

#include "compose.h"
#include "sources.h"

static char root[64];

static const char *
at(const char *rel, char path[256])
{
	snprintf(path, 256, "%s/%s", root, rel);
	return path;
}

static void
put(const char *rel, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

static void
sub(const char *rel)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/stackd-src.XXXXXX");
	assert_non_null(mkdtemp(root));
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	return system(cmd);
}

static void
revision(char out[65])
{
	struct err err;

	assert_int_equal(sources_dir_revision(out, root, &err), 0);
}

static void
test_revision_follows_content(void **state)
{
	char a[65], b[65];

	(void)state;
	sub("web");
	put("web/compose.yaml", "services: {a: {image: x}}\n");
	put("web/db.secret", "hunter2\n");
	revision(a);
	revision(b);
	assert_string_equal(a, b);
	/* A secret's file is part of what is deployed. */
	put("web/db.secret", "hunter3\n");
	revision(b);
	assert_string_not_equal(a, b);
	memcpy(a, b, sizeof(a));
	/* Editor leftovers are not. */
	put("web/.compose.yaml.swp", "junk");
	put("web/compose.yaml~", "junk");
	revision(b);
	assert_string_equal(a, b);
}

static void
test_snapshot_discovers_stacks(void **state)
{
	struct sources_snapshot *s;
	struct err err;

	(void)state;
	sub("web");
	put("web/compose.yaml", "services: {a: {image: x}}\n");
	put("web/vars.yaml", "A: 1\n");
	put("cache.yml", "services: {c: {image: x}}\n");
	put("Bad Name.yml", "services: {c: {image: x}}\n");
	assert_int_equal(sources_dir_snapshot(&s, root, &err), 0);
	assert_int_equal(s->list.n, 3);
	assert_string_equal(s->list.stacks[0].name, "Bad Name");
	assert_non_null(s->list.stacks[0].error);
	assert_string_equal(s->list.stacks[1].name, "cache");
	assert_null(s->list.stacks[1].error);
	assert_string_equal(s->list.stacks[2].name, "web");
	assert_int_equal(s->list.stacks[2].nvar_files, 1);
	assert_int_equal(strlen(s->revision), 64);
	assert_ptr_equal(sources_snapshot_ref(s), s);
	sources_snapshot_unref(s);
	sources_snapshot_unref(s);
	sources_snapshot_unref(NULL);
}

/* Root reads anything: drop (or take back) the effective capabilities
 * that let it, so that file permissions apply as to a normal user. */
static void
dac_override(bool on)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	const uint32_t bits = 1u << CAP_DAC_OVERRIDE | 1u << CAP_DAC_READ_SEARCH;

	assert_int_equal(syscall(SYS_capget, &h, d), 0);
	if (on)
		d[0].effective |= bits & d[0].permitted;
	else
		d[0].effective &= ~bits;
	assert_int_equal(syscall(SYS_capset, &h, d), 0);
}

static void
test_unreadable_file_fails_its_stack_only(void **state)
{
	struct compose_options o = { 0 };
	struct compose_stack *st = NULL;
	struct sources_snapshot *s;
	const char *files[1];
	char path[256], before[65];
	struct err err;

	(void)state;
	sub("web");
	sub("db");
	put("web/compose.yaml", "services: {a: {image: x}}\n");
	put("db/compose.yaml", "services: {d: {image: x}}\n");
	put("db/vars.yaml", "A: 1\n");
	revision(before);
	assert_int_equal(chmod(at("db/vars.yaml", path), 0), 0);
	dac_override(false);
	assert_int_equal(sources_dir_snapshot(&s, root, &err), 0);
	assert_int_equal(s->list.n, 2);
	assert_string_not_equal(s->revision, before);
	/* db cannot load; web can. */
	o.root = root;
	o.files = files;
	o.nfiles = 1;
	o.stack = "db";
	files[0] = at("db/compose.yaml", path);
	o.var_files = (const char *const *)s->list.stacks[0].var_files;
	o.nvar_files = s->list.stacks[0].nvar_files;
	assert_true(compose_stack_load(&st, &o, &err) < 0);
	if (strstr(err.msg, "ermission denied") == NULL)
		fail_msg("%s", err.msg);
	o.stack = "web";
	o.var_files = NULL;
	o.nvar_files = 0;
	files[0] = at("web/compose.yaml", path);
	assert_int_equal(compose_stack_load(&st, &o, &err), 0);
	compose_stack_free(st);
	dac_override(true);
	sources_snapshot_unref(s);
}

static void
test_snapshot_of_missing_dir_fails(void **state)
{
	struct sources_snapshot *s;
	struct sources_dir *d;
	struct sources_dir_opts o = { .root = "/nonexistent/stackd" };
	struct err err;

	(void)state;
	assert_int_equal(sources_dir_snapshot(&s, o.root, &err), ERR_NOTFOUND);
	assert_null(s);
	assert_non_null(strstr(err.msg, "/nonexistent/stackd"));
	assert_int_equal(sources_dir_open(&d, &o, &err), ERR_NOTFOUND);
	assert_null(d);
	sources_dir_free(NULL);
}

/* Snapshots delivered within ms milliseconds. */
static int
deliveries(struct sources_dir *d, int ms, struct sources_snapshot **last)
{
	struct sources_snapshot *s;
	struct err err;
	int n = 0, rc;

	while ((rc = sources_dir_next(d, &s, ms, &err)) != 0) {
		assert_int_equal(rc, 1);
		n++;
		sources_snapshot_unref(*last);
		*last = s;
	}
	return n;
}

static void
test_watch_debounces_bursts(void **state)
{
	struct sources_dir_opts o = { .root = root, .debounce_ms = 100 };
	struct sources_snapshot *last = NULL;
	struct sources_dir *d;
	struct err err;
	bool degraded;
	char name[64], from[256], to[256];

	(void)state;
	put("web.yml", "services: {a: {image: x}}\n");
	assert_int_equal(sources_dir_open(&d, &o, &err), 0);
	assert_int_equal(deliveries(d, 300, &last), 1);
	assert_int_equal(last->list.n, 1);
	assert_int_equal(sources_dir_watches(d, &degraded), 1);
	assert_false(degraded);

	/* Nothing changed: nothing delivered, also after a no-op touch. */
	put("web.yml", "services: {a: {image: x}}\n");
	assert_int_equal(deliveries(d, 300, &last), 0);

	/* 100 files copied at once into a new directory: one snapshot. */
	sub("many");
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "many/f%03d.yml", i);
		put(i == 0 ? "many/compose.yaml" : name, "services: {}\n");
	}
	assert_int_equal(deliveries(d, 400, &last), 1);
	assert_int_equal(last->list.n, 2);
	assert_int_equal(sources_dir_watches(d, NULL), 2);

	/* An editor's atomic save: write a temporary file, rename it. */
	put(".web.yml.tmp", "services: {b: {image: x}}\n");
	assert_int_equal(rename(at(".web.yml.tmp", from), at("web.yml", to)),
	    0);
	assert_int_equal(deliveries(d, 400, &last), 1);

	/* A deleted stack file: its stack is gone from the next snapshot. */
	assert_int_equal(unlink(at("web.yml", from)), 0);
	assert_int_equal(deliveries(d, 400, &last), 1);
	assert_int_equal(last->list.n, 1);
	assert_string_equal(last->list.stacks[0].name, "many");
	sources_snapshot_unref(last);
	sources_dir_free(d);
}

/* Kubernetes ConfigMap style: files are symlinks through ..data, which is
 * itself a symlink swapped atomically to a new timestamped directory. */
static void
test_watch_follows_symlink_swap(void **state)
{
	struct sources_dir_opts o = { .root = root, .debounce_ms = 100 };
	struct sources_snapshot *last = NULL;
	struct sources_dir *d;
	struct err err;
	char a[256], b[256];
	char rev[65];

	(void)state;
	sub("..v1");
	sub("..v2");
	put("..v1/web.yml", "services: {a: {image: x}}\n");
	put("..v2/web.yml", "services: {a: {image: y}}\n");
	snprintf(a, sizeof(a), "%s/..data", root);
	assert_int_equal(symlink("..v1", a), 0);
	snprintf(a, sizeof(a), "%s/web.yml", root);
	assert_int_equal(symlink("..data/web.yml", a), 0);
	assert_int_equal(sources_dir_open(&d, &o, &err), 0);
	assert_int_equal(deliveries(d, 300, &last), 1);
	assert_int_equal(last->list.n, 1);
	memcpy(rev, last->revision, sizeof(rev));

	snprintf(a, sizeof(a), "%s/..data_tmp", root);
	snprintf(b, sizeof(b), "%s/..data", root);
	assert_int_equal(symlink("..v2", a), 0);
	assert_int_equal(rename(a, b), 0);
	assert_int_equal(deliveries(d, 400, &last), 1);
	assert_string_not_equal(rev, last->revision);
	sources_snapshot_unref(last);
	sources_dir_free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_revision_follows_content,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_discovers_stacks,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_unreadable_file_fails_its_stack_only, setup, teardown),
		cmocka_unit_test(test_snapshot_of_missing_dir_fails),
		cmocka_unit_test_setup_teardown(test_watch_debounces_bursts,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch_follows_symlink_swap,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
