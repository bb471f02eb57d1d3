/*
 * Unit tests: stackd.yaml (good, and every kind of bad with its
 * position), durations, and the status documents rendered from a made-up
 * state (worst state over engines, escaping in the page and in metrics).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <cmocka.h>

#include "controller.h"
#include "sops.h"
#include "daemon.h"
#include "status.h"


static char path[64];

static int
load(struct ctl_config *c, const char *text, struct err *err)
{
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/stackd-cfg.XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_non_null(f = fdopen(fd, "w"));
	fputs(text, f);
	fclose(f);
	int rc = ctl_config_load(c, path, err);
	unlink(path);
	return rc;
}

/* sops.age_key_file at the top and per source; a key file that cannot be
 * read is noted in the keys, never a config error. */
static void
test_config_sops(void **state)
{
	struct ctl_config c;
	struct err err;

	(void)state;
	unsetenv("SOPS_AGE_KEY");
	unsetenv("SOPS_AGE_KEY_FILE");
	assert_int_equal(load(&c,
	    "sources:\n"
	    "  - name: a\n    dir: {path: /srv/a}\n"
	    "  - name: b\n    dir: {path: /srv/b}\n"
	    "    sops: {age_key_file: /nonexistent/b.agekey}\n"
	    "sops: {age_key_file: keys/age.txt}\n", &err), 0);
	assert_non_null(strstr(c.age_key_file, "/keys/age.txt"));
	assert_string_equal(c.sources[1].age_key_file, "/nonexistent/b.agekey");
	assert_int_equal(ctl_config_defaults(&c, NULL, &err), 0);
	assert_ptr_equal(ctl_source_keys(&c, "a"), c.sops_keys);
	assert_ptr_equal(ctl_source_keys(&c, "b"), c.sources[1].sops_keys);
	assert_int_equal(sops_keys_count(ctl_source_keys(&c, "b")), 0);
	assert_non_null(strstr(sops_keys_problem(ctl_source_keys(&c, "b")),
	    "/nonexistent/b.agekey"));
	ctl_config_release(&c);
	assert_true(load(&c, "sources:\n  - dir: {path: /srv}\n"
	    "sops: {age_key: x}\n", &err) < 0);
	assert_non_null(strstr(err.msg, "unknown key \"age_key\""));
	ctl_config_release(&c);
}

static void
test_config_good(void **state)
{
	struct ctl_config c;
	struct err err;

	(void)state;
	assert_int_equal(load(&c,
	    "engines:\n"
	    "  - name: a\n    host: unix:///run/a.sock\n"
	    "  - name: b\n    host: tcp://127.0.0.2:2376\n"
	    "    tls: {cert_dir: certs}\n    timeout: 30s\n"
	    "sources:\n  - name: main\n    dir: {path: stacks, debounce: 50ms}\n"
	    "stacks:\n  prune_secrets: true\n  engines: {web: [b]}\n"
	    "owner: prod\ninterval: 2m\n"
	    "status: {listen: '127.0.0.1:9999', token_file: /etc/tok}\n"
	    "log: {format: json, level: warn}\n", &err), 0);
	assert_int_equal(c.nengines, 2);
	assert_string_equal(c.engines[1].name, "b");
	assert_true(c.engines[1].tls && c.engines[1].tls_verify);
	/* Relative paths are the config file's directory's. */
	assert_string_equal(c.engines[1].ca_file, "/tmp/certs/ca.pem");
	assert_int_equal(c.nsources, 1);
	assert_string_equal(c.sources[0].name, "main");
	assert_string_equal(c.sources[0].dir, "/tmp/stacks");
	assert_int_equal(c.engines[1].timeout_ms, 30000);
	assert_int_equal(c.sources[0].debounce_ms, 50);
	assert_int_equal(c.interval_ms, 120000);
	assert_true(c.prune_secrets);
	assert_false(c.keep_replicas);
	assert_string_equal(c.owner, "prod");
	assert_string_equal(c.token_file, "/etc/tok");
	assert_int_equal(c.log_format, LOG_JSON);
	assert_int_equal(c.log_level, LOG_WARN);
	assert_true(ctl_config_targets(&c, "web", "b"));
	assert_false(ctl_config_targets(&c, "web", "a"));
	assert_true(ctl_config_targets(&c, "other", "a"));
	ctl_config_release(&c);
	ctl_config_release(NULL);
}

