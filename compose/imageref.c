/*
 * imageref.c - image references as the docker CLI reads them
 * (distribution/reference: ParseNormalizedNamed, TagNameOnly,
 * FamiliarString).
 *
 * `docker stack deploy` writes every image in its familiar form with a
 * tag, whatever --resolve-image says: "docker.io/library/nginx" is
 * "nginx:latest", "docker.io/prom/prometheus:v3" is "prom/prometheus:v3".
 * A string that is no reference is left as it is (the engine refuses it).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "compose.h"

#define DEFAULT_DOMAIN "docker.io"
#define OFFICIAL_PREFIX "library/"
#define PATH_MAX_LEN 255

static bool
lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool
alnum(char c)
{
	return lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool
hex_lower(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* One path component: [a-z0-9]+ joined by '.', '_', '__' or '-'+. */
static const char *
component_end(const char *p)
{
	if (!lower_alnum(*p))
		return NULL;
	for (;;) {
		const char *sep;

		while (lower_alnum(*p))
			p++;
		sep = p;
		if (*p == '.')
			p++;
		else if (*p == '_')
			p += p[1] == '_' ? 2 : 1;
		else
			while (*p == '-')
				p++;
		if (p == sep)
			return p;
		if (!lower_alnum(*p))
			return NULL;
	}
}

/* Components separated by '/', n bytes of s, nothing else. */
static bool
path_ok(const char *s, size_t n)
{
	char buf[PATH_MAX_LEN + 2];
	const char *p = buf;

	if (n == 0 || n > PATH_MAX_LEN)
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	for (;;) {
		if ((p = component_end(p)) == NULL)
			return false;
		if (*p == '\0')
			return true;
		if (*p++ != '/')
			return false;
	}
}

/* host[:port]: host is a DNS-like name or [ipv6]. */
static bool
domain_ok(const char *d)
{
	const char *p = d;

	if (*p == '[') {
		for (p++; hex_lower(*p) || (*p >= 'A' && *p <= 'F') ||
		    *p == ':'; p++)
			;
		if (p == d + 1 || *p++ != ']')
			return false;
	} else {
		for (;;) {	/* [A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])? */
			const char *start = p;
			if (!alnum(*p))
				return false;
			while (alnum(*p) || *p == '-')
				p++;
			if (p[-1] == '-' || p == start)
				return false;
			if (*p != '.')
				break;
			p++;
		}
	}
	if (*p == ':') {
		const char *port = ++p;
		while (*p >= '0' && *p <= '9')
			p++;
		if (p == port)
			return false;
	}
	return *p == '\0';
}

static bool
tag_ok(const char *t)
{
	size_t n = 0;

	for (; t[n] != '\0'; n++)
		if (!alnum(t[n]) && t[n] != '_' && (n == 0 || (t[n] != '.' &&
		    t[n] != '-')))
			return false;
	return n >= 1 && n <= 128;
}

/* The algorithms the CLI knows, with their exact lowercase hex length. */
static bool
digest_ok(const char *d)
{
	static const struct { const char *alg; size_t hex; } algs[] = {
		{ "sha256:", 64 }, { "sha384:", 96 }, { "sha512:", 128 },
	};

	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		size_t n = strlen(algs[i].alg), k = 0;
		if (strncmp(d, algs[i].alg, n) != 0)
			continue;
		while (hex_lower(d[n + k]))
			k++;
		return d[n + k] == '\0' && k == algs[i].hex;
	}
	return false;
}

/* splitDockerDomain: the first component is a registry when it has a
 * '.' or ':', is "localhost", or has an uppercase letter. */
