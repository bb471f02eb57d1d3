/*
 * Unit tests: the git source against real repositories the test makes
 * with the git CLI and serves over file:// - branch follow, tag, pinned
 * commit, force-push, subpath, fetch failure, deleted branch, what the
 * export leaves out, and the cache lock; known_hosts matching against
 * files written by ssh-keygen.  The fetch tests run twice: in this
 * process, then in the confined fetch process (this binary started as
 * `git-fetch`), which must behave the same and say how it was confined.
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

#include <openssl/evp.h>

#include "sources.h"
#include "../../sources/git_int.h"

static char root[64];
static char url[128];
/* The second round: every fetch in a `git-fetch` process (this binary). */
static bool confined;

#define GIT "git -c user.name=Tess -c user.email=tess@example.org " \
    "-c init.defaultBranch=main -c advice.detachedHead=false "

static void
sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int n;

	n = snprintf(cmd, sizeof(cmd), "cd %s && exec >/dev/null 2>&1 && ",
	    root);
	va_start(ap, fmt);
	vsnprintf(cmd + n, sizeof(cmd) - (size_t)n, fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd + n);
}

/* The output of a command (one line). */
static void
out_of(char *out, size_t size, const char *cmd)
{
	char full[1024];
	FILE *p;

	snprintf(full, sizeof(full), "cd %s && %s", root, cmd);
	assert_non_null(p = popen(full, "r"));
	assert_non_null(fgets(out, (int)size, p));
	out[strcspn(out, "\n")] = '\0';
	pclose(p);
}

/* Commit text to path in the work tree and push main. */
static void
commit(const char *path, const char *text, const char *msg)
{
	char full[512];
	FILE *f;

	snprintf(full, sizeof(full), "%s/work/%s", root, path);
	sh("mkdir -p \"$(dirname work/%s)\"", path);
	assert_non_null(f = fopen(full, "w"));
	fputs(text, f);
	fclose(f);
	sh("cd work && " GIT "add -A && " GIT "commit -qm '%s' && "
	    GIT "push -q origin main", msg);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/stackd-git.XXXXXX");
	assert_non_null(mkdtemp(root));
	snprintf(url, sizeof(url), "file://%s/remote.git", root);
	sh(GIT "init -q --bare remote.git && " GIT "init -q work && "
	    "cd work && " GIT "remote add origin ../remote.git");
	commit("web/compose.yaml", "services: {web: {image: local/a:1}}\n",
	    "first");
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

static struct sources_git *
open_source(const char *ref, const char *subpath)
{
	struct sources_git_opts o = { .url = url, .ref = (char *)ref,
	    .subpath = (char *)subpath, .confined = confined };
	struct sources_git *g;
	char cache[128];
	struct err err;

	snprintf(cache, sizeof(cache), "%s/cache", root);
	o.cache_dir = cache;
	if (sources_git_open(&g, &o, &err) < 0)
		fail_msg("open: %s", err.msg);
	return g;
}

/* The next delivery after a trigger: 1 snapshot, 0 nothing, <0 error. */
static int
poll_once(struct sources_git *g, struct sources_snapshot **s,
    struct err *err)
{
	sources_git_trigger(g);
	return sources_git_next(g, s, 2000, err);
}

static struct sources_snapshot *
must_deliver(struct sources_git *g)
{
	struct sources_snapshot *s = NULL;
	struct err err;
	int rc = poll_once(g, &s, &err);

	if (rc != 1)
		fail_msg("expected a snapshot, got %d: %s", rc,
		    rc < 0 ? err.msg : "");
	return s;
}

static void
must_be_quiet(struct sources_git *g)
{
	struct sources_snapshot *s = NULL;
	struct err err;
	int rc = poll_once(g, &s, &err);

	if (rc != 0)
		fail_msg("expected nothing new, got %d: %s", rc,
		    rc < 0 ? err.msg : "");
}

/* The content of a file of the snapshot. */
static void
content(const struct sources_snapshot *s, const char *rel, char *out,
    size_t size)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", s->root, rel);
	assert_non_null(f = fopen(path, "r"));
	if (fgets(out, (int)size, f) == NULL)
		*out = '\0';
	fclose(f);
}

