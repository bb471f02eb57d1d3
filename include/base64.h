/*
 * base64.h - strict base64 decoding (RFC 4648 standard alphabet), for
 * formats that define one canonical text per value: age's header (no
 * padding) and armor, SOPS's ENC values (padded).  OpenSSL's
 * EVP_DecodeBlock skips whitespace and counts padding as data, which such
 * formats must refuse.
 */
#ifndef STACKD_BASE64_H
#define STACKD_BASE64_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum b64_form {
	B64_PADDED,		/* length a multiple of 4, '=' at the end */
	B64_UNPADDED,		/* no '=', length mod 4 is not 1 */
};

/* Decode len characters at s into out (at most cap bytes): the number of
 * bytes, or -1 for a character outside the alphabet, a wrong length or
 * padding, or (canonical) unused bits that are not zero. */
ssize_t b64_decode(const char *s, size_t len, unsigned char *out, size_t cap,
    enum b64_form form, bool canonical);
/* The bytes len characters decode to, at most (for sizing out). */
size_t b64_decoded_max(size_t len);

#endif
