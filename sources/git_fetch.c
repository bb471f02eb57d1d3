/*
 * git_fetch.c - one fetch of a git source's ref into the bare cache, and
 * the commit it landed on.  The same code runs in the daemon (without a
 * sandbox) and in the fetch process (git_child.c).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "git_int.h"
#include "version.h"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void
init_libgit2(void)
{
	git_libgit2_init();
	git_libgit2_opts(GIT_OPT_SET_USER_AGENT, "stackd/" STACKD_VERSION);
}

void
sources_git_init(void)
{
	pthread_once(&init_once, init_libgit2);
}

/* Where this kind of ref lands in the cache, and what to fetch. */
static size_t
refspecs(const struct git_fetch *g, char specs[2][1100])
{
	switch (g->kind) {
	case SRC_REF_HEAD:
		snprintf(specs[0], sizeof(specs[0]), "+HEAD:refs/stackd/HEAD");
		return 1;
	case SRC_REF_FULL:
		snprintf(specs[0], sizeof(specs[0]), "+%s:refs/stackd/%s",
		    g->ref, g->ref + 5);
		return 1;
	case SRC_REF_SHORT:
		snprintf(specs[0], sizeof(specs[0]), "+refs/heads/%s:"
		    "refs/stackd/heads/%s", g->ref, g->ref);
		snprintf(specs[1], sizeof(specs[1]), "+refs/tags/%s:"
		    "refs/stackd/tags/%s", g->ref, g->ref);
		return 2;
	case SRC_REF_COMMIT:
		snprintf(specs[0], sizeof(specs[0]), "+refs/heads/*:"
		    "refs/stackd/heads/*");
		snprintf(specs[1], sizeof(specs[1]), "+refs/tags/*:"
		    "refs/stackd/tags/*");
		return 2;
	}
	return 0;
}

static bool
advertised(const git_remote_head **heads, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(heads[i]->name, name) == 0)
			return true;
	return false;
}

/* After the fetch: the local ref that holds what the remote has now. */
static int
pick_ref(const struct git_fetch *g, git_remote *r, char *local,
    size_t size, struct err *err)
{
	const git_remote_head **heads = NULL;
	size_t n = 0;
	char name[1100];

	if (git_remote_ls(&heads, &n, r) < 0)
		return err_set(err, ERR_PROTOCOL, "git %s: %s", g->safe_url,
		    sources_git_error());
	switch (g->kind) {
	case SRC_REF_HEAD:
		snprintf(name, sizeof(name), "HEAD");
		snprintf(local, size, "refs/stackd/HEAD");
		break;
	case SRC_REF_FULL:
		snprintf(name, sizeof(name), "%s", g->ref);
		snprintf(local, size, "refs/stackd/%s", g->ref + 5);
		break;
	case SRC_REF_SHORT:
		snprintf(name, sizeof(name), "refs/heads/%s", g->ref);
		snprintf(local, size, "refs/stackd/heads/%s", g->ref);
		if (advertised(heads, n, name))
			return 0;
		snprintf(name, sizeof(name), "refs/tags/%s", g->ref);
		snprintf(local, size, "refs/stackd/tags/%s", g->ref);
		break;
	case SRC_REF_COMMIT:
		return 0;
	}
	if (!advertised(heads, n, name) && g->kind == SRC_REF_HEAD)
		return err_set(err, ERR_NOTFOUND, "git %s has no HEAD (its "
		    "default branch has no commit): give a ref", g->safe_url);
	if (!advertised(heads, n, name))
		return err_set(err, ERR_NOTFOUND, "git %s has no %s \"%s\"",
		    g->safe_url, g->kind == SRC_REF_SHORT ? "branch or tag" :
		    "ref", g->ref);
	return 0;
}

/*
 * An anonymous remote for the URL as given: url.*.insteadOf rewriting is
 * skipped, because libgit2 1.5 leaks PCRE2 match blocks while matching
 * the config against that pattern: ASan saw about 120 KiB lost per fetch,
 * 170 MiB a day at the default poll (fixed upstream by libgit2#6382).
 */
static int
new_remote(git_repository *repo, const struct git_fetch *g,
    git_remote **out)
{
	git_remote_create_options ro;

	git_remote_create_options_init(&ro, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	ro.repository = repo;
	ro.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF |
	    GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	return git_remote_create_with_opts(out, g->url, &ro);
}

/* One line (libgit2's TLS messages hold several), with a hint when the
 * system's CAs did not know the server's. */
static int
fetch_error(const struct git_fetch *g, const struct git_call *call,
    struct err *err)
{
	const git_error *e = git_error_last();
	bool tls = *call->why == '\0' && e != NULL && e->klass == GIT_ERROR_SSL;
	int rc;

	rc = err_set(err, ERR_UNREACHABLE, "git fetch %s: %s%s", g->safe_url,
	    *call->why ? call->why : sources_git_error(),
	    tls && g->ca_file == NULL ? " (signed by a private CA? give its "
	    "certificate as ca_file / --git-ca-file)" : "");
	for (char *p = err->msg; (p = strchr(p, '\n')) != NULL; )
		*p = ' ';
	return rc;
}

/* The commit the fetched ref points at now. */
static int
peel(git_repository *repo, const struct git_fetch *g, const char *local,
    char commit[GIT_COMMIT_HEX], struct err *err)
{
	git_reference *ref = NULL;
	git_object *obj = NULL;
	int rc = 0;

	if (git_reference_lookup(&ref, repo, local) < 0 ||
	    git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT) < 0)
		rc = err_set(err, ERR_PROTOCOL, "git %s: %s does not name a "
		    "commit: %s", g->safe_url, g->ref ? g->ref : "HEAD",
		    sources_git_error());
	else
		git_oid_tostr(commit, GIT_COMMIT_HEX, git_object_id(obj));
	git_object_free(obj);
	git_reference_free(ref);
	return rc;
}

int
sources_git_fetch(git_repository *repo, const struct git_fetch *g,
    char commit[GIT_COMMIT_HEX], unsigned long long *bytes,
    struct err *err)
{
	git_fetch_options fo;
	struct git_call call = { .username = g->username,
	    .token_file = g->token_file, .token_env = g->token_env,
	    .ssh_key = g->ssh_key,
	    .ssh_passphrase_file = g->ssh_passphrase_file,
	    .known_hosts = g->known_hosts, .port = g->port,
	    .ca_file = g->ca_file, .cancel = g->cancel };
	char specs[2][1100], local[1100];
	char *pspecs[2] = { specs[0], specs[1] };
	git_strarray arr = { pspecs, refspecs(g, specs) };
	git_remote *r = NULL;
	int rc = 0;

	*commit = '\0';
	*bytes = 0;
	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	call.deadline = clock_mono_ms() + g->timeout_ms;
	fo.callbacks.credentials = sources_git_credentials;
	fo.callbacks.certificate_check = sources_git_certificate;
	fo.callbacks.transfer_progress = sources_git_transfer;
	fo.callbacks.sideband_progress = sources_git_sideband;
	fo.callbacks.payload = &call;
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	fo.update_fetchhead = 0;
	fo.prune = GIT_FETCH_NO_PRUNE;
	if (new_remote(repo, g, &r) < 0 ||
	    git_remote_fetch(r, &arr, &fo, NULL) < 0)
		rc = fetch_error(g, &call, err);
	else if ((rc = pick_ref(g, r, local, sizeof(local), err)) == 0 &&
	    g->kind != SRC_REF_COMMIT)
		rc = peel(repo, g, local, commit, err);
	if (r != NULL)
		*bytes = git_remote_stats(r)->received_bytes;
	git_remote_free(r);
	return rc;
}