static void
test_branch_follow(void **state)
{
	struct sources_git *g = open_source("main", NULL);
	struct sources_snapshot *s;
	char head[64], text[128];

	(void)state;
	s = must_deliver(g);
	out_of(head, sizeof(head), "git -C work rev-parse HEAD");
	assert_string_equal(s->revision, head);
	assert_string_equal(s->author, "Tess");
	assert_string_equal(s->subject, "first");
	assert_true(s->commit_time > 0);
	assert_int_equal(s->list.n, 1);
	assert_string_equal(s->list.stacks[0].name, "web");
	sources_snapshot_unref(s);
	must_be_quiet(g);

	commit("web/compose.yaml", "services: {web: {image: local/a:2}}\n",
	    "second");
	commit("db.yml", "services: {db: {image: local/db:1}}\n", "third");
	s = must_deliver(g);
	out_of(head, sizeof(head), "git -C work rev-parse HEAD");
	assert_string_equal(s->revision, head);
	assert_string_equal(s->subject, "third");
	assert_int_equal(s->list.n, 2);
	content(s, "web/compose.yaml", text, sizeof(text));
	assert_string_equal(text, "services: {web: {image: local/a:2}}\n");
	sources_snapshot_unref(s);
	must_be_quiet(g);
	sources_git_free(g);
}

static void
test_head_and_full_ref(void **state)
{
	struct sources_git *g = open_source(NULL, NULL);
	struct sources_snapshot *s = must_deliver(g);
	char head[64];

	(void)state;
	out_of(head, sizeof(head), "git -C work rev-parse HEAD");
	assert_string_equal(s->revision, head);
	sources_snapshot_unref(s);
	sources_git_free(g);

	g = open_source("refs/heads/main", NULL);
	s = must_deliver(g);
	assert_string_equal(s->revision, head);
	sources_snapshot_unref(s);
	sources_git_free(g);
}

static void
test_tag_and_pinned_commit(void **state)
{
	struct sources_git *tag, *pin;
	struct sources_snapshot *s;
	char first[64], text[128];

	(void)state;
	out_of(first, sizeof(first), "git -C work rev-parse HEAD");
	sh("cd work && " GIT "tag v1 && " GIT "push -q origin v1");
	tag = open_source("v1", NULL);
	s = must_deliver(tag);
	assert_string_equal(s->revision, first);
	sources_snapshot_unref(s);
	sources_git_free(tag);

	pin = open_source(first, NULL);
	commit("web/compose.yaml", "services: {web: {image: local/a:2}}\n",
	    "second");
	s = must_deliver(pin);
	assert_string_equal(s->revision, first);
	content(s, "web/compose.yaml", text, sizeof(text));
	assert_string_equal(text, "services: {web: {image: local/a:1}}\n");
	sources_snapshot_unref(s);
	must_be_quiet(pin);
	sources_git_free(pin);

	/* The tag stays where it is while main moves, and follows when it
	 * is moved (forced). */
	tag = open_source("v1", NULL);
	s = must_deliver(tag);
	assert_string_equal(s->revision, first);
	sources_snapshot_unref(s);
	must_be_quiet(tag);
	sh("cd work && " GIT "tag -f v1 && " GIT "push -qf origin v1");
	s = must_deliver(tag);
	assert_string_not_equal(s->revision, first);
	sources_snapshot_unref(s);
	sources_git_free(tag);
}

static void
test_force_push_followed(void **state)
{
	struct sources_git *g = open_source("main", NULL);
	struct sources_snapshot *s;
	char first[64], text[128];

	(void)state;
	out_of(first, sizeof(first), "git -C work rev-parse HEAD");
	commit("web/compose.yaml", "services: {web: {image: local/a:bad}}\n",
	    "oops");
	sources_snapshot_unref(must_deliver(g));
	sh("cd work && " GIT "reset -q --hard HEAD~1 && " GIT "push -qf "
	    "origin main");
	s = must_deliver(g);
	assert_string_equal(s->revision, first);
	content(s, "web/compose.yaml", text, sizeof(text));
	assert_string_equal(text, "services: {web: {image: local/a:1}}\n");
	sources_snapshot_unref(s);
	sources_git_free(g);
}

static void
test_subpath(void **state)
{
	struct sources_git *g;
	struct sources_snapshot *s;
	struct err err;

	(void)state;
	commit("deploy/api/compose.yaml", "services: {api: {image: x}}\n",
	    "api");
	g = open_source("main", "deploy");
	s = must_deliver(g);
	assert_int_equal(s->list.n, 1);
	assert_string_equal(s->list.stacks[0].name, "api");
	sources_snapshot_unref(s);
	sources_git_free(g);

	g = open_source("main", "nowhere");
	assert_true(poll_once(g, &s, &err) < 0);
	assert_null(s);
	assert_non_null(strstr(err.msg, "has no directory nowhere"));
	sources_git_free(g);
}

