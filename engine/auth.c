/*
 * auth.c - registry credentials for X-Registry-Auth, from the "auths" of a
 * docker config.json.  Credential helpers (credsStore) are not consulted:
 * a daemon has no desktop keychain to ask.
 *
 * Every buffer that held a password is wiped before it is freed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "alloc.h"
#include "engine_int.h"

#define AUTH_FILE_MAX (1024u * 1024)
#define DOCKER_HUB "docker.io"

struct engine_auth {
	cJSON *auths;	/* the "auths" object, or NULL */
};

static void
wipe_free(char *p, size_t n)
{
	if (p == NULL)
		return;
	explicit_bzero(p, n);
	free(p);
}

static char *
default_path(void)
{
	const char *dir = getenv("DOCKER_CONFIG"), *home = getenv("HOME");
	const char *sub = "";
	size_t n;
	char *p;

	if (dir == NULL || *dir == '\0') {
		if (home == NULL || *home == '\0')
			return NULL;
		dir = home;
		sub = "/.docker";
	}
	n = strlen(dir) + strlen(sub) + sizeof("/config.json");
	p = xmalloc(n);
	snprintf(p, n, "%s%s/config.json", dir, sub);
	return p;
}

int
engine_auth_load(struct engine_auth **out, const char *path, struct err *err)
{
	struct engine_auth *a;
	struct buf data;
	char *defpath = NULL;
	cJSON *doc = NULL;
	int rc;

	*out = NULL;
	a = xcalloc(1, sizeof(*a));
	if (path == NULL && (path = defpath = default_path()) == NULL) {
		*out = a;	/* no home, no credentials */
		return 0;
	}
	buf_init(&data, AUTH_FILE_MAX);
	rc = buf_read_file(&data, path, "registry auth file", err);
	if (rc == ERR_NOTFOUND && defpath != NULL) {
		rc = 0;	/* no default config: no credentials */
		goto done;
	}
	if (rc < 0)
		goto done;
	if ((doc = cJSON_ParseWithLength(data.data ? data.data : "",
	    data.len)) == NULL || !cJSON_IsObject(doc)) {
		rc = err_set(err, ERR_INVALID, "registry auth file %s: not a "
		    "JSON object", path);
		goto done;
	}
	a->auths = cJSON_DetachItemFromObjectCaseSensitive(doc, "auths");
	if (a->auths != NULL && !cJSON_IsObject(a->auths))
		rc = err_set(err, ERR_INVALID, "registry auth file %s: "
		    "\"auths\" must be an object", path);
done:
	cJSON_Delete(doc);
	if (data.data != NULL)
		explicit_bzero(data.data, data.len);
	buf_free(&data);
	free(defpath);
	if (rc < 0) {
		engine_auth_free(a);
		return rc;
	}
	*out = a;
	return 0;
}

static void
wipe_json(cJSON *j)
{
	for (cJSON *c = j ? j->child : NULL; c != NULL; c = c->next) {
		if (cJSON_IsString(c) && c->valuestring != NULL)
			explicit_bzero(c->valuestring, strlen(c->valuestring));
		wipe_json(c);
	}
}

void
engine_auth_free(struct engine_auth *a)
{
	if (a == NULL)
		return;
	wipe_json(a->auths);
	cJSON_Delete(a->auths);
	free(a);
}

int
engine_image_registry(char *out, size_t outlen, const char *image)
{
	size_t n = strcspn(image, "/");
	int w;

	/* Docker's rule: the first path component names a registry only if
	 * it looks like a host (has a dot or a port) or is localhost. */
	if (image[n] == '/' && (memchr(image, '.', n) != NULL ||
	    memchr(image, ':', n) != NULL ||
	    (n == 9 && strncmp(image, "localhost", 9) == 0)))
		w = snprintf(out, outlen, "%.*s", (int)n, image);
	else
		w = snprintf(out, outlen, "%s", DOCKER_HUB);
	return w < 0 || (size_t)w >= outlen ? ERR_INVALID : 0;
}

/* The host of a config.json key: "https://index.docker.io/v1/" ->
 * "index.docker.io", as the docker CLI's ConvertToHostname does. */
static void
key_host(const char *key, char *out, size_t outlen)
{
	if (strncmp(key, "https://", 8) == 0)
		key += 8;
	else if (strncmp(key, "http://", 7) == 0)
		key += 7;
	snprintf(out, outlen, "%.*s", (int)strcspn(key, "/"), key);
}