static void
split_domain(struct compose_image_ref *r, const char *s, const char **rest)
{
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : 0;
	bool upper = false;

	for (size_t i = 0; i < n; i++)
		upper |= s[i] >= 'A' && s[i] <= 'Z';
	if (slash != NULL && (memchr(s, '.', n) || memchr(s, ':', n) ||
	    (n == 9 && strncmp(s, "localhost", 9) == 0) || upper) &&
	    n < sizeof(r->domain)) {
		snprintf(r->domain, sizeof(r->domain), "%.*s", (int)n, s);
		*rest = slash + 1;
		if (strcmp(r->domain, "index.docker.io") == 0)
			snprintf(r->domain, sizeof(r->domain), DEFAULT_DOMAIN);
	} else {
		snprintf(r->domain, sizeof(r->domain), DEFAULT_DOMAIN);
		*rest = s;
	}
}

int
compose_image_ref_parse(struct compose_image_ref *r, const char *s)
{
	const char *rest, *at, *colon, *p;
	size_t pathlen, n;
	bool hexid = strlen(s) == 64;

	memset(r, 0, sizeof(*r));
	for (p = s; hexid && *p != '\0'; p++)
		hexid = hex_lower(*p);
	if (hexid)	/* an image ID is not a name */
		return -1;
	split_domain(r, s, &rest);
	at = strchr(rest, '@');
	n = at ? (size_t)(at - rest) : strlen(rest);
	colon = memchr(rest, ':', n);
	pathlen = colon ? (size_t)(colon - rest) : n;
	if (at != NULL && (strlen(at + 1) >= sizeof(r->digest) ||
	    !digest_ok(at + 1)))
		return -1;
	if (colon != NULL) {
		if (n - pathlen - 1 >= sizeof(r->tag))
			return -1;
		snprintf(r->tag, sizeof(r->tag), "%.*s", (int)(n - pathlen - 1),
		    colon + 1);
		if (!tag_ok(r->tag))
			return -1;
	}
	if (at != NULL)
		snprintf(r->digest, sizeof(r->digest), "%s", at + 1);
	if (strcmp(r->domain, DEFAULT_DOMAIN) == 0 && memchr(rest, '/',
	    pathlen) == NULL)
		n = (size_t)snprintf(r->path, sizeof(r->path), OFFICIAL_PREFIX
		    "%.*s", (int)pathlen, rest);
	else
		n = (size_t)snprintf(r->path, sizeof(r->path), "%.*s",
		    (int)pathlen, rest);
	if (n >= sizeof(r->path) || !path_ok(r->path, n))
		return -1;
	if (domain_ok(r->domain))
		return 0;
	/* "my_reg.io/app": no registry after all, but a path component */
	char whole[sizeof(r->domain) + sizeof(r->path)];
	n = (size_t)snprintf(whole, sizeof(whole), "%s/%s", r->domain, r->path);
	if (!path_ok(whole, n))		/* also: at most 255 bytes */
		return -1;
	memcpy(r->path, whole, n + 1);
	r->domain[0] = '\0';
	return 0;
}

void
compose_image_ref_familiar(const struct compose_image_ref *r, char *out,
    size_t len)
{
	const char *path = r->path;
	bool hub = strcmp(r->domain, DEFAULT_DOMAIN) == 0;

	if (hub && strncmp(path, OFFICIAL_PREFIX, 8) == 0 &&
	    strchr(path + 8, '/') == NULL)
		path += 8;
	snprintf(out, len, "%s%s%s%s%s%s%s", hub ? "" : r->domain,
	    hub || r->domain[0] == '\0' ? "" : "/", path,
	    r->tag[0] || r->digest[0] ? "" : ":latest",
	    r->tag[0] ? ":" : "", r->tag, r->digest[0] ? "@" : "");
	if (r->digest[0] != '\0')
		snprintf(out + strlen(out), len - strlen(out), "%s", r->digest);
}

bool
compose_image_is_id(const char *image)
{
	size_t n = 0;

	while (hex_lower(image[n]))
		n++;
	return (n == 64 && image[n] == '\0') || digest_ok(image);
}

int
compose_image_normalize(const char *image, char *out, size_t len)
{
	struct compose_image_ref r;

	if (compose_image_ref_parse(&r, image) < 0) {
		snprintf(out, len, "%s", image);
		return -1;
	}
	compose_image_ref_familiar(&r, out, len);
	return 0;
}
