/*
 * git_child.c - a git fetch in a process of its own: `stackd git-fetch`.
 *
 * The daemon holds the engines' sockets and keys; a fetch talks to a
 * remote server and parses its packs.  So the fetch runs in a process
 * started for it (sandbox_spawn) that gets its request on descriptor 3,
 * confines itself (SANDBOX_FETCH: its source's credential files and the
 * system's TLS and resolver files to read, the cache repository to write,
 * no unix socket, no exec) before it opens anything, fetches into the
 * cache and answers with the commit id.  The daemon then reads that
 * commit from the cache itself.  Whatever the process does, the daemon
 * only ever learns a 40-hex id or an error line from it: a garbage
 * answer, a crash or a hang past the fetch's timeout is a failed fetch.
 */
#define _GNU_SOURCE	/* close_range */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "clock.h"
#include "frame.h"
#include "git_int.h"
#include "sources.h"

/* Past its own timeout the process had a second to say so. */
#define GRACE_MS 1000

static const struct frame_rule answer_rule[] = {
	{ GIT_MSG_ANSWER, GIT_ANSWER_MAX },
};

/* The daemon's variables a fetch may use (its token_env comes too). */
static const char *const fetch_env[] = { "HOME", "SSH_AUTH_SOCK",
    "SSL_CERT_FILE", "SSL_CERT_DIR", "http_proxy", "https_proxy",
    "HTTP_PROXY", "HTTPS_PROXY", "no_proxy", "NO_PROXY", NULL };

static void
put(cJSON *o, const char *key, const char *value)
{
	if (value != NULL)
		cJSON_AddStringToObject(o, key, value);
}

static char *
request_text(const char *repo_path, const struct git_fetch *f)
{
	cJSON *o = cJSON_CreateObject();
	char *text;

	put(o, "repo", repo_path);
	put(o, "url", f->url);
	put(o, "safe_url", f->safe_url);
	put(o, "ref", f->ref);
	cJSON_AddNumberToObject(o, "kind", f->kind);
	put(o, "username", f->username);
	put(o, "token_file", f->token_file);
	put(o, "token_env", f->token_env);
	put(o, "ssh_key", f->ssh_key);
	put(o, "ssh_passphrase_file", f->ssh_passphrase_file);
	put(o, "known_hosts", f->known_hosts);
	put(o, "ca_file", f->ca_file);
	cJSON_AddNumberToObject(o, "port", f->port);
	cJSON_AddNumberToObject(o, "timeout_ms", f->timeout_ms);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

/* The answer, or why there is none, once the process has ended. */
static int
dead(const char *url, int status, struct err *err)
{
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
		return err_set(err, ERR_FAIL, "git fetch %s: the fetch process "
		    "was killed for a system call outside its sandbox "
		    "(--no-sandbox to debug)", url);
	if (WIFSIGNALED(status))
		return err_set(err, ERR_FAIL, "git fetch %s: the fetch process "
		    "died of signal %d", url, WTERMSIG(status));
	return err_set(err, ERR_FAIL, "git fetch %s: the fetch process "
	    "ended (status %d) without an answer", url, WEXITSTATUS(status));
}

/* Wait for the answer within the fetch's time: 1 readable, 0 timed out
 * or cancelled (*why set). */
static int
await(int fd, const struct git_fetch *f, const char **why)
{
	long long end = clock_mono_ms() + f->timeout_ms + GRACE_MS, left;
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while ((left = end - clock_mono_ms()) > 0) {
		if (f->cancel != NULL && *f->cancel) {
			*why = "fetch cancelled";
			return 0;
		}
		if (poll(&p, 1, left < 100 ? (int)left : 100) > 0)
			return 1;
	}
	*why = "fetch timed out";
	return 0;
}

static bool
is_hex40(const char *s)
{
	return s != NULL && strlen(s) == GIT_OID_HEXSZ &&
	    strspn(s, "0123456789abcdef") == GIT_OID_HEXSZ;
}

static bool
json_bool(const cJSON *o, const char *key)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static void
read_report(const cJSON *o, struct sandbox_report *r)
{
	const char *m = cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(o, "missing"));

	memset(r, 0, sizeof(*r));
	r->no_new_privs = json_bool(o, "no_new_privs");
	r->seccomp = json_bool(o, "seccomp");
	r->landlock = json_bool(o, "landlock");
	r->no_capabilities = json_bool(o, "no_capabilities");
	if (m != NULL)
		snprintf(r->missing, sizeof(r->missing), "%s", m);
}