static bool
host_matches(const char *keyhost, const char *registry)
{
	if (strcmp(keyhost, registry) == 0)
		return true;
	return strcmp(registry, DOCKER_HUB) == 0 &&
	    (strcmp(keyhost, "index.docker.io") == 0 ||
	    strcmp(keyhost, "registry-1.docker.io") == 0);
}

static const cJSON *
find_entry(const struct engine_auth *a, const char *registry)
{
	char host[256];
	const cJSON *c;

	if (a == NULL)
		return NULL;
	cJSON_ArrayForEach(c, a->auths) {
		key_host(c->string, host, sizeof(host));
		if (host_matches(host, registry))
			return c;
	}
	return NULL;
}

static const char *
entry_string(const cJSON *entry, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(entry, key);

	return cJSON_IsString(v) && *v->valuestring ? v->valuestring : NULL;
}

/* Decode "user:pass" from the entry's "auth" field into user and pass. */
static int
decode_auth(const char *b64, char **user, char **pass)
{
	size_t len = strlen(b64), cap = len / 4 * 3 + 4;
	unsigned char *raw;
	char *colon;
	int n;

	if (len == 0 || len % 4 != 0)
		return ERR_INVALID;
	raw = xcalloc(1, cap);
	n = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)len);
	if (n < 0) {
		wipe_free((char *)raw, cap);
		return ERR_INVALID;
	}
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	while (len > 0 && b64[--len] == '=')
		n--;
	raw[n] = '\0';
	colon = strchr((char *)raw, ':');
	if (colon == NULL || (size_t)n != strlen((char *)raw)) {
		wipe_free((char *)raw, cap);
		return ERR_INVALID;
	}
	*colon = '\0';
	*user = xstrdup((char *)raw);
	*pass = xstrdup(colon + 1);
	wipe_free((char *)raw, cap);
	return 0;
}

/* base64url with padding, like Go's base64.URLEncoding. */
static char *
base64url(const char *s)
{
	size_t len = strlen(s), cap = (len + 2) / 3 * 4 + 1;
	char *out = xmalloc(cap);

	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s,
	    (int)len);
	for (char *p = out; *p; p++) {
		if (*p == '+')
			*p = '-';
		else if (*p == '/')
			*p = '_';
	}
	return out;
}

/* The JSON body of the header, keys in the order of the docker CLI's
 * AuthConfig struct so the encoding is byte-identical to docker's. */
static char *
auth_json(const cJSON *entry, const char *user, const char *pass)
{
	const char *token = entry_string(entry, "identitytoken");
	const char *regtoken = entry_string(entry, "registrytoken");
	cJSON *j = cJSON_CreateObject();
	char *s;

	if (user != NULL)
		cJSON_AddStringToObject(j, "username", user);
	if (pass != NULL)
		cJSON_AddStringToObject(j, "password", pass);
	cJSON_AddStringToObject(j, "serveraddress", entry->string);
	if (token != NULL)
		cJSON_AddStringToObject(j, "identitytoken", token);
	if (regtoken != NULL)
		cJSON_AddStringToObject(j, "registrytoken", regtoken);
	s = cJSON_PrintUnformatted(j);
	wipe_json(j);
	cJSON_Delete(j);
	return s;
}

int
engine_auth_header(char **out, const struct engine_auth *a,
    const char *image, struct err *err)
{
	char registry[256], *user = NULL, *pass = NULL, *json = NULL;
	const cJSON *entry;
	const char *b64;
	int rc = 0;

	*out = NULL;
	if (engine_image_registry(registry, sizeof(registry), image) < 0)
		return err_set(err, ERR_INVALID, "image \"%.200s\": registry "
		    "name too long", image);
	if ((entry = find_entry(a, registry)) == NULL)
		return 0;
	if ((b64 = entry_string(entry, "auth")) != NULL) {
		if ((rc = decode_auth(b64, &user, &pass)) < 0) {
			/* Say which entry, never what it holds. */
			rc = err_set(err, ERR_INVALID, "registry auth for %s: "
			    "\"auth\" is not base64 of user:password",
			    entry->string);
			goto out;
		}
	} else if (entry_string(entry, "identitytoken") == NULL &&
	    entry_string(entry, "registrytoken") == NULL)
		goto out;	/* an empty entry, as credsStore users have */
	json = auth_json(entry, user, pass);
	*out = base64url(json);
out:
	if (user)
		wipe_free(user, strlen(user));
	if (pass)
		wipe_free(pass, strlen(pass));
	if (json)
		wipe_free(json, strlen(json));
	return rc;
}