/* hosts: the managers of one swarm, the first preferred. */
static void
test_config_hosts(void **state)
{
	struct ctl_config c;
	struct err err;

	(void)state;
	assert_int_equal(load(&c, "engines:\n  - name: prod\n"
	    "    hosts: [unix:///run/m1.sock, 'tcp://m2:2376', 'tcp://m3:2376']\n"
	    "sources:\n  - dir: {path: s}\n", &err), 0);
	assert_string_equal(c.engines[0].host, "unix:///run/m1.sock");
	assert_int_equal(c.engines[0].nmore_hosts, 2);
	assert_string_equal(c.engines[0].more_hosts[0], "tcp://m2:2376");
	assert_string_equal(c.engines[0].more_hosts[1], "tcp://m3:2376");
	ctl_config_release(&c);
	/* Without a name, an engine is named after its first address. */
	assert_int_equal(load(&c, "engines:\n  - hosts: ['tcp://m1:2376']\n"
	    "sources:\n  - dir: {path: s}\n", &err), 0);
	assert_string_equal(c.engines[0].name, "tcp://m1:2376");
	assert_int_equal(c.engines[0].nmore_hosts, 0);
	ctl_config_release(&c);

	assert_int_equal(load(&c, "engines:\n  - host: unix:///a\n"
	    "    hosts: [unix:///b]\nsources:\n  - dir: {path: s}\n", &err),
	    ERR_INVALID);
	assert_non_null(strstr(err.msg, "give host or hosts, not both"));
	assert_non_null(strstr(err.msg, ":3:"));
	ctl_config_release(&c);
	assert_int_equal(load(&c, "engines:\n  - hosts: [unix:///a, unix:///a]\n"
	    "sources:\n  - dir: {path: s}\n", &err), ERR_INVALID);
	assert_non_null(strstr(err.msg, "hosts lists unix:///a twice"));
	ctl_config_release(&c);
	assert_int_equal(load(&c, "engines:\n  - hosts: []\n"
	    "sources:\n  - dir: {path: s}\n", &err), ERR_INVALID);
	assert_non_null(strstr(err.msg, "list of 1 to 16"));
	ctl_config_release(&c);
}

/* lease: the writer's lease per engine; on by default. */
static void
test_config_lease(void **state)
{
	struct ctl_config c;
	struct err err;

	(void)state;
	assert_int_equal(load(&c, "sources:\n  - dir: {path: s}\n", &err), 0);
	assert_false(c.lease_off);
	assert_int_equal(c.lease_ttl_ms, 0);
	ctl_config_release(&c);
	assert_int_equal(load(&c, "lease: {ttl: 30s}\n"
	    "sources:\n  - dir: {path: s}\n", &err), 0);
	assert_int_equal(c.lease_ttl_ms, 30000);
	ctl_config_release(&c);
	assert_int_equal(load(&c, "lease: {enabled: false}\n"
	    "sources:\n  - dir: {path: s}\n", &err), 0);
	assert_true(c.lease_off);
	ctl_config_release(&c);
	assert_int_equal(load(&c, "lease: {ttl: 1s}\n"
	    "sources:\n  - dir: {path: s}\n", &err), ERR_INVALID);
	assert_non_null(strstr(err.msg, "at least 3s"));
	ctl_config_release(&c);
	assert_int_equal(load(&c, "lease: {holder: me}\n"
	    "sources:\n  - dir: {path: s}\n", &err), ERR_INVALID);
	assert_non_null(strstr(err.msg, "holder"));
	ctl_config_release(&c);
}

