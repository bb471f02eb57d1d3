/*
 * git_url.c - what stackd reads of a git URL: its authority, a form
 * without credentials for messages, whether it holds a password, and the
 * port of an ssh:// URL.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "git_int.h"
#include "sources.h"

/*
 * The authority of a "scheme://" URL: [*userinfo, *host) is "user[:pw]@"
 * (empty without one), [*host, *end) the host and port.  False for
 * scp-like addresses and paths, which have no scheme.
 */
static bool
url_authority(const char *url, const char **userinfo, const char **host,
    const char **end)
{
	const char *scheme = strstr(url, "://"), *at;

	if (scheme == NULL)
		return false;
	*userinfo = *host = scheme + 3;
	*end = *host + strcspn(*host, "/");
	if ((at = memchr(*host, '@', (size_t)(*end - *host))) != NULL)
		*host = at + 1;
	return true;
}

void
sources_git_url_redact(char *out, size_t size, const char *url)
{
	const char *user, *host, *end;

	if (url_authority(url, &user, &host, &end))
		snprintf(out, size, "%.*s%s", (int)(user - url), url, host);
	else
		snprintf(out, size, "%s", url);
}

/* "https://user:pass@host/": the password would sit in the config, in
 * `ps` and in the cache's logs; it belongs in token_file. */
bool
sources_git_url_has_password(const char *url)
{
	const char *user, *host, *end;

	return url_authority(url, &user, &host, &end) &&
	    memchr(user, ':', (size_t)(host - user)) != NULL;
}

/* The port of an ssh:// URL (22 for scp-like and anything else). */
int
sources_git_url_ssh_port(const char *url)
{
	const char *user, *host, *end, *colon;
	char *stop;
	long port;

	if (strncmp(url, "ssh://", 6) != 0 ||
	    !url_authority(url, &user, &host, &end) ||
	    (colon = memchr(host, ':', (size_t)(end - host))) == NULL)
		return 22;
	port = strtol(colon + 1, &stop, 10);
	/* The port runs up to the path: "ssh://git@h:2222/repo". */
	return stop > colon + 1 && stop == end && port > 0 && port < 65536 ?
	    (int)port : 22;
}