static void
test_fetch_failure_and_deleted_branch(void **state)
{
	struct sources_git *g = open_source("feature", NULL);
	struct sources_snapshot *s;
	struct err err;
	struct sources_git_stats st;

	(void)state;
	sh("cd work && " GIT "push -q origin main:feature");
	sources_snapshot_unref(must_deliver(g));
	sh("mv remote.git gone.git");
	assert_true(poll_once(g, &s, &err) < 0);
	assert_null(s);
	assert_non_null(strstr(err.msg, "git fetch"));
	sources_git_stats(g, &st);
	assert_int_equal(st.fetch_errors, 1);
	sh("mv gone.git remote.git");
	must_be_quiet(g);

	sh("cd work && " GIT "push -q origin :feature");
	assert_true(poll_once(g, &s, &err) < 0);
	assert_non_null(strstr(err.msg, "has no branch or tag \"feature\""));
	sources_git_free(g);
}

static void
test_export_is_confined_and_owned(void **state)
{
	struct sources_git *g = open_source("main", NULL);
	struct sources_snapshot *s;
	char path[512], dir[512];
	struct stat st;

	(void)state;
	sh("cd work && mkdir -p shared && echo x > shared/x && "
	    "ln -s /etc/passwd web/passwd && ln -s ../shared/x web/ok && "
	    "ln -s ../../outside web/up && " GIT "add -A && "
	    GIT "commit -qm links && " GIT "push -q origin main");
	s = must_deliver(g);
	snprintf(path, sizeof(path), "%s/web/ok", s->root);
	assert_int_equal(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/web/passwd", s->root);
	assert_int_equal(lstat(path, &st), -1);
	snprintf(path, sizeof(path), "%s/web/up", s->root);
	assert_int_equal(lstat(path, &st), -1);
	snprintf(dir, sizeof(dir), "%s", s->root);
	sources_snapshot_unref(s);
	/* The export goes with the last reference. */
	assert_int_equal(stat(dir, &st), -1);
	sources_git_free(g);
}

static void
test_cache_locked_and_bad_options(void **state)
{
	struct sources_git_opts o = { .url = url };
	struct sources_git *g = open_source("main", NULL), *h = NULL;
	char cache[128], safe[128];
	struct err err;

	(void)state;
	snprintf(cache, sizeof(cache), "%s/cache", root);
	o.cache_dir = cache;
	assert_int_equal(sources_git_open(&h, &o, &err), ERR_CONFLICT);
	assert_null(h);
	sources_git_free(g);

	o.url = "https://bot:hunter2@git.example.org/ops.git";
	assert_int_equal(sources_git_open(&h, &o, &err), ERR_INVALID);
	assert_null(strstr(err.msg, "hunter2"));
	o.url = url;
	o.ref = "bad..ref";
	assert_int_equal(sources_git_open(&h, &o, &err), ERR_INVALID);
	o.ref = NULL;
	o.subpath = "../up";
	assert_int_equal(sources_git_open(&h, &o, &err), ERR_INVALID);

	sources_git_url_redact(safe, sizeof(safe),
	    "https://bot:hunter2@git.example.org/a@b.git");
	assert_string_equal(safe, "https://git.example.org/a@b.git");
	sources_git_url_redact(safe, sizeof(safe), "git@host:ops.git");
	assert_string_equal(safe, "git@host:ops.git");
}

/* The raw key of an ssh-keygen public key file. */
static size_t
raw_key(const char *pub, unsigned char *out)
{
	char line[1024], *b64;
	FILE *f;
	int n;

	assert_non_null(f = fopen(pub, "r"));
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	b64 = strchr(line, ' ') + 1;
	b64[strcspn(b64, " \n")] = '\0';
	n = EVP_DecodeBlock(out, (unsigned char *)b64, (int)strlen(b64));
	if (b64[strlen(b64) - 1] == '=')
		n -= b64[strlen(b64) - 2] == '=' ? 2 : 1;
	return (size_t)n;
}

static void
test_known_hosts(void **state)
{
	unsigned char a[512], b[512];
	size_t alen, blen;
	char kh[128], path[128];

	(void)state;
	sh("ssh-keygen -q -t ed25519 -N '' -f a && "
	    "ssh-keygen -q -t ed25519 -N '' -f b && "
	    "printf 'git.example.org %%s\\n' \"$(cut -d' ' -f1,2 a.pub)\" "
	    "> kh && "
	    "printf '[127.0.0.1]:2222 %%s\\n' \"$(cut -d' ' -f1,2 a.pub)\" "
	    ">> kh && "
	    "printf 'hashed.example.org %%s\\n' \"$(cut -d' ' -f1,2 a.pub)\" "
	    ">> kh"
	    " && ssh-keygen -q -H -f kh && "
	    "printf '[127.0.0.2]:2222 %%s\\n' \"$(cut -d' ' -f1,2 a.pub)\" "
	    ">> kh && printf '*.wild.example.org %%s\\n' "
	    "\"$(cut -d' ' -f1,2 a.pub)\" >> kh && "
	    "printf '@revoked bad.example.org %%s\\n' "
	    "\"$(cut -d' ' -f1,2 a.pub)\" >> kh && "
	    "printf 'bad.example.org %%s\\n' \"$(cut -d' ' -f1,2 a.pub)\" "
	    ">> kh");
	snprintf(path, sizeof(path), "%s/a.pub", root);
	alen = raw_key(path, a);
	snprintf(path, sizeof(path), "%s/b.pub", root);
	blen = raw_key(path, b);
	snprintf(kh, sizeof(kh), "%s/kh", root);
	/* ssh-keygen -H hashed every plain line: all three are hashed. */
	assert_int_equal(sources_known_hosts_check(kh, "git.example.org", 22,
	    a, alen), 1);
	assert_int_equal(sources_known_hosts_check(kh, "Git.Example.org", 22,
	    a, alen), 1);
	assert_int_equal(sources_known_hosts_check(kh, "hashed.example.org",
	    22, a, alen), 1);
	assert_int_equal(sources_known_hosts_check(kh, "127.0.0.1", 2222, a,
	    alen), 1);
	/* Plain entries: "[host]:port" is literal, '*' is a wildcard. */
	assert_int_equal(sources_known_hosts_check(kh, "127.0.0.2", 2222, a,
	    alen), 1);
	assert_int_equal(sources_known_hosts_check(kh, "1", 2222, a, alen), 0);
	assert_int_equal(sources_known_hosts_check(kh, "git.wild.example.org",
	    22, a, alen), 1);
	assert_int_equal(sources_known_hosts_check(kh, "wild.example.org",
	    22, a, alen), 0);
	/* The port is part of the name. */
	assert_int_equal(sources_known_hosts_check(kh, "127.0.0.1", 22, a,
	    alen), 0);
	assert_int_equal(sources_known_hosts_check(kh, "other.example.org",
	    22, a, alen), 0);
	/* Same type of key, another key: refused, not "unknown". */
	assert_int_equal(sources_known_hosts_check(kh, "git.example.org", 22,
	    b, blen), -1);
	assert_int_equal(sources_known_hosts_check(kh, "bad.example.org", 22,
	    a, alen), -1);
	assert_int_equal(sources_known_hosts_check("/nonexistent", "x", 22,
	    a, alen), 0);
}

/* The confined process said how it was confined, and it reached the
 * source (a local repository: a path Landlock had to grant). */
static void
test_fetch_process_report(void **state)
{
	struct sources_git *g = open_source("main", NULL);
	struct sources_git_stats st;

	(void)state;
	sources_snapshot_unref(must_deliver(g));
	sources_git_stats(g, &st);
	assert_true(st.confined);
	assert_true(st.sandbox.no_new_privs);
	assert_true(st.sandbox.seccomp);
	if (syscall(SYS_landlock_create_ruleset, NULL, 0, 1U) >= 1)
		assert_true(st.sandbox.landlock);
	assert_true(st.last_bytes > 0);
	sources_git_free(g);
}

/* The tests of fetching, run in this process and in the fetch process. */
#define FETCH_TESTS \
	cmocka_unit_test_setup_teardown(test_branch_follow, setup, teardown), \
	cmocka_unit_test_setup_teardown(test_head_and_full_ref, setup, \
	    teardown), \
	cmocka_unit_test_setup_teardown(test_tag_and_pinned_commit, setup, \
	    teardown), \
	cmocka_unit_test_setup_teardown(test_force_push_followed, setup, \
	    teardown), \
	cmocka_unit_test_setup_teardown(test_subpath, setup, teardown), \
	cmocka_unit_test_setup_teardown(test_fetch_failure_and_deleted_branch, \
	    setup, teardown),

int
main(int argc, char **argv)
{
	const struct CMUnitTest fetches[] = {
		FETCH_TESTS
		cmocka_unit_test_setup_teardown(test_fetch_process_report,
		    setup, teardown),
	};
	const struct CMUnitTest tests[] = {
		FETCH_TESTS
		cmocka_unit_test_setup_teardown(
		    test_export_is_confined_and_owned, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_cache_locked_and_bad_options, setup, teardown),
		cmocka_unit_test_setup_teardown(test_known_hosts, setup,
		    teardown),
	};

	int failed;

	if (argc > 1 && strcmp(argv[1], "git-fetch") == 0)
		return sources_git_fetcher_main();
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	confined = true;
	return failed + cmocka_run_group_tests_name("confined fetches",
	    fetches, NULL, NULL);
}