static void
test_config_git_source(void **state)
{
	struct ctl_config c;
	struct err err;

	(void)state;
	assert_int_equal(load(&c,
	    "state_dir: state\n"
	    "sources:\n  - name: ops\n    git:\n"
	    "      url: https://git.example.org/ops/stacks.git\n"
	    "      ref: v1.2\n      path: swarm\n      poll: 30s\n"
	    "      timeout: 1m\n      username: deploy\n"
	    "      token_file: secrets/token\n"
	    "      ca_file: certs/ca.pem\n"
	    "      webhook_secret_file: /etc/stackd/hook\n", &err), 0);
	assert_string_equal(c.sources[0].name, "ops");
	assert_null(c.sources[0].dir);
	assert_string_equal(c.sources[0].git.url, "https://git.example.org/ops/stacks.git");
	assert_string_equal(c.sources[0].git.ref, "v1.2");
	assert_string_equal(c.sources[0].git.subpath, "swarm");
	assert_int_equal(c.sources[0].git.poll_ms, 30000);
	assert_int_equal(c.sources[0].git.timeout_ms, 60000);
	assert_string_equal(c.sources[0].git.username, "deploy");
	assert_string_equal(c.sources[0].git.token_file, "/tmp/secrets/token");
	assert_string_equal(c.sources[0].git.ca_file, "/tmp/certs/ca.pem");
	assert_string_equal(c.sources[0].webhook_secret_file, "/etc/stackd/hook");
	assert_string_equal(c.state_dir, "/tmp/state");
	ctl_config_release(&c);

	/* A local repository path is the config file's directory's too; a
	 * URL or an scp-like address is not a path. */
	assert_int_equal(load(&c, "sources:\n  - git: {url: repos/ops.git}\n",
	    &err), 0);
	assert_string_equal(c.sources[0].git.url, "/tmp/repos/ops.git");
	ctl_config_release(&c);
	assert_int_equal(load(&c, "sources:\n  - git: {url: 'git@h:o.git'}\n",
	    &err), 0);
	assert_string_equal(c.sources[0].git.url, "git@h:o.git");
	ctl_config_release(&c);
}

/* Several sources, each with its own name, kind and settings; listed
 * stacks say which source they come from. */
static void
test_config_several_sources(void **state)
{
	struct ctl_config c;
	struct sources_list l;
	struct sources_snapshot snap = { .root = "/srv" };
	struct err err;

	(void)state;
	assert_int_equal(load(&c,
	    "sources:\n"
	    "  - {name: apps, dir: {path: apps, debounce: 1s}}\n"
	    "  - {name: infra, git: {url: 'https://git.example.org/i.git', "
	    "ref: main}}\n"
	    "stacks:\n  list:\n"
	    "    - {name: web, source: apps, files: [web/compose.yaml]}\n"
	    "    - {name: db, source: infra, files: [db.yml]}\n"
	    "    - {name: mq, source: infra, files: [mq.yml]}\n", &err), 0);
	assert_int_equal(c.nsources, 2);
	assert_string_equal(c.sources[0].name, "apps");
	assert_string_equal(c.sources[0].dir, "/tmp/apps");
	assert_int_equal(c.sources[0].debounce_ms, 1000);
	assert_string_equal(c.sources[1].name, "infra");
	assert_string_equal(c.sources[1].git.ref, "main");
	assert_int_equal(ctl_stacks_count(&c, NULL, "apps"), 1);
	assert_int_equal(ctl_stacks_count(&c, NULL, "infra"), 2);
	ctl_stacks_listed(&l, &c, &snap, "infra");
	assert_int_equal(l.n, 2);
	assert_string_equal(l.stacks[0].name, "db");
	assert_string_equal(l.stacks[0].files[0], "/srv/db.yml");
	sources_list_release(&l);
	ctl_config_release(&c);
}

/* stacks.list entries carry their own keep_replicas and prune; the
 * others follow stacks:. */
