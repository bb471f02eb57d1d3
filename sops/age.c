/*
 * age.c - age v1 files (C2SP age.md): the ASCII armor, the header and its
 * X25519 stanzas, the header MAC and the STREAM payload.  Only what a
 * reader needs; parsing is strict where the spec is (canonical base64,
 * 64-column lines, no CR), because a lenient reader accepts forgeries of
 * the text that a strict one would refuse.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "alloc.h"
#include "base64.h"
#include "sops_int.h"

#define AGE_INTRO "age-encryption.org/v1\n"
#define ARMOR_BEGIN "-----BEGIN AGE ENCRYPTED FILE-----"
#define ARMOR_END "-----END AGE ENCRYPTED FILE-----"
#define CHUNK 65536
#define TAG 16
#define STANZAS_MAX 64

struct stanza {
	const char *type;	/* args[0] */
	size_t type_len;
	const char *args[8];	/* after the type */
	size_t arg_len[8];
	size_t nargs;
	unsigned char body[256];
	size_t body_len;
};

struct header {
	struct stanza st[STANZAS_MAX];
	size_t n;
	size_t mac_end;		/* bytes up to and including "---" */
	unsigned char mac[32];
	size_t payload;		/* offset of the payload */
};

static int
fault(enum sops_age_fault *f, enum sops_age_fault what, struct err *err,
    const char *msg)
{
	*f = what;
	return err_set(err, what == SOPS_AGE_UNSUPPORTED ? ERR_UNSUPPORTED :
	    ERR_INVALID, "age: %s", msg);
}

/* The next line (without its LF) from p; NULL at the end or without LF. */
static const char *
line_at(const unsigned char *in, size_t len, size_t *pos, size_t *linelen)
{
	const unsigned char *p = in + *pos, *nl;

	if (*pos >= len || (nl = memchr(p, '\n', len - *pos)) == NULL)
		return NULL;
	*linelen = (size_t)(nl - p);
	*pos += *linelen + 1;
	return (const char *)p;
}

static bool
arg_ok(const char *a, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)a[i] < 0x21 || (unsigned char)a[i] > 0x7e)
			return false;
	return true;
}

/* "-> type arg..." then the body lines: each full line is 64 columns,
 * the last is shorter (maybe empty). */
static int
parse_stanza(struct stanza *s, const char *l, size_t n,
    const unsigned char *in, size_t len, size_t *pos)
{
	const char *p = l + 3, *end = l + n;
	const char *b;
	size_t bl;

	memset(s, 0, sizeof(*s));
	while (p <= end) {
		const char *sp = memchr(p, ' ', (size_t)(end - p));
		size_t al = sp ? (size_t)(sp - p) : (size_t)(end - p);

		if (!arg_ok(p, al))
			return -1;
		if (s->type == NULL) {
			s->type = p;
			s->type_len = al;
		} else if (s->nargs == 8)
			return -1;
		else {
			s->args[s->nargs] = p;
			s->arg_len[s->nargs++] = al;
		}
		p += al + 1;
	}
	for (;;) {
		ssize_t got;

		if ((b = line_at(in, len, pos, &bl)) == NULL || bl > 64)
			return -1;
		if (s->body_len + 48 > sizeof(s->body))
			return -1;
		got = b64_decode(b, bl, s->body + s->body_len,
		    sizeof(s->body) - s->body_len, B64_UNPADDED, true);
		if (got < 0)
			return -1;
		s->body_len += (size_t)got;
		if (bl < 64)
			return 0;
	}
}

static int
parse_header(struct header *h, const unsigned char *in, size_t len)
{
	size_t pos = strlen(AGE_INTRO), n;
	const char *l;

	memset(h, 0, sizeof(*h));
	if (len < pos || memcmp(in, AGE_INTRO, pos) != 0)
		return -1;
	while ((l = line_at(in, len, &pos, &n)) != NULL) {
		if (n >= 3 && memcmp(l, "-> ", 3) == 0) {
			if (h->n == STANZAS_MAX || parse_stanza(&h->st[h->n++],
			    l, n, in, len, &pos) < 0)
				return -1;
			continue;
		}
		/* "--- " and the MAC: 32 bytes, canonical, unpadded. */
		if (h->n == 0 || n != 4 + 43 || memcmp(l, "--- ", 4) != 0 ||
		    b64_decode(l + 4, 43, h->mac, 32, B64_UNPADDED, true) != 32)
			return -1;
		h->mac_end = (size_t)(l - (const char *)in) + 3;
		h->payload = pos;
		return 0;
	}
	return -1;
}

static bool
type_is(const struct stanza *s, const char *t)
{
	return s->type_len == strlen(t) && memcmp(s->type, t, s->type_len) == 0;
}

