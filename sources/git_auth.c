/*
 * git_auth.c - credentials, host keys and deadlines of one git fetch.
 *
 * Secrets are read from their files at each fetch (so a rotated token is
 * picked up without a restart), handed to libgit2 and wiped.  A callback
 * that gives up writes the reason into the call record: libgit2's own
 * message for a refused callback says nothing a user can act on.
 */
#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "alloc.h"
#include "clock.h"
#include "git_int.h"
#include "secret.h"

/* The secret from file, else from env; NULL and why set when it cannot be
 * had.  The caller frees it with secret_free. */
static char *
read_secret(struct git_call *c, const char *file, const char *env,
    const char *what)
{
	struct err err;
	char *s = NULL;

	if ((file != NULL ? secret_read_file(&s, file, what, &err) :
	    secret_read_env(&s, env, what, &err)) < 0)
		snprintf(c->why, sizeof(c->why), "%s", err.msg);
	return s;
}

static int
ssh_credential(git_credential **out, struct git_call *c, const char *user)
{
	char *pass = NULL;
	int rc;

	if (c->ssh_key == NULL)
		return git_credential_ssh_key_from_agent(out, user);
	if (c->ssh_passphrase_file != NULL &&
	    (pass = read_secret(c, c->ssh_passphrase_file, NULL,
	    "passphrase")) == NULL)
		return GIT_EUSER;
	rc = git_credential_ssh_key_new(out, user, NULL, c->ssh_key, pass);
	secret_free(pass);
	return rc;
}

int
sources_git_credentials(git_credential **out, const char *url,
    const char *username_from_url, unsigned int allowed, void *payload)
{
	struct git_call *c = payload;
	const char *user = username_from_url && *username_from_url ?
	    username_from_url : c->username ? c->username : "git";
	char *token;
	int rc;

	(void)url;
	/* libgit2 asks again after a refusal, for ever: one try. */
	if (++c->attempts > 1) {
		snprintf(c->why, sizeof(c->why), "authentication failed as "
		    "\"%s\" (check the %s)", user, allowed &
		    GIT_CREDENTIAL_SSH_KEY ? "key" : "token");
		return GIT_EUSER;
	}
	if (allowed & GIT_CREDENTIAL_SSH_KEY)
		return ssh_credential(out, c, user);
	if (allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) {
		if (c->token_file == NULL && c->token_env == NULL) {
			snprintf(c->why, sizeof(c->why), "the server asks for "
			    "credentials: set a token_file (or token_env)");
			return GIT_EUSER;
		}
		if ((token = read_secret(c, c->token_file, c->token_env,
		    "token")) == NULL)
			return GIT_EUSER;
		rc = git_credential_userpass_plaintext_new(out, user, token);
		secret_free(token);
		return rc;
	}
	if (allowed & GIT_CREDENTIAL_USERNAME)
		return git_credential_username_new(out, user);
	snprintf(c->why, sizeof(c->why), "the server wants a kind of "
	    "credential stackd does not offer");
	return GIT_EUSER;
}

/*
 * A server certificate against the source's own CA file, as curl's
 * --cacert: then only those CAs count, whatever the system trusts.
 * libgit2 hands over the server's certificate alone, so an intermediate
 * CA must be in the file too.
 */
static int
tls_check(struct git_call *c, const git_cert_x509 *x, const char *host)
{
	const unsigned char *der = x->data;
	X509 *leaf = d2i_X509(NULL, &der, (long)x->len);
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int rc = GIT_ECERTIFICATE;

	if (leaf == NULL || store == NULL || ctx == NULL) {
		snprintf(c->why, sizeof(c->why), "the TLS certificate of %s "
		    "cannot be read", host);
	} else if (X509_STORE_load_file(store, c->ca_file) != 1) {
		snprintf(c->why, sizeof(c->why), "ca_file %s: no CA "
		    "certificate could be read from it (PEM wanted)",
		    c->ca_file);
	} else if (X509_STORE_CTX_init(ctx, store, leaf, NULL) != 1 ||
	    X509_verify_cert(ctx) != 1) {
		snprintf(c->why, sizeof(c->why), "the TLS certificate of %s "
		    "is not trusted by %s (%s)", host, c->ca_file,
		    X509_verify_cert_error_string(X509_STORE_CTX_get_error(
		    ctx)));
	} else if (X509_check_ip_asc(leaf, host, 0) != 1 &&
	    X509_check_host(leaf, host, 0, 0, NULL) != 1) {
		snprintf(c->why, sizeof(c->why), "the TLS certificate of %s "
		    "is for another host name", host);
	} else {
		rc = 0;
	}
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	X509_free(leaf);
	return rc;
}