static void
test_config_stack_policies(void **state)
{
	struct ctl_config c;
	struct recon_options ro = { .keep_replicas = true };
	struct err err;

	(void)state;
	assert_int_equal(load(&c,
	    "sources:\n  - {name: main, dir: {path: s}}\n"
	    "stacks:\n  keep_replicas: true\n  list:\n"
	    "    - {name: web, source: main, files: [a.yml], "
	    "keep_replicas: false}\n"
	    "    - {name: db, files: [b.yml], prune: false}\n"
	    "    - {name: etc, files: [c.yml]}\n", &err), 0);
	ctl_stacks_policy(&c, "web", &ro);
	assert_false(ro.keep_replicas);
	assert_false(ro.no_prune);
	ro.keep_replicas = c.keep_replicas;
	ctl_stacks_policy(&c, "db", &ro);
	assert_true(ro.keep_replicas);
	assert_true(ro.no_prune);
	ro = (struct recon_options){ .keep_replicas = c.keep_replicas };
	ctl_stacks_policy(&c, "etc", &ro);
	assert_true(ro.keep_replicas);
	assert_false(ro.no_prune);
	/* No config (the command line): the options stay as they are. */
	ro = (struct recon_options){ .keep_replicas = true };
	ctl_stacks_policy(NULL, "web", &ro);
	assert_true(ro.keep_replicas);
	assert_false(ro.no_prune);
	ctl_config_release(&c);
}

/* interpolation: the stacks.list entry's, else the source's, else the
 * config's; docker-cli when nothing says otherwise. */
static void
test_config_interpolation(void **state)
{
	struct ctl_config c;
	struct err err;

	(void)state;
	assert_int_equal(load(&c,
	    "sources:\n  - {name: a, dir: {path: s}, interpolation: "
	    "docker-cli}\n  - {name: b, dir: {path: t}}\n"
	    "stacks:\n  interpolation: compose-spec\n  list:\n"
	    "    - {name: web, source: a, files: [a.yml], "
	    "interpolation: compose-spec}\n"
	    "    - {name: db, source: a, files: [b.yml]}\n"
	    "    - {name: etc, source: b, files: [c.yml]}\n", &err), 0);
	assert_int_equal(ctl_stacks_interp(&c, "a", "web"),
	    COMPOSE_INTERP_SPEC);
	assert_int_equal(ctl_stacks_interp(&c, "a", "db"), COMPOSE_INTERP_CLI);
	assert_int_equal(ctl_stacks_interp(&c, "b", "etc"),
	    COMPOSE_INTERP_SPEC);
	ctl_config_release(&c);
	assert_int_equal(load(&c, "sources:\n  - {dir: {path: s}}\n", &err), 0);
	assert_int_equal(ctl_stacks_interp(&c, "dir", "x"), COMPOSE_INTERP_CLI);
	ctl_config_release(&c);
}

struct hdr {
	const char *name, *value;
};

/* The payload: the request's headers, up to a NULL name. */
struct hdrs {
	const struct hdr *h;
};

static const char *
hdr_get(const char *name, void *payload)
{
	for (const struct hdr *h = ((struct hdrs *)payload)->h; h->name != NULL;
	    h++)
		if (strcasecmp(h->name, name) == 0)
			return h->value;
	return NULL;
}

static enum ctl_hook_verdict
hook(const char *body, const struct hdr *h)
{
	struct hdrs all = { h };
	const char *event;

	return ctl_webhook_check("It's a Secret to Everybody", body,
	    strlen(body), hdr_get, &all, &event);
}

