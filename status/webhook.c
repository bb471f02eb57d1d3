/*
 * webhook.c - is this POST a genuine push notification (status.h)?
 *
 * Only the signature (or token) decides: the body is never parsed.  A
 * push of any branch triggers a fetch, and a fetch that finds nothing new
 * costs one round trip, so there is nothing to gain from trusting the
 * ref named in a body, and less code reading attacker input.
 */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "status.h"


static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* hex is the HMAC-SHA256 of body under secret. */
static bool
hmac_matches(const char *secret, const char *body, size_t len,
    const char *hex)
{
	unsigned char want[32], got[EVP_MAX_MD_SIZE];
	unsigned int glen = 0;

	if (strlen(hex) != 2 * sizeof(want))
		return false;
	for (size_t i = 0; i < sizeof(want); i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		want[i] = (unsigned char)(hi << 4 | lo);
	}
	if (HMAC(EVP_sha256(), secret, (int)strlen(secret),
	    (const unsigned char *)body, len, got, &glen) == NULL ||
	    glen != sizeof(want))
		return false;
	return CRYPTO_memcmp(want, got, sizeof(want)) == 0;
}

/* GitLab sends the secret itself: compare digests, so neither the
 * content nor the length of the secret shows in the time taken. */
static bool
token_matches(const char *secret, const char *token)
{
	unsigned char a[EVP_MAX_MD_SIZE], b[EVP_MAX_MD_SIZE];
	unsigned int alen = 0, blen = 0;

	if (EVP_Digest(secret, strlen(secret), a, &alen, EVP_sha256(),
	    NULL) != 1 || EVP_Digest(token, strlen(token), b, &blen,
	    EVP_sha256(), NULL) != 1)
		return false;
	return alen == blen && CRYPTO_memcmp(a, b, alen) == 0;
}

static const char *
first_of(const char *(*get)(const char *, void *), void *payload,
    const char *a, const char *b, const char *c)
{
	const char *v = get(a, payload);

	if (v == NULL && b != NULL)
		v = get(b, payload);
	if (v == NULL && c != NULL)
		v = get(c, payload);
	return v;
}

enum ctl_hook_verdict
ctl_webhook_check(const char *secret, const char *body, size_t len,
    const char *(*get)(const char *name, void *payload), void *payload,
    const char **event)
{
	const char *sig, *ev;
	bool ok;

	*event = NULL;
	/* GitHub; Gitea and Forgejo send this one as well. */
	if ((sig = get("X-Hub-Signature-256", payload)) != NULL) {
		ok = strncmp(sig, "sha256=", 7) == 0 &&
		    hmac_matches(secret, body, len, sig + 7);
		ev = first_of(get, payload, "X-GitHub-Event", "X-Gitea-Event",
		    "X-Forgejo-Event");
	} else if ((sig = first_of(get, payload, "X-Gitea-Signature",
	    "X-Forgejo-Signature", NULL)) != NULL) {
		ok = hmac_matches(secret, body, len, sig);
		ev = first_of(get, payload, "X-Gitea-Event", "X-Forgejo-Event",
		    NULL);
	} else if ((sig = get("X-Gitlab-Token", payload)) != NULL) {
		ok = token_matches(secret, sig);
		ev = get("X-Gitlab-Event", payload);
	} else {
		return CTL_HOOK_UNSIGNED;
	}
	if (!ok)
		return CTL_HOOK_BAD_SIGNATURE;
	if (ev == NULL)
		return CTL_HOOK_BAD_REQUEST;
	*event = ev;
	if (strcmp(ev, "push") == 0 || strcmp(ev, "Push Hook") == 0 ||
	    strcmp(ev, "Tag Push Hook") == 0)
		return CTL_HOOK_PUSH;
	return CTL_HOOK_IGNORED;
}
