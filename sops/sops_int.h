/*
 * sops_int.h - what the files of sops/ share: the identities' layout, the
 * primitives over OpenSSL, and the pieces of the SOPS format.
 */
#ifndef STACKD_SOPS_INT_H
#define STACKD_SOPS_INT_H

#include <stdint.h>

#include "sops.h"

struct sops_identity {
	unsigned char sk[32];
	unsigned char pk[32];
};

struct sops_keys {
	struct sops_identity *ids;	/* one locked page, not dumped */
	size_t n;
	size_t skipped;		/* post-quantum, plugin: not supported */
};

/* --- primitives (crypto.c) ------------------------------------------ */

/* HKDF-SHA256 into out (outlen bytes); salt may be empty. */
int sops_hkdf(const unsigned char *ikm, size_t ikmlen,
    const unsigned char *salt, size_t saltlen, const char *info,
    unsigned char *out, size_t outlen);
/* X25519(sk, peer); -1 when the result is all zero (a low-order peer). */
int sops_x25519(const unsigned char sk[32], const unsigned char peer[32],
    unsigned char out[32]);
int sops_x25519_public(const unsigned char sk[32], unsigned char pk[32]);
/* ChaCha20-Poly1305 open: in is ciphertext || 16-byte tag; -1 when the
 * tag does not verify.  out has inlen - 16 bytes. */
int sops_chacha_open(const unsigned char key[32], const unsigned char
    nonce[12], const unsigned char *in, size_t inlen, unsigned char *out);
/* AES-256-GCM open with a 32-byte IV, as SOPS writes it. */
int sops_gcm_open(const unsigned char key[32], const unsigned char iv[32],
    const unsigned char *ct, size_t ctlen, const unsigned char tag[16],
    const char *aad, size_t aadlen, unsigned char *out);
int sops_hmac_sha256(const unsigned char *key, size_t keylen,
    const unsigned char *msg, size_t len, unsigned char out[32]);

#endif