static void
test_webhook_signatures(void **state)
{
	/* GitHub's documented example: "Hello, World!" under the secret
	 * "It's a Secret to Everybody". */
	static const char *sig = "757107ea0eb2509fc211221cce984b8a37570b6d75"
	    "86c22c46f4379c8b043e17";
	char gh[80];
	const struct hdr github[] = { { "X-Hub-Signature-256", gh },
	    { "X-GitHub-Event", "push" }, { NULL, NULL } };
	const struct hdr ping[] = { { "X-Hub-Signature-256", gh },
	    { "X-GitHub-Event", "ping" }, { NULL, NULL } };
	const struct hdr noevent[] = { { "X-Hub-Signature-256", gh },
	    { NULL, NULL } };
	const struct hdr gitea[] = { { "X-Gitea-Signature", sig },
	    { "X-Gitea-Event", "push" }, { NULL, NULL } };
	const struct hdr forgejo[] = { { "X-Forgejo-Signature", sig },
	    { "X-Forgejo-Event", "push" }, { NULL, NULL } };
	const struct hdr gitlab[] = { { "X-Gitlab-Token",
	    "It's a Secret to Everybody" }, { "X-Gitlab-Event", "Push Hook" },
	    { NULL, NULL } };
	const struct hdr gitlab_bad[] = { { "X-Gitlab-Token", "It's a" },
	    { "X-Gitlab-Event", "Push Hook" }, { NULL, NULL } };
	const struct hdr none[] = { { "X-GitHub-Event", "push" },
	    { NULL, NULL } };

	(void)state;
	snprintf(gh, sizeof(gh), "sha256=%s", sig);
	assert_int_equal(hook("Hello, World!", github), CTL_HOOK_PUSH);
	assert_int_equal(hook("Hello, World!", ping), CTL_HOOK_IGNORED);
	assert_int_equal(hook("Hello, World!", noevent), CTL_HOOK_BAD_REQUEST);
	assert_int_equal(hook("Hello, World!", gitea), CTL_HOOK_PUSH);
	assert_int_equal(hook("Hello, World!", forgejo), CTL_HOOK_PUSH);
	assert_int_equal(hook("anything", gitlab), CTL_HOOK_PUSH);
	assert_int_equal(hook("anything", gitlab_bad),
	    CTL_HOOK_BAD_SIGNATURE);
	assert_int_equal(hook("Hello, World!", none), CTL_HOOK_UNSIGNED);
	/* One byte changed, the body or the signature: refused. */
	assert_int_equal(hook("Hello, World?", github),
	    CTL_HOOK_BAD_SIGNATURE);
	gh[10] = gh[10] == '0' ? '1' : '0';
	assert_int_equal(hook("Hello, World!", github),
	    CTL_HOOK_BAD_SIGNATURE);
	snprintf(gh, sizeof(gh), "sha1=%s", sig);
	assert_int_equal(hook("Hello, World!", github),
	    CTL_HOOK_BAD_SIGNATURE);
	snprintf(gh, sizeof(gh), "sha256=%.20s", sig);
	assert_int_equal(hook("Hello, World!", github),
	    CTL_HOOK_BAD_SIGNATURE);
}

/* A pass over groups, in plan mode: what it reports. */
struct seen {
	char lines[16][1200];
	int n;
};

static void
seen_report(const struct ctl_result *r, void *payload)
{
	struct seen *sn = payload;

	if (sn->n == 16)
		return;
	snprintf(sn->lines[sn->n++], sizeof(sn->lines[0]), "%s%s: %s",
	    r->removal ? "remove " : "", r->stack ? r->stack : "-",
	    r->err ? r->err->msg : r->plan && recon_plan_in_sync(r->plan) ?
	    "in sync" : "changes");
}

static bool
saw(const struct seen *sn, const char *want)
{
	for (int i = 0; i < sn->n; i++)
		if (strstr(sn->lines[i], want) != NULL)
			return true;
	return false;
}

static void
stack_file(const char *dir, const char *name, struct sources_stack *s)
{
	char file[256];
	FILE *f;

	snprintf(file, sizeof(file), "%s/%s.yml", dir, name);
	assert_non_null(f = fopen(file, "w"));
	fputs("services:\n  app:\n    image: local/busybox:1\n", f);
	fclose(f);
	memset(s, 0, sizeof(*s));
	s->name = strdup(name);
	sources_stack_add_file(s, strdup(file));
}