/* The X25519 recipient type: 0 with the file key, 1 when the stanza is
 * not for this identity, -1 when it is malformed. */
static int
x25519_unwrap(const struct stanza *s, const struct sops_identity *id,
    unsigned char file_key[16])
{
	unsigned char share[32], shared[32], salt[64], wrap[32];
	static const unsigned char zero[12];
	int rc = 1;

	if (s->nargs != 1 || s->arg_len[0] != 43 ||
	    b64_decode(s->args[0], 43, share, 32, B64_UNPADDED, true) != 32 ||
	    s->body_len != 32)
		return -1;
	if (sops_x25519(id->sk, share, shared) < 0)
		return -1;	/* a low-order share */
	memcpy(salt, share, 32);
	memcpy(salt + 32, id->pk, 32);
	if (sops_hkdf(shared, 32, salt, 64, "age-encryption.org/v1/X25519",
	    wrap, 32) == 0 && sops_chacha_open(wrap, zero, s->body, 32,
	    file_key) == 0)
		rc = 0;
	OPENSSL_cleanse(shared, sizeof(shared));
	OPENSSL_cleanse(wrap, sizeof(wrap));
	return rc;
}

static int
unwrap(const struct header *h, const struct sops_keys *k,
    unsigned char file_key[16], size_t *who, enum sops_age_fault *f,
    struct err *err)
{
	size_t x25519 = 0, other = 0;

	for (size_t i = 0; i < h->n; i++) {
		const struct stanza *s = &h->st[i];

		if (type_is(s, "scrypt") && h->n > 1)
			return fault(f, SOPS_AGE_HEADER, err, "an scrypt stanza "
			    "must be the only one");
		if (!type_is(s, "X25519")) {
			other += type_is(s, "scrypt") ||
			    type_is(s, "mlkem768x25519");
			continue;
		}
		x25519++;
		for (size_t j = 0; j < k->n; j++) {
			int rc = x25519_unwrap(s, &k->ids[j], file_key);

			if (rc < 0)
				return fault(f, SOPS_AGE_HEADER, err, "a "
				    "malformed X25519 stanza");
			if (rc == 0) {
				*who = j;
				return 0;
			}
		}
	}
	if (x25519 == 0 && other > 0)
		return fault(f, SOPS_AGE_UNSUPPORTED, err, "the file is "
		    "encrypted only to a passphrase or a post-quantum "
		    "(mlkem768x25519) recipient, which stackd does not support");
	return fault(f, SOPS_AGE_NO_MATCH, err, "no identity matches");
}

/* Chunks of 64 KiB and a tag; the last (flag 1 in its nonce) may be
 * shorter, and is empty only when it is the only one. */
static int
payload(const unsigned char *in, size_t len, const unsigned char fk[16],
    struct buf *out)
{
	unsigned char key[32], nonce[12] = { 0 }, *plain;
	size_t pos = 16;
	uint64_t ctr = 0;
	int rc = -1;