int
sources_git_certificate(git_cert *cert, int valid, const char *host,
    void *payload)
{
	struct git_call *c = payload;
	const git_cert_hostkey *hk = (const git_cert_hostkey *)cert;
	int rc;

	(void)valid;
	/* Without a CA file, libgit2 verified a TLS certificate against the
	 * system CAs already; ssh without a configured file: libgit2 checks
	 * ~/.ssh/known_hosts itself. */
	if (cert->cert_type == GIT_CERT_X509 && c->ca_file != NULL)
		return tls_check(c, (const git_cert_x509 *)cert, host);
	if (cert->cert_type != GIT_CERT_HOSTKEY_LIBSSH2 ||
	    c->known_hosts == NULL)
		return GIT_PASSTHROUGH;
	if (!(hk->type & GIT_CERT_SSH_RAW)) {
		snprintf(c->why, sizeof(c->why), "the ssh host key of %s is "
		    "not available to check", host);
		return GIT_ECERTIFICATE;
	}
	rc = sources_known_hosts_check(c->known_hosts, host, c->port,
	    (const unsigned char *)hk->hostkey, hk->hostkey_len);
	if (rc == 1)
		return 0;
	if (rc == 0)
		snprintf(c->why, sizeof(c->why), "host %s is not in %s (add "
		    "it with: ssh-keyscan%s%.0d %s >> %s)", host,
		    c->known_hosts, c->port != 22 ? " -p " : "",
		    c->port != 22 ? c->port : 0, host, c->known_hosts);
	else
		snprintf(c->why, sizeof(c->why), "the ssh host key of %s does "
		    "not match %s: refusing to connect (the key changed, or "
		    "someone is in between)", host, c->known_hosts);
	return GIT_ECERTIFICATE;
}

static int
keep_going(struct git_call *c)
{
	if (c->cancel != NULL && *c->cancel) {
		snprintf(c->why, sizeof(c->why), "fetch cancelled");
		return -1;
	}
	if (c->deadline > 0 && clock_mono_ms() > c->deadline) {
		snprintf(c->why, sizeof(c->why), "fetch timed out");
		return -1;
	}
	return 0;
}

int
sources_git_transfer(const git_indexer_progress *stats, void *payload)
{
	(void)stats;
	return keep_going(payload);
}

int
sources_git_sideband(const char *str, int len, void *payload)
{
	(void)str;
	(void)len;
	return keep_going(payload);
}

/*
 * known_hosts.
 */

/* "|1|salt|hash": HMAC-SHA1(salt, name) == hash. */
static bool
hashed_match(const char *pattern, const char *name)
{
	unsigned char salt[64], hash[64], md[EVP_MAX_MD_SIZE];
	char s64[128], h64[128];
	unsigned int mdlen = 0;
	const char *bar;
	int sl, hl;

	if (strncmp(pattern, "|1|", 3) != 0 ||
	    (bar = strchr(pattern + 3, '|')) == NULL ||
	    (size_t)(bar - pattern - 3) >= sizeof(s64) ||
	    strlen(bar + 1) >= sizeof(h64))
		return false;
	memcpy(s64, pattern + 3, (size_t)(bar - pattern - 3));
	s64[bar - pattern - 3] = '\0';
	snprintf(h64, sizeof(h64), "%s", bar + 1);
	if ((sl = EVP_DecodeBlock(salt, (unsigned char *)s64,
	    (int)strlen(s64))) < 20 ||
	    (hl = EVP_DecodeBlock(hash, (unsigned char *)h64,
	    (int)strlen(h64))) < 20)
		return false;
	/* Base64 padding decodes to trailing zero bytes: SHA-1 is 20. */
	if (HMAC(EVP_sha1(), salt, 20, (const unsigned char *)name,
	    strlen(name), md, &mdlen) == NULL || mdlen != 20)
		return false;
	return CRYPTO_memcmp(md, hash, 20) == 0;
}

