/*
 * git_fetcher.c - `stackd git-fetch`, the fetch process's side of
 * git_child.c: read the request on descriptor 3, confine itself to what
 * this one fetch needs, fetch into the cache, answer, exit.
 *
 * Everything the process may read is named before it confines itself,
 * from the request (its source's credential files, a local repository)
 * and the environment the daemon passed on (HOME for the git and ssh
 * configuration, SSL_CERT_*): afterwards an open() elsewhere fails.
 */
#define _GNU_SOURCE	/* close_range */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "frame.h"
#include "git_int.h"
#include "sources.h"

/* What any fetch reads: the libraries (OpenSSL's modules, NSS), the
 * resolver's and TLS's configuration.  Not /etc as a whole: the engines'
 * TLS keys and stackd's configuration live there. */
static const char *const system_reads[] = {
	"/usr", "/lib", "/lib64", "/lib32", "/etc/ld.so.cache", "/etc/ssl",
	"/etc/pki", "/etc/ca-certificates", "/etc/resolv.conf", "/etc/hosts",
	"/etc/nsswitch.conf", "/etc/host.conf", "/etc/gai.conf",
	"/etc/services", "/etc/protocols", "/etc/passwd", "/etc/group",
	"/etc/localtime", "/etc/gitconfig", "/dev/null", "/dev/urandom",
	NULL,
};

#define READS_MAX 48

struct reads {
	const char *path[READS_MAX + 1];
	char own[8][4096];	/* paths made here */
	size_t n, nown;
};

static void
add(struct reads *r, const char *path)
{
	if (path != NULL && *path != '\0' && r->n < READS_MAX)
		r->path[r->n++] = path;
}

static void
add_under(struct reads *r, const char *dir, const char *name)
{
	if (dir == NULL || *dir == '\0' || r->nown == 8)
		return;
	snprintf(r->own[r->nown], sizeof(r->own[0]), "%s/%s", dir, name);
	add(r, r->own[r->nown++]);
}

/* A local repository's path (file://, /abs, ./rel), else NULL. */
static const char *
local_path(const char *url)
{
	if (strncmp(url, "file://", 7) == 0)
		return url + 7;
	if (*url == '/' || *url == '.')
		return url;
	return NULL;
}

static bool
is_ssh(const char *url)
{
	return strncmp(url, "ssh://", 6) == 0 || (strstr(url, "://") == NULL &&
	    strchr(url, ':') != NULL && local_path(url) == NULL);
}

static const char *
str(const cJSON *o, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static int
num(const cJSON *o, const char *key)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(n) ? n->valueint : 0;
}

/* The request into f (pointing into o), the paths it reads into r. */
static int
parse(const cJSON *o, struct git_fetch *f, struct reads *r)
{
	const char *home = getenv("HOME");

	memset(f, 0, sizeof(*f));
	f->url = str(o, "url");
	f->safe_url = str(o, "safe_url");
	f->ref = str(o, "ref");
	f->kind = (enum git_ref_kind)num(o, "kind");
	f->username = str(o, "username");
	f->token_file = str(o, "token_file");
	f->token_env = str(o, "token_env");
	f->ssh_key = str(o, "ssh_key");
	f->ssh_passphrase_file = str(o, "ssh_passphrase_file");
	f->known_hosts = str(o, "known_hosts");
	f->ca_file = str(o, "ca_file");
	f->port = num(o, "port");
	f->timeout_ms = num(o, "timeout_ms");
	if (str(o, "repo") == NULL || f->url == NULL || f->safe_url == NULL ||
	    f->kind < SRC_REF_HEAD || f->kind > SRC_REF_COMMIT ||
	    f->timeout_ms <= 0)
		return -1;
	for (const char *const *p = system_reads; *p != NULL; p++)
		add(r, *p);
	add(r, getenv("SSL_CERT_FILE"));
	add(r, getenv("SSL_CERT_DIR"));
	add_under(r, home, ".gitconfig");
	add_under(r, home, ".config/git");
	add_under(r, home, ".ssh");
	add(r, f->token_file);
	add(r, f->ssh_key);
	add(r, f->ssh_passphrase_file);
	add(r, f->known_hosts);
	add(r, f->ca_file);
	add(r, local_path(f->url));
	return 0;
}

/* The answer: the commit, or the error; how the process was confined. */
static void
answer(const char *commit, unsigned long long bytes,
    const struct sandbox_report *sr, const struct err *e)
{
	cJSON *o = cJSON_CreateObject();
	struct err ignored = { 0 };
	char *text;

	if (e->code < 0) {
		cJSON_AddStringToObject(o, "error", e->msg);
		cJSON_AddNumberToObject(o, "code", e->code);
	} else {
		cJSON_AddStringToObject(o, "commit", commit);
	}
	cJSON_AddNumberToObject(o, "bytes", (double)bytes);
	cJSON_AddItemToObject(o, "sandbox", sandbox_report_json(sr));
	text = cJSON_PrintUnformatted(o);
	(void)frame_send(GIT_FETCH_FD, GIT_MSG_ANSWER, text, strlen(text),
	    &ignored);
	free(text);
	cJSON_Delete(o);
}

static int
run(const cJSON *req, char commit[GIT_COMMIT_HEX], unsigned long long *bytes,
    struct sandbox_report *sr, struct err *err)
{
	struct git_fetch f;
	static struct reads r;
	const char *writes[2] = { NULL, NULL };
	struct sandbox_opts so = { .profile = SANDBOX_FETCH };
	git_repository *repo = NULL;
	int rc;

	if (parse(req, &f, &r) < 0)
		return err_set(err, ERR_PROTOCOL, "git fetch: the fetch "
		    "process got a malformed request");
	writes[0] = str(req, "repo");
	so.write_dirs = writes;
	so.read_paths = r.path;
	/* ssh-agent is a unix socket; without a key file it is the way. */
	so.unix_sockets = f.ssh_key == NULL && getenv("SSH_AUTH_SOCK") &&
	    is_ssh(f.url);
	sources_git_init();
	if ((rc = sandbox_confine(&so, sr, err)) < 0)
		return rc;
	if (git_repository_open_bare(&repo, writes[0]) < 0)
		return err_set(err, ERR_FAIL, "git cache %s: %s", writes[0],
		    sources_git_error());
	rc = sources_git_fetch(repo, &f, commit, bytes, err);
	git_repository_free(repo);
	return rc;
}

int
sources_git_fetcher_main(void)
{
	static const struct frame_rule rule[] = {
		{ GIT_MSG_REQUEST, GIT_REQUEST_MAX },
	};
	struct sandbox_report sr = { 0 };
	struct err err = { 0 };
	struct frame fr = { 0 };
	char commit[GIT_COMMIT_HEX] = "";
	unsigned long long bytes = 0;
	cJSON *req;

	if (fcntl(GIT_FETCH_FD, F_GETFD) < 0) {
		fprintf(stderr, "stackd git-fetch: the fetch process of "
		    "`stackd run`, which starts it; not a command\n");
		return 2;
	}
	(void)close_range(GIT_FETCH_FD + 1, ~0U, 0);
	if (frame_recv(GIT_FETCH_FD, rule, 1, &fr, &err) != 0)
		_exit(1);
	req = cJSON_ParseWithLength(fr.data ? fr.data : "", fr.len);
	(void)run(req, commit, &bytes, &sr, &err);
	answer(commit, bytes, &sr, &err);
	cJSON_Delete(req);
	frame_release(&fr);
	_exit(0);
}
