/*
 * crypto.c - the primitives age and SOPS use, over OpenSSL 3: HKDF-SHA256,
 * X25519, ChaCha20-Poly1305, AES-256-GCM with SOPS's 32-byte IV and
 * HMAC-SHA256.  Each returns 0, or -1 when a tag does not verify or the
 * input is refused; an allocation OpenSSL cannot make ends the process.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "alloc.h"
#include "sops_int.h"

int
sops_hkdf(const unsigned char *ikm, size_t ikmlen, const unsigned char *salt,
    size_t saltlen, const char *info, unsigned char *out, size_t outlen)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *ctx;
	OSSL_PARAM p[5];
	int rc;

	if (kdf == NULL || (ctx = EVP_KDF_CTX_new(kdf)) == NULL)
		alloc_fail();
	EVP_KDF_free(kdf);
	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    (char *)(uintptr_t)"SHA256", 0);
	p[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	    (void *)(uintptr_t)ikm, ikmlen);
	/* An empty salt must still be given: HKDF then uses zeros. */
	p[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
	    (void *)(uintptr_t)(salt ? salt : (const unsigned char *)""),
	    saltlen);
	p[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
	    (void *)(uintptr_t)info, strlen(info));
	p[4] = OSSL_PARAM_construct_end();
	rc = EVP_KDF_derive(ctx, out, outlen, p) == 1 ? 0 : -1;
	EVP_KDF_CTX_free(ctx);
	return rc;
}

static EVP_PKEY *
x25519_key(const unsigned char raw[32], bool private)
{
	EVP_PKEY *k = private ?
	    EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, raw, 32) :
	    EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, raw, 32);

	if (k == NULL)
		alloc_fail();
	return k;
}

int
sops_x25519_public(const unsigned char sk[32], unsigned char pk[32])
{
	EVP_PKEY *k = x25519_key(sk, true);
	size_t len = 32;
	int rc = EVP_PKEY_get_raw_public_key(k, pk, &len) == 1 && len == 32 ?
	    0 : -1;

	EVP_PKEY_free(k);
	return rc;
}

/* OpenSSL's derive refuses an all-zero shared secret, which is the check
 * age requires against low-order shares. */
int
sops_x25519(const unsigned char sk[32], const unsigned char peer[32],
    unsigned char out[32])
{
	EVP_PKEY *k = x25519_key(sk, true), *p = x25519_key(peer, false);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(k, NULL);
	size_t len = 32;
	int rc = -1;

	if (ctx == NULL)
		alloc_fail();
	if (EVP_PKEY_derive_init(ctx) == 1 &&
	    EVP_PKEY_derive_set_peer(ctx, p) == 1 &&
	    EVP_PKEY_derive(ctx, out, &len) == 1 && len == 32)
		rc = 0;
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(p);
	EVP_PKEY_free(k);
	return rc;
}

/* One AEAD open: the cipher set up by the caller's init, then the AAD,
 * the data and the tag. */
static int
aead_finish(EVP_CIPHER_CTX *c, const unsigned char *aad, size_t aadlen,
    const unsigned char *ct, size_t ctlen, const unsigned char *tag,
    unsigned char *out)
{
	int n, rc = -1;

	if ((aadlen == 0 || EVP_DecryptUpdate(c, NULL, &n, aad,
	    (int)aadlen) == 1) &&
	    EVP_DecryptUpdate(c, out, &n, ct, (int)ctlen) == 1 &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, 16,
	    (void *)(uintptr_t)tag) == 1 &&
	    EVP_DecryptFinal_ex(c, out + n, &n) == 1)
		rc = 0;
	EVP_CIPHER_CTX_free(c);
	if (rc < 0)
		OPENSSL_cleanse(out, ctlen);
	return rc;
}

static EVP_CIPHER_CTX *
cipher_ctx(void)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();

	if (c == NULL)
		alloc_fail();
	return c;
}

int
sops_chacha_open(const unsigned char key[32], const unsigned char nonce[12],
    const unsigned char *in, size_t inlen, unsigned char *out)
{
	EVP_CIPHER_CTX *c;

	if (inlen < 16 || inlen - 16 > INT32_MAX)
		return -1;
	c = cipher_ctx();
	if (EVP_DecryptInit_ex2(c, EVP_chacha20_poly1305(), key, nonce,
	    NULL) != 1) {
		EVP_CIPHER_CTX_free(c);
		return -1;
	}
	return aead_finish(c, NULL, 0, in, inlen - 16, in + inlen - 16, out);
}

int
sops_gcm_open(const unsigned char key[32], const unsigned char iv[32],
    const unsigned char *ct, size_t ctlen, const unsigned char tag[16],
    const char *aad, size_t aadlen, unsigned char *out)
{
	EVP_CIPHER_CTX *c;
	size_t ivlen = 32;
	OSSL_PARAM p[2] = {
		OSSL_PARAM_construct_size_t(OSSL_CIPHER_PARAM_AEAD_IVLEN,
		    &ivlen),
		OSSL_PARAM_construct_end(),
	};

	if (ctlen > INT32_MAX || aadlen > INT32_MAX)
		return -1;
	c = cipher_ctx();
	/* The IV length goes in before the IV. */
	if (EVP_DecryptInit_ex2(c, EVP_aes_256_gcm(), NULL, NULL, p) != 1 ||
	    EVP_DecryptInit_ex2(c, NULL, key, iv, NULL) != 1) {
		EVP_CIPHER_CTX_free(c);
		return -1;
	}
	return aead_finish(c, (const unsigned char *)aad, aadlen, ct, ctlen,
	    tag, out);
}

int
sops_hmac_sha256(const unsigned char *key, size_t keylen,
    const unsigned char *msg, size_t len, unsigned char out[32])
{
	size_t outlen = 0;

	return EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, keylen, msg,
	    len, out, 32, &outlen) != NULL && outlen == 32 ? 0 : -1;
}

void
sops_keyed_hash(const unsigned char key[32], const void *data, size_t len,
    char hex[65])
{
	unsigned char mac[32];

	if (sops_hmac_sha256(key, 32, data, len, mac) < 0)
		alloc_fail();
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
}