static void
run_groups(struct seen *sn, const struct ctl_group *g, size_t ng,
    bool complete)
{
	static const char owned[] = "[{\"ID\":\"o1\",\"Version\":{\"Index\":"
	    "1},\"Spec\":{\"Name\":\"old_app\",\"Labels\":{"
	    "\"com.docker.stack.namespace\":\"old\",\"com.stackd.owner\":"
	    "\"stackd\"}}}]";
	struct recon_observed obs = { .services = cJSON_Parse(owned),
	    .networks = cJSON_CreateArray(), .secrets = cJSON_CreateArray(),
	    .configs = cJSON_CreateArray() };
	struct ctl_pass p = { .obs = &obs, .report = seen_report,
	    .payload = sn, .prune_limit = 100 };
	struct compose_options base = { 0 };
	struct err err;

	memset(sn, 0, sizeof(*sn));
	assert_int_equal(recon_observed_index(&obs, &err), 0);
	ctl_pass_groups(&p, g, ng, complete, &base);
	recon_observed_release(&obs);
}

/* Stacks of two sources in one pass: a stack that left them all is
 * removed only when every source was read, and a stack both hold fails
 * once, naming both, and stops every removal. */
static void
test_pass_over_sources(void **state)
{
	char dir[] = "/tmp/stackd-groups.XXXXXX", rm[64];
	struct sources_stack *a = calloc(2, sizeof(*a));
	struct sources_stack *b = calloc(1, sizeof(*b));
	struct sources_list la = { a, 1 }, lb = { b, 1 };
	struct ctl_group g[2] = {
		{ .source = "apps", .root = dir, .list = &la },
		{ .source = "infra", .root = dir, .list = &lb },
	};
	struct seen sn;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(mkdtemp(dir));
	stack_file(dir, "web", &a[0]);
	stack_file(dir, "db", &b[0]);
	stack_file(dir, "db", &a[1]);

	run_groups(&sn, g, 2, true);
	assert_true(saw(&sn, "web: changes"));
	assert_true(saw(&sn, "db: changes"));
	assert_true(saw(&sn, "remove old: changes"));

	run_groups(&sn, g, 2, false);	/* infra not read yet, say */
	assert_true(saw(&sn, "web: changes"));
	assert_false(saw(&sn, "remove old"));

	la.n = 2;			/* apps now holds db too */
	run_groups(&sn, g, 2, true);
	assert_true(saw(&sn, "web: changes"));
	assert_true(saw(&sn, "db: stack db is in sources apps and infra"));
	assert_int_equal(sn.n, 2);	/* db once, and no removal */

	sources_list_release(&la);
	sources_list_release(&lb);
	snprintf(rm, sizeof(rm), "rm -rf %s", dir);
	assert_int_equal(system(rm), 0);
}

static void
bad(const char *text, const char *want)
{
	struct ctl_config c;
	struct err err;

	assert_int_equal(load(&c, text, &err), ERR_INVALID);
	if (strstr(err.msg, want) == NULL)
		fail_msg("\"%s\" lacks \"%s\"", err.msg, want);
	assert_non_null(strstr(err.msg, path));
	ctl_config_release(&c);
}

