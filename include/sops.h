/*
 * sops.h - SOPS files whose data key is wrapped for age recipients,
 * decrypted in memory with OpenSSL (no sops binary), and the age v1
 * format and identities that takes.
 *
 * Everything is verified: the age header MAC and every AEAD tag, each
 * value's AES-GCM tag and the file's MAC.  Identities live in memory that
 * is locked, left out of core dumps and wiped on release; neither they nor
 * any plaintext appear in an error message.
 */
#ifndef STACKD_SOPS_H
#define STACKD_SOPS_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "err.h"

/* --- identities (age_keys.c) ------------------------------------------ */

/* "age1" and 58 characters. */
#define SOPS_RECIPIENT_LEN 62
#define SOPS_IDENTITIES_MAX 64

struct sops_keys;

struct sops_keys *sops_keys_new(void);
void sops_keys_free(struct sops_keys *k);
/* The identities in text, in the syntax of an age identity file (one
 * AGE-SECRET-KEY-1... a line, # comments, blank lines; SOPS_AGE_KEY may
 * also separate them by spaces).  where names the text in errors ("file
 * /run/secrets/age", "SOPS_AGE_KEY"); a line is named by its number, never
 * shown.  Post-quantum and plugin identities are counted, not kept. */
int sops_keys_add_text(struct sops_keys *k, const char *text, size_t len,
    const char *where, struct err *err);
/* The identity file at path; refused when group or others may read it. */
int sops_keys_add_file(struct sops_keys *k, const char *path,
    struct err *err);
size_t sops_keys_count(const struct sops_keys *k);
/* Why identities that were asked for are missing (a key file that cannot
 * be read, a bad SOPS_AGE_KEY): kept so that a SOPS file that then cannot
 * be decrypted says so.  NULL when there is nothing to say. */
void sops_keys_note(struct sops_keys *k, const char *problem);
const char *sops_keys_problem(const struct sops_keys *k);
/* The recipient (public key) of identity i, for messages. */
void sops_keys_recipient(const struct sops_keys *k, size_t i,
    char out[SOPS_RECIPIENT_LEN + 1]);

/* --- age v1 (age.c) ----------------------------------------------------- */

enum sops_age_fault {
	SOPS_AGE_OK,
	SOPS_AGE_NO_MATCH,	/* well formed, but for none of the identities */
	SOPS_AGE_ARMOR,		/* broken ASCII armor */
	SOPS_AGE_HEADER,	/* malformed header or stanza */
	SOPS_AGE_HMAC,		/* the header's MAC does not verify */
	SOPS_AGE_PAYLOAD,	/* the payload is cut, forged or padded */
	SOPS_AGE_UNSUPPORTED,	/* passphrase or post-quantum only */
};

/* Decrypt an age file (binary or armored) with k's identities into out
 * (bounded by out's max); *who (if not NULL) is the index of the identity
 * that opened it.  On failure *fault says which step refused it, and out
 * holds nothing. */
int sops_age_decrypt(const struct sops_keys *k, const unsigned char *in,
    size_t len, struct buf *out, size_t *who, enum sops_age_fault *fault,
    struct err *err);

/* HMAC-SHA256 of data under key, in hex: a content hash only the holders
 * of the identity can compute. */
void sops_keyed_hash(const unsigned char key[32], const void *data,
    size_t len, char hex[65]);

/* --- SOPS files (sops_formats.c) -------------------------------------- */

/* The format sops gives a file by its name: .yaml/.yml, .json, .env (a
 * name ending so, ".env" too), .ini, and binary for anything else. */
enum sops_format {
	SOPS_YAML,
	SOPS_JSON,
	SOPS_DOTENV,
	SOPS_INI,
	SOPS_BINARY,
};

enum sops_format sops_format_of(const char *path);
/* Is this a SOPS file?  Flux's rule: the format's marker of an encrypted
 * MAC is in it (YAML "mac: ENC[", JSON and binary "\"mac\": \"ENC[",
 * dotenv "sops_mac=ENC[", INI "[sops]"). */
bool sops_is_encrypted(const char *data, size_t len, enum sops_format f);
/* Decrypt a SOPS file (its contents, its path for the format and for
 * messages) into out: YAML and dotenv as their text with each value in
 * clear and the metadata left out, JSON re-serialized, binary the exact
 * original bytes.  name_key: a key derived from the identity that opened
 * it, for content hashes that cannot be tested against guesses.  On
 * failure out holds nothing; the message names the file and the reason. */
int sops_decrypt(const struct sops_keys *k, const char *path,
    const char *data, size_t len, struct buf *out, unsigned char
    name_key[32], struct err *err);

#endif