	if (sops_hkdf(fk, 16, in, 16, "payload", key, 32) < 0)
		return -1;
	plain = xmalloc(CHUNK);
	for (;;) {
		size_t n = len - pos < CHUNK + TAG ? len - pos : CHUNK + TAG;
		bool last = false;

		for (int i = 0; i < 8; i++)
			nonce[3 + i] = (unsigned char)(ctr >> (56 - 8 * i));
		nonce[11] = 0;
		if (n < TAG)
			break;
		if (n < CHUNK + TAG || sops_chacha_open(key, nonce, in + pos,
		    n, plain) < 0) {
			nonce[11] = 1;
			if (sops_chacha_open(key, nonce, in + pos, n, plain) < 0)
				break;
			last = true;
		}
		if ((last && n == TAG && ctr > 0) ||
		    buf_append(out, plain, n - TAG) < 0)
			break;
		pos += n;
		ctr++;
		if (last) {
			rc = pos == len ? 0 : -1;
			break;
		}
	}
	OPENSSL_cleanse(plain, CHUNK);
	free(plain);
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

/* A line of the armor, without its LF (optional at the very end) or CR. */
static const char *
armor_line(const unsigned char *in, size_t len, size_t *pos, size_t *n)
{
	const char *l = line_at(in, len, pos, n);

	if (l == NULL && *pos < len) {	/* the last line, without LF */
		l = (const char *)in + *pos;
		*n = len - *pos;
		*pos = len;
	}
	if (l != NULL && *n > 0 && l[*n - 1] == '\r')
		(*n)--;
	return l;
}

static bool
is_line(const char *l, size_t n, const char *want)
{
	return l != NULL && n == strlen(want) && memcmp(l, want, n) == 0;
}

static bool
blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The armor: PEM with its label, padded base64 in lines of 64 columns
 * but the last, LF or CRLF, and up to 1024 bytes of whitespace around. */
static int
dearmor(const unsigned char *in, size_t len, struct buf *bin)
{
	size_t pos = 0, n = 0;
	const char *l;

	while (pos < len && pos < 1024 && blank(in[pos]))
		pos++;
	l = armor_line(in, len, &pos, &n);
	if (!is_line(l, n, ARMOR_BEGIN))
		return -1;
	for (;;) {
		unsigned char dec[48];
		ssize_t got;

		if ((l = armor_line(in, len, &pos, &n)) == NULL)
			return -1;
		if (is_line(l, n, ARMOR_END))
			break;	/* after a full line, or none */
		if (n == 0 || n > 64 || (got = b64_decode(l, n, dec,
		    sizeof(dec), B64_PADDED, true)) < 0 ||
		    buf_append(bin, dec, (size_t)got) < 0)
			return -1;
		if (got < 48) {		/* the last line: the footer follows */
			l = armor_line(in, len, &pos, &n);
			if (!is_line(l, n, ARMOR_END))
				return -1;
			break;
		}
	}
	for (size_t i = pos; i < len; i++)
		if (i - pos >= 1024 || !blank(in[i]))
			return -1;
	return 0;
}

/* A binary age file starts with its intro line; any other with an armor
 * line in it is read as armor, so that garbage before the armor is an
 * armor error. */
static bool
armored(const unsigned char *in, size_t len)
{
	static const char begin[] = "-----";

	if (len >= 4 && memcmp(in, "age-", 4) == 0)
		return false;
	for (size_t i = 0; i + sizeof(begin) - 1 <= len; i++)
		if (memcmp(in + i, begin, sizeof(begin) - 1) == 0)
			return true;
	return false;
}

static int
decrypt_binary(const struct sops_keys *k, const unsigned char *in,
    size_t len, struct buf *out, size_t *who, enum sops_age_fault *f,
    struct err *err)
{
	struct header *h = xmalloc(sizeof(*h));
	unsigned char fk[16], hk[32], mac[32];
	size_t idx = 0;
	int rc;

	if (parse_header(h, in, len) < 0) {
		rc = fault(f, SOPS_AGE_HEADER, err, len >= 19 && memcmp(in,
		    "age-encryption.org/", 19) == 0 && (len < 22 ||
		    memcmp(in, AGE_INTRO, 22) != 0) ? "unsupported version" :
		    "malformed header");
		goto out;
	}
	if ((rc = unwrap(h, k, fk, &idx, f, err)) < 0)
		goto out;
	if (sops_hkdf(fk, 16, NULL, 0, "header", hk, 32) < 0 ||
	    sops_hmac_sha256(hk, 32, in, h->mac_end, mac) < 0 ||
	    CRYPTO_memcmp(mac, h->mac, 32) != 0) {
		rc = fault(f, SOPS_AGE_HMAC, err, "the header's MAC does not "
		    "verify (the file was changed)");
		goto out;
	}
	/* The nonce is read with the header: without it, no payload. */
	if (len - h->payload < 16) {
		rc = fault(f, SOPS_AGE_HEADER, err, "the payload nonce is "
		    "missing");
		goto out;
	}
	if (payload(in + h->payload, len - h->payload, fk, out) < 0) {
		rc = fault(f, SOPS_AGE_PAYLOAD, err, "the payload is "
		    "truncated or was changed");
		goto out;
	}
	if (who != NULL)
		*who = idx;
	*f = SOPS_AGE_OK;
out:
	OPENSSL_cleanse(fk, sizeof(fk));
	OPENSSL_cleanse(hk, sizeof(hk));
	free(h);
	return rc;
}

int
sops_age_decrypt(const struct sops_keys *k, const unsigned char *in,
    size_t len, struct buf *out, size_t *who, enum sops_age_fault *f,
    struct err *err)
{
	struct buf bin;
	int rc;

	buf_init(&bin, len);
	if (armored(in, len)) {
		if (dearmor(in, len, &bin) < 0) {
			buf_free(&bin);
			return fault(f, SOPS_AGE_ARMOR, err, "broken ASCII "
			    "armor");
		}
		in = (const unsigned char *)bin.data;
		len = bin.len;
	}
	rc = decrypt_binary(k, in ? in : (const unsigned char *)"", len, out,
	    who, f, err);
	if (rc < 0 && out->data != NULL) {
		OPENSSL_cleanse(out->data, out->len);
		buf_reset(out);
	}
	buf_free(&bin);
	return rc;
}