static void
test_config_errors_say_where(void **state)
{
	(void)state;
	bad("engines:\n  - host: unix:///a\n    hots: x\n",
	    "engines[0]: unknown key \"hots\"");
	bad("bogus: 1\n", ":1:1)");
	bad("notify:\n  url: ftp://x/\n", "notify.url: must be an http:// or "
	    "https:// URL (");
	bad("notify: {timeout: 5s}\n", "notify: url is required");
	bad("notify: {url: http://x/, retries: 3}\n",
	    "notify: unknown key \"retries\"");
	bad("stacks: {prune_limit: 0}\n", "stacks.prune_limit: want a "
	    "percentage");
	bad("stacks:\n  list:\n    - {name: w, files: [../x.yml]}\n",
	    "stacks.list[0].files: \"../x.yml\" must be a path inside the "
	    "source");
	bad("stacks:\n  list:\n    - {name: w, files: []}\n",
	    "stacks.list[0].files: must be a list of files (at least one)");
	bad("stacks:\n  list:\n    - {name: w, files: [a]}\n"
	    "    - {name: w, files: [b]}\n", "stack w is listed twice");
	bad("stacks:\n  list:\n    - {name: \"bad name\", files: [a]}\n",
	    "stacks.list[0]: needs a valid stack name");
	bad("stacks:\n  list:\n    - {name: w, files: [a], compose: [b]}\n",
	    "stacks.list[0]: unknown key \"compose\"");
	bad("stacks:\n  list:\n    - {name: w, files: [a]}\n"
	    "    - {name: v, files: [a], prune: never}\n",
	    "stacks.list[1]: prune must be true or false (");
	bad("stacks:\n  list:\n    - {name: w, files: [a], keep_replicas: 1}\n",
	    "stacks.list[0]: keep_replicas must be true or false (");
	bad("sources:\n  - {name: main, dir: {path: s}}\nstacks:\n  list:\n"
	    "    - {name: w, source: ops, files: [a]}\n",
	    "stacks.list[0].source: \"ops\" is not a source named under "
	    "sources: (");
	bad("stacks:\n  list:\n    - {name: w, source: ops, files: [a]}\n",
	    "stacks.list[0].source: \"ops\" is not a source named under");
	bad("sources:\n  - {name: a, dir: {path: s}}\n  - {name: b, dir: "
	    "{path: t}}\nstacks:\n  list:\n    - {name: w, files: [a]}\n",
	    "stacks.list[0].source: is required: there are several sources");
	bad("sources:\n  - {name: a, dir: {path: s}}\n  - {dir: {path: t}}\n",
	    "sources[1]: needs a name: (there are several sources)");
	bad("sources:\n  - {name: a, dir: {path: s}}\n  - {name: a, git: "
	    "{url: x}}\n", "sources[1]: source name \"a\" is used twice");
	bad("engines:\n  - name: a\n", "host is required");
	bad("engines:\n  - {name: a, host: unix:///a}\n  - {name: a, host: "
	    "unix:///b}\n", "engine name \"a\" is used twice");
	bad("interval: soon\n", "interval must be a duration");
	bad("stacks:\n  prune_secrets: yes please\n", "true or false");
	bad("engines:\n  - {name: a, host: unix:///a}\nstacks:\n  engines: "
	    "{web: [z]}\n", "\"z\" is not an engine");
	bad("sources:\n  - name: g\n", "needs either dir: or git:");
	bad("sources:\n  - name: g\n    dir: {path: a}\n    git: {url: b}\n",
	    "needs either dir: or git:");
	bad("sources:\n  - git: {ref: main}\n", "sources[0].git: url is "
	    "required");
	bad("sources:\n  - git: {url: x, token: abc}\n", "sources[0].git: "
	    "unknown key \"token\"");
	bad("sources:\n  - name: a/b\n    git: {url: x}\n", "name may hold");
	bad("sources:\n  - git: {url: x, poll: often}\n", "poll must be a "
	    "duration");
	bad("log: {format: xml}\n", "text or json");
	bad("stacks: {interpolation: compose}\n", "stacks: interpolation "
	    "must be docker-cli (what docker stack deploy does) or "
	    "compose-spec (docker compose) (");
	bad("sources:\n  - {dir: {path: s}, interpolation: [x]}\n",
	    "sources[0]: interpolation must be");
	bad("stacks:\n  list:\n    - {name: w, files: [a], interpolation: "
	    "spec}\n", "stacks.list[0]: interpolation must be");
	bad("engines: [1, 2\n", "");
}

static void
test_durations(void **state)
{
	int ms;

	(void)state;
	assert_int_equal(ctl_duration_parse("250ms", &ms), 0);
	assert_int_equal(ms, 250);
	assert_int_equal(ctl_duration_parse("1.5s", &ms), 0);
	assert_int_equal(ms, 1500);
	assert_int_equal(ctl_duration_parse("90", &ms), 0);
	assert_int_equal(ms, 90000);
	assert_int_equal(ctl_duration_parse("5m", &ms), 0);
	assert_int_equal(ms, 300000);
	assert_int_equal(ctl_duration_parse("2d", &ms), -1);
	assert_int_equal(ctl_duration_parse("25h", &ms), -1);
	assert_int_equal(ctl_duration_parse("-1s", &ms), -1);
	assert_int_equal(ctl_duration_parse("", &ms), -1);
}