/* known_hosts patterns: '*' and '?' only ("[host]:port" is literal). */
static bool
wild_match(const char *p, const char *s)
{
	if (*p == '\0')
		return *s == '\0';
	if (*p == '*')
		return wild_match(p + 1, s) || (*s != '\0' && wild_match(p, s + 1));
	if (*s == '\0')
		return false;
	if (*p == '?' || tolower((unsigned char)*p) == *s)
		return wild_match(p + 1, s + 1);
	return false;
}

/* Does the comma-separated host field name this host?  A "!pattern"
 * that matches rules the line out. */
static bool
hosts_match(char *field, const char *name)
{
	bool hit = false;

	for (char *save = NULL, *p = strtok_r(field, ",", &save); p != NULL;
	    p = strtok_r(NULL, ",", &save)) {
		bool neg = *p == '!';
		bool m = hashed_match(p + neg, name) ||
		    wild_match(p + neg, name);

		if (m && neg)
			return false;
		hit = hit || m;
	}
	return hit;
}

static bool
key_equal(const char *b64, const unsigned char *key, size_t keylen)
{
	size_t len = strlen(b64);
	unsigned char *raw = xmalloc(len);
	int n;
	bool eq = false;

	n = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)len);
	/* Padding adds up to two zero bytes to what EVP_DecodeBlock says. */
	if (len > 0 && b64[len - 1] == '=')
		n -= len > 1 && b64[len - 2] == '=' ? 2 : 1;
	eq = n >= 0 && (size_t)n == keylen && CRYPTO_memcmp(raw, key,
	    keylen) == 0;
	free(raw);
	return eq;
}

/* Is the key blob (ssh wire format: a length-prefixed type name first)
 * of this type? */
static bool
key_type_is(const unsigned char *key, size_t keylen, const char *type)
{
	size_t n;

	if (keylen < 4)
		return false;
	n = (size_t)key[0] << 24 | (size_t)key[1] << 16 | (size_t)key[2] << 8 |
	    key[3];
	return n <= keylen - 4 && n == strlen(type) &&
	    memcmp(key + 4, type, n) == 0;
}

int
sources_known_hosts_check(const char *file, const char *host, int port,
    const unsigned char *key, size_t keylen)
{
	char line[8192], name[300];
	bool match = false, other = false, revoked = false;
	FILE *f;

	if (port > 0 && port != 22)
		snprintf(name, sizeof(name), "[%s]:%d", host, port);
	else
		snprintf(name, sizeof(name), "%s", host);
	/* ssh-keygen writes host names in lower case. */
	for (char *p = name; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	if ((f = fopen(file, "re")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *save = NULL, *marker = NULL, *hosts, *type, *b64;

		if ((hosts = strtok_r(line, " \t\r\n", &save)) == NULL ||
		    *hosts == '#')
			continue;
		if (*hosts == '@') {
			marker = hosts;
			hosts = strtok_r(NULL, " \t\r\n", &save);
		}
		if (hosts == NULL ||
		    (type = strtok_r(NULL, " \t\r\n", &save)) == NULL ||
		    (b64 = strtok_r(NULL, " \t\r\n", &save)) == NULL ||
		    !hosts_match(hosts, name))
			continue;
		if (marker != NULL) {
			/* Certificate authorities are not supported: such a
			 * line neither admits nor refuses. */
			if (strcmp(marker, "@revoked") == 0 &&
			    key_equal(b64, key, keylen))
				revoked = true;
			continue;
		}
		if (key_equal(b64, key, keylen))
			match = true;
		else if (key_type_is(key, keylen, type))
			other = true;	/* same kind of key, another key */
	}
	fclose(f);
	if (revoked)
		return -1;
	return match ? 1 : other ? -1 : 0;
}
