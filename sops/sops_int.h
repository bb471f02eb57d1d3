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
	char *problem;		/* sops_keys_note */
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

/* --- the SOPS format (sops_meta.c) ------------------------------------ */

#include <regex.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#define SOPS_PATH_MAX 64	/* keys from the root to a leaf */
#define SOPS_VALUE_MAX (4u * 1024 * 1024)

enum sops_rule { RULE_UNENC_SUFFIX, RULE_ENC_SUFFIX, RULE_UNENC_REGEX,
    RULE_ENC_REGEX };

/* One file's decryption: the data key, the rule that says which values
 * are encrypted, and the running MAC. */
struct sops_run {
	const char *file;	/* for messages */
	struct err *err;
	unsigned char key[32];
	unsigned char name_key[32];	/* keys object names (sops.h) */
	enum sops_rule rule;
	char *rule_arg;
	regex_t re;
	bool re_set;
	bool mac_only_encrypted;
	EVP_MD_CTX *mac;
	char *mac_enc;		/* sops.mac, lastmodified: checked at the end */
	char *lastmodified;
};

/* A leaf: its path (mapping keys from the root), the text as written
 * and whether the store types it as a string. */
struct sops_leaf {
	const char *const *keys;
	size_t nkeys;
	const char *text;
	size_t len;
	bool string;
	/* What the MAC takes for an unencrypted leaf (ToBytes of its typed
	 * value); NULL: the text. */
	const char *mac_bytes;
	size_t mac_len;
};

/* Set up from the sops metadata (as JSON): the data key unwrapped from an
 * age stanza, the rule, the MAC.  Messages name r->file. */
int sops_run_begin(struct sops_run *r, const struct sops_keys *k,
    const cJSON *meta);
/* Decrypt or pass one leaf: *plain is set for an encrypted one (its
 * plaintext, owned by the caller, wipe it) with its type ("str", "int",
 * "float", "bool", "time"); NULL for a value that stays as it is. */
int sops_run_leaf(struct sops_run *r, const struct sops_leaf *l,
    struct buf *plain, char type[8], bool *encrypted);
/* The MAC over every leaf seen, against sops.mac. */
int sops_run_end(struct sops_run *r);
void sops_run_release(struct sops_run *r);
/* "a:b:" from keys, into out (PATH_MAX). */
void sops_path_join(char *out, size_t size, const char *const *keys,
    size_t n);

/* --- YAML plain scalars as sops's go-yaml types them (sops_scalar.c) -- */

enum sops_scalar { SCALAR_NULL, SCALAR_STRING, SCALAR_TYPED };

/* What an unencrypted plain scalar contributes to the MAC: nothing
 * (null), its text (a string), or into out its typed value rendered as
 * Go's sops renders it (True, 31 for 0x1F, 1000 for 1e3, RFC 3339 for a
 * date). */
enum sops_scalar sops_scalar_type(const char *s, size_t len, char *out,
    size_t size);
/* Go's strconv.FormatFloat(v, 'f', -1, 64). */
void sops_format_float(double v, char *out, size_t size);

/* --- the formats (sops_yaml.c, sops_formats.c) -------------------------- */

int sops_yaml_decrypt(const struct sops_keys *k, const char *file,
    const char *text, size_t len, struct buf *out, unsigned char
    name_key[32], struct err *err);