/* Two engines; the stack "web" synced on one and failed on the other. */
static struct ctl_source_state source;

static void
make_state(struct ctl_state *st, struct ctl_engine_state es[2])
{
	memset(st, 0, sizeof(*st));
	memset(es, 0, 2 * sizeof(*es));
	es[0].name = "a";
	es[0].host = "unix:///a";
	es[0].reachable = es[0].reached = true;
	es[0].stacks = cJSON_Parse("{\"web\":{\"state\":\"synced\","
	    "\"services\":[{\"name\":\"web_<x>\",\"image\":\"i\","
	    "\"running\":1,\"desired\":1,\"pending\":[]}]}}");
	es[0].hist[3] = 2;
	es[0].hist_sum = 0.1;
	es[1].name = "b\"q";
	es[1].host = "tcp://127.0.0.2:2376";
	es[1].stacks = cJSON_Parse("{\"web\":{\"state\":\"failed\","
	    "\"error\":\"<script>\",\"services\":[]},"
	    "\"db\":{\"state\":\"progressing\",\"services\":[]}}");
	st->engines = es;
	st->nengines = 2;
	memset(&source, 0, sizeof(source));
	source.name = "src";
	source.kind = "dir";
	source.location = "/srv";
	st->sources = &source;
	st->nsources = 1;
}

static void
test_status_documents(void **state)
{
	struct ctl_engine_state es[2];
	struct ctl_state st;
	cJSON *all, *one;
	char *text;

	(void)state;
	make_state(&st, es);
	assert_false(ctl_ready(&st));	/* no snapshot, engine b unseen */
	all = ctl_stacks_json(&st, NULL);
	assert_int_equal(cJSON_GetArraySize(all), 2);
	one = ctl_stacks_json(&st, "web");
	assert_string_equal(cJSON_GetObjectItem(one, "state")->valuestring,
	    "failed");
	assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(one,
	    "engines"), "a"));
	assert_null(ctl_stacks_json(&st, "nope"));
	cJSON_Delete(all);
	cJSON_Delete(one);

	text = ctl_page_html(&st, NULL);
	assert_non_null(strstr(text, "web_&lt;x&gt;"));
	assert_non_null(strstr(text, "&lt;script&gt;"));
	assert_null(strstr(text, "<script>"));
	free(text);

	text = ctl_metrics_text(&st, NULL);
	assert_non_null(strstr(text, "stackd_engine_up{engine=\"b\\\"q\"} 0"));
	assert_non_null(strstr(text, "stackd_reconcile_duration_seconds_bucket"
	    "{engine=\"a\",le=\"0.05\"} 0"));
	assert_non_null(strstr(text, "stackd_reconcile_duration_seconds_bucket"
	    "{engine=\"a\",le=\"+Inf\"} 2"));
	assert_non_null(strstr(text, "stackd_stacks{state=\"failed\"} 1"));
	assert_non_null(strstr(text, "stackd_stacks{state=\"progressing\"} 1"));
	free(text);
	cJSON_Delete(es[0].stacks);
	cJSON_Delete(es[1].stacks);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_good),
		cmocka_unit_test(test_config_hosts),
		cmocka_unit_test(test_config_lease),
		cmocka_unit_test(test_config_sops),
		cmocka_unit_test(test_config_errors_say_where),
		cmocka_unit_test(test_config_git_source),
		cmocka_unit_test(test_config_stack_policies),
		cmocka_unit_test(test_config_interpolation),
		cmocka_unit_test(test_config_several_sources),
		cmocka_unit_test(test_pass_over_sources),
		cmocka_unit_test(test_webhook_signatures),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_status_documents),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
