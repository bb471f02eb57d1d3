/*
 * Unit tests: age v1 decryption against the C2SP/CCTV test kit
 * (tests/data/sops/age-testkit, copied from ../shared/sops), every vector
 * with an identity: its outcome and the SHA-256 of what it releases must
 * agree.  Passphrase vectors are refused as unsupported (stackd takes
 * identities only), and so may be the post-quantum (hybrid) ones.
 */
#include <dirent.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <zlib.h>

#include <openssl/evp.h>

#include "sops.h"

#define KIT SRCDIR "/tests/data/sops/age-testkit"

struct vector {
	char expect[256], payload[256], identity[8][256], passphrase[256];
	int nidentity;
	bool armored, zlib;
	unsigned char *body;
	size_t len;
};

static unsigned char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *p = NULL;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	p = malloc((size_t)n + 1);
	assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return p;
}

static void
inflate_body(struct vector *v)
{
	uLongf cap = 32u << 20;
	unsigned char *out = malloc(cap);

	assert_int_equal(uncompress(out, &cap, v->body, v->len), Z_OK);
	free(v->body);
	v->body = out;
	v->len = cap;
}

/* "key: value" lines, a blank line, then the age file. */
static void
vector_read(struct vector *v, const char *name)
{
	char path[512];
	unsigned char *raw, *p, *nl;
	size_t len;

	memset(v, 0, sizeof(*v));
	snprintf(path, sizeof(path), "%s/%s", KIT, name);
	raw = slurp(path, &len);
	for (p = raw; (nl = memchr(p, '\n', len - (size_t)(p - raw))) != NULL;
	    p = nl + 1) {
		char line[256];
		size_t n = (size_t)(nl - p);

		if (n == 0) {
			p = nl + 1;
			break;
		}
		snprintf(line, sizeof(line), "%.*s", (int)n, (char *)p);
		if (strncmp(line, "expect: ", 8) == 0)
			snprintf(v->expect, sizeof(v->expect), "%s", line + 8);
		else if (strncmp(line, "payload: ", 9) == 0)
			snprintf(v->payload, sizeof(v->payload), "%s", line + 9);
		else if (strncmp(line, "identity: ", 10) == 0 &&
		    v->nidentity < 8)
			snprintf(v->identity[v->nidentity++], 256, "%s",
			    line + 10);
		else if (strncmp(line, "passphrase: ", 12) == 0)
			snprintf(v->passphrase, sizeof(v->passphrase), "%s",
			    line + 12);
		else if (strcmp(line, "armored: yes") == 0)
			v->armored = true;
		else if (strcmp(line, "compressed: zlib") == 0)
			v->zlib = true;
	}
	v->len = len - (size_t)(p - raw);
	v->body = malloc(v->len + 1);
	memcpy(v->body, p, v->len);
	free(raw);
	if (v->zlib)
		inflate_body(v);
}

static const char *
fault_name(enum sops_age_fault f)
{
	switch (f) {
	case SOPS_AGE_OK: return "success";
	case SOPS_AGE_NO_MATCH: return "no match";
	case SOPS_AGE_ARMOR: return "armor failure";
	case SOPS_AGE_HEADER: return "header failure";
	case SOPS_AGE_HMAC: return "HMAC failure";
	case SOPS_AGE_PAYLOAD: return "payload failure";
	case SOPS_AGE_UNSUPPORTED: return "unsupported";
	}
	return "?";
}

static void
sha256_hex(const char *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int n;

	EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* One vector: 0 agreed, 1 refused as allowed (passphrase, hybrid). */
static int
run_vector(const char *name, int *failed)
{
	struct vector v;
	struct sops_keys *k = sops_keys_new();
	enum sops_age_fault f = SOPS_AGE_OK;
	struct buf out;
	struct err err = { 0 };
	char hex[65];
	const char *got;
	int rc = 0;

	vector_read(&v, name);
	for (int i = 0; i < v.nidentity; i++)
		assert_int_equal(sops_keys_add_text(k, v.identity[i],
		    strlen(v.identity[i]), name, &err), 0);
	buf_init(&out, 64u << 20);
	(void)sops_age_decrypt(k, v.body, v.len, &out, NULL, &f, &err);
	got = fault_name(f);
	if (f == SOPS_AGE_UNSUPPORTED && (v.passphrase[0] != '\0' ||
	    strncmp(name, "hybrid", 6) == 0 ||
	    strncmp(name, "armor_hybrid", 12) == 0))
		rc = 1;
	else if (f == SOPS_AGE_NO_MATCH && sops_keys_count(k) == 0 &&
	    (v.passphrase[0] != '\0' || strstr(name, "hybrid") != NULL))
		rc = 1;	/* only a PQ identity, not kept */
	else if (strcmp(got, v.expect) != 0) {
		print_message("%s: expected %s, got %s (%s)\n", name, v.expect,
		    got, err.msg);
		(*failed)++;
	} else if (f == SOPS_AGE_OK) {
		sha256_hex(out.data ? out.data : "", out.len, hex);
		if (strcmp(hex, v.payload) != 0) {
			print_message("%s: payload %s, want %s\n", name, hex,
			    v.payload);
			(*failed)++;
		}
	}
	buf_free(&out);
	free(v.body);
	sops_keys_free(k);
	return rc;
}

static void
test_testkit(void **state)
{
	DIR *d = opendir(KIT);
	struct dirent *de;
	int n = 0, skipped = 0, failed = 0;

	(void)state;
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		skipped += run_vector(de->d_name, &failed);
		n++;
	}
	closedir(d);
	print_message("age test kit: %d vectors, %d agree, %d refused as "
	    "unsupported, %d disagree\n", n, n - skipped - failed, skipped,
	    failed);
	assert_int_equal(n, 143);
	assert_int_equal(failed, 0);
	/* 25 + 2 passphrase vectors, 19 hybrid at most. */
	assert_true(skipped <= 46);
}

/* The recipient printed next to an identity by age-keygen. */
static void
test_identity_recipient(void **state)
{
	struct sops_keys *k = sops_keys_new();
	struct err err;
	char r[SOPS_RECIPIENT_LEN + 1];
	const char *file = "# created: 2024-11-12\n"
	    "# public key: age1l44xcng8dqj32nlv6d930qvvrny05hglzcv9qpc7kxjc6902ma4qufys29\n"
	    "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0\n";

	(void)state;
	assert_int_equal(sops_keys_add_text(k, file, strlen(file), "test",
	    &err), 0);
	assert_int_equal(sops_keys_count(k), 1);
	sops_keys_recipient(k, 0, r);
	assert_int_equal(strlen(r), SOPS_RECIPIENT_LEN);
	assert_int_equal(strncmp(r, "age1", 4), 0);
	/* A flipped character breaks the checksum; the message names the
	 * line, never the key. */
	assert_true(sops_keys_add_text(k, "AGE-SECRET-KEY-1EGTZVFFV20835NWYV"
	    "6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM1", 74, "SOPS_AGE_KEY",
	    &err) < 0);
	assert_non_null(strstr(err.msg, "SOPS_AGE_KEY, line 1"));
	assert_null(strstr(err.msg, "AGE-SECRET-KEY-1EGTZ"));
	sops_keys_free(k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_testkit),
		cmocka_unit_test(test_identity_recipient),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