/* The process's answer, checked: it is as trusted as what it fetched. */
static int
read_answer(const struct frame *fr, const struct git_fetch *f,
    char commit[GIT_COMMIT_HEX], unsigned long long *bytes,
    struct sandbox_report *r, struct err *err)
{
	cJSON *o = cJSON_ParseWithLength(fr->data ? fr->data : "", fr->len);
	const char *c = cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(o, "commit"));
	const char *e = cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(o, "error"));
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(o, "bytes");
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(o, "code");
	int rc = 0;

	read_report(cJSON_GetObjectItemCaseSensitive(o, "sandbox"), r);
	if (cJSON_IsNumber(b) && b->valuedouble >= 0)
		*bytes = (unsigned long long)b->valuedouble;
	if (e != NULL) {
		rc = cJSON_IsNumber(code) && code->valueint < 0 &&
		    code->valueint >= ERR_DENIED ? code->valueint : ERR_FAIL;
		err_set(err, rc, "%s", e);
		for (char *p = err->msg; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = ' ';
	} else if (f->kind == SRC_REF_COMMIT && c != NULL && *c == '\0') {
		*commit = '\0';
	} else if (is_hex40(c)) {
		memcpy(commit, c, GIT_COMMIT_HEX);
	} else {
		rc = err_set(err, ERR_PROTOCOL, "git fetch %s: the fetch "
		    "process answered no commit", f->safe_url);
	}
	cJSON_Delete(o);
	return rc;
}

static int
converse(int fd, pid_t pid, const char *repo_path,
    const struct git_fetch *f, char commit[GIT_COMMIT_HEX],
    unsigned long long *bytes, struct sandbox_report *r, struct err *err)
{
	char *req = request_text(repo_path, f);
	const char *why = NULL;
	struct frame fr = { 0 };
	bool answered = false;
	int rc, status;

	rc = frame_send(fd, GIT_MSG_REQUEST, req, strlen(req), err);
	free(req);
	if (rc == 0 && await(fd, f, &why) == 0)
		rc = err_set(err, ERR_TIMEOUT, "git fetch %s: %s", f->safe_url,
		    why);
	else if (rc == 0 && (rc = frame_recv(fd, answer_rule, 1, &fr,
	    err)) == 0) {
		answered = true;
		rc = read_answer(&fr, f, commit, bytes, r, err);
	}
	frame_release(&fr);
	/* Answered or not, it has nothing more to do: no lingering. */
	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (answered || why != NULL)
		return rc;
	/* It went away (the stream ended, the request could not be sent)
	 * or said something that is not an answer. */
	if (rc == 1 || rc == ERR_FAIL)
		return dead(f->safe_url, status, err);
	err_prefix(err, "git fetch %s: the fetch process: ", f->safe_url);
	return rc;
}

int
sources_git_fetch_confined(const char *repo_path,
    const struct git_fetch *f, char commit[GIT_COMMIT_HEX],
    unsigned long long *bytes, struct sandbox_report *r, struct err *err)
{
	static char name[] = "stackd", command[] = "git-fetch";
	char *const argv[] = { name, command, NULL };
	const char *keep[sizeof(fetch_env) / sizeof(*fetch_env) + 1];
	size_t n = 0;
	pid_t pid;
	int pair[2], rc;

	*commit = '\0';
	*bytes = 0;
	memset(r, 0, sizeof(*r));
	for (; fetch_env[n] != NULL; n++)
		keep[n] = fetch_env[n];
	keep[n++] = f->token_env;
	keep[n] = NULL;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
		return err_set(err, ERR_FAIL, "git fetch %s: socketpair: %s",
		    f->safe_url, strerror(errno));
	rc = sandbox_spawn(&pid, argv, &pair[1], 1, keep, err);
	close(pair[1]);
	if (rc == 0)
		rc = converse(pair[0], pid, repo_path, f, commit, bytes, r,
		    err);
	close(pair[0]);
	return rc;
}
