/*
 * age_keys.c - age identities: the Bech32 text of an X25519 identity
 * (AGE-SECRET-KEY-1...) and of its recipient (age1...), identity files,
 * and the memory they are kept in: one page, locked so it is never
 * swapped, marked so a core dump leaves it out, wiped when released.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "alloc.h"
#include "sops_int.h"

#define IDS_BYTES (SOPS_IDENTITIES_MAX * sizeof(struct sops_identity))
#define KEYFILE_MAX (64 * 1024)

static const char charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

static uint32_t
polymod(const unsigned char *v, size_t n)
{
	static const uint32_t gen[5] = { 0x3b6a57b2, 0x26508e6d, 0x1ea119fa,
	    0x3d4233dd, 0x2a1462b3 };
	uint32_t chk = 1;

	for (size_t i = 0; i < n; i++) {
		uint32_t top = chk >> 25;

		chk = ((chk & 0x1ffffff) << 5) ^ v[i];
		for (int j = 0; j < 5; j++)
			if ((top >> j) & 1)
				chk ^= gen[j];
	}
	return chk;
}

/* hrp expanded, then the 5-bit data: what the checksum covers. */
static size_t
expand(unsigned char *v, const char *hrp, size_t hl, const unsigned char *d,
    size_t dl)
{
	size_t n = 0;

	for (size_t i = 0; i < hl; i++)
		v[n++] = (unsigned char)(tolower((unsigned char)hrp[i]) >> 5);
	v[n++] = 0;
	for (size_t i = 0; i < hl; i++)
		v[n++] = (unsigned char)(tolower((unsigned char)hrp[i]) & 31);
	memcpy(v + n, d, dl);
	return n + dl;
}

/* Bech32 (BIP 173, no length limit) of 32 bytes under hrp: 0, or -1. */
static int
bech32_decode(const char *s, size_t len, const char *hrp, unsigned char
    out[32])
{
	size_t hl = strlen(hrp), dl, nout = 0;
	unsigned char d[128] = { 0 }, v[256];
	bool upper = false, lower = false;
	uint32_t acc = 0;
	int bits = 0;

	if (len <= hl + 7 || len - hl - 1 > sizeof(d) ||
	    strncasecmp(s, hrp, hl) != 0 || s[hl] != '1')
		return -1;
	for (size_t i = 0; i < len; i++) {
		upper |= isupper((unsigned char)s[i]) != 0;
		lower |= islower((unsigned char)s[i]) != 0;
	}
	if (upper && lower)
		return -1;
	dl = len - hl - 1;
	for (size_t i = 0; i < dl; i++) {
		const char *c = strchr(charset, tolower((unsigned char)s[hl +
		    1 + i]));
		if (c == NULL || *c == '\0')
			return -1;
		d[i] = (unsigned char)(c - charset);
	}
	if (polymod(v, expand(v, hrp, hl, d, dl)) != 1)
		return -1;
	for (size_t i = 0; i + 6 < dl; i++) {
		acc = (acc << 5) | d[i];
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			if (nout == 32)
				return -1;
			out[nout++] = (unsigned char)(acc >> bits);
		}
	}
	/* No padding: what is left is under 5 bits, and zero. */
	return nout == 32 && bits < 5 && (acc & ((1u << bits) - 1)) == 0 ?
	    0 : -1;
}

static void
bech32_encode(char *out, const char *hrp, const unsigned char in[32])
{
	size_t hl = strlen(hrp), n = 0, vn;
	unsigned char d[64], v[160];
	uint32_t acc = 0, chk;
	int bits = 0;

	for (size_t i = 0; i < 32; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			d[n++] = (acc >> bits) & 31;
		}
	}
	if (bits > 0)
		d[n++] = (unsigned char)((acc << (5 - bits)) & 31);
	vn = expand(v, hrp, hl, d, n);
	memset(v + vn, 0, 6);
	chk = polymod(v, vn + 6) ^ 1;
	for (int i = 0; i < 6; i++)
		d[n++] = (chk >> (5 * (5 - i))) & 31;
	memcpy(out, hrp, hl);
	out[hl] = '1';
	for (size_t i = 0; i < n; i++)
		out[hl + 1 + i] = charset[d[i]];
	out[hl + 1 + n] = '\0';
}

struct sops_keys *
sops_keys_new(void)
{
	struct sops_keys *k = xcalloc(1, sizeof(*k));
	void *p = mmap(NULL, IDS_BYTES, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		alloc_fail();
	/* Best effort: without CAP_IPC_LOCK or with a low RLIMIT_MEMLOCK the
	 * page may still be swapped, but it never reaches a core dump. */
	(void)mlock(p, IDS_BYTES);
	(void)madvise(p, IDS_BYTES, MADV_DONTDUMP);
	k->ids = p;
	return k;
}

void
sops_keys_free(struct sops_keys *k)
{
	if (k == NULL)
		return;
	OPENSSL_cleanse(k->ids, IDS_BYTES);
	munlock(k->ids, IDS_BYTES);
	munmap(k->ids, IDS_BYTES);
	free(k->problem);
	free(k);
}

size_t
sops_keys_count(const struct sops_keys *k)
{
	return k->n;
}

void
sops_keys_note(struct sops_keys *k, const char *problem)
{
	if (k->problem == NULL)
		k->problem = xstrdup(problem);
}

const char *
sops_keys_problem(const struct sops_keys *k)
{
	return k->problem;
}

void
sops_keys_recipient(const struct sops_keys *k, size_t i,
    char out[SOPS_RECIPIENT_LEN + 1])
{
	bech32_encode(out, "age", k->ids[i].pk);
}

/* One word of an identity file: kept, skipped (a kind stackd cannot
 * use), or refused. */
static int
add_word(struct sops_keys *k, const char *w, size_t n, const char *where,
    size_t line, struct err *err)
{
	struct sops_identity *id;

	if (n >= 19 && strncmp(w, "AGE-SECRET-KEY-PQ-1", 19) == 0) {
		k->skipped++;
		return 0;
	}
	if (n >= 11 && strncmp(w, "AGE-PLUGIN-", 11) == 0) {
		k->skipped++;
		return 0;
	}
	if (k->n == SOPS_IDENTITIES_MAX)
		return err_set(err, ERR_INVALID, "%s: more than %d age "
		    "identities", where, SOPS_IDENTITIES_MAX);
	id = &k->ids[k->n];
	if (bech32_decode(w, n, "AGE-SECRET-KEY-", id->sk) < 0 ||
	    sops_x25519_public(id->sk, id->pk) < 0) {
		OPENSSL_cleanse(id, sizeof(*id));
		return err_set(err, ERR_INVALID, "%s, line %zu: not an age "
		    "identity (AGE-SECRET-KEY-1...)", where, line);
	}
	for (size_t i = 0; i < k->n; i++)
		if (CRYPTO_memcmp(k->ids[i].sk, id->sk, 32) == 0) {
			OPENSSL_cleanse(id, sizeof(*id));
			return 0;
		}
	k->n++;
	return 0;
}

int
sops_keys_add_text(struct sops_keys *k, const char *text, size_t len,
    const char *where, struct err *err)
{
	size_t line = 1, i = 0;
	int rc;

	while (i < len) {
		size_t start, n;

		while (i < len && (text[i] == ' ' || text[i] == '\t' ||
		    text[i] == '\r'))
			i++;
		if (i < len && text[i] == '\n') {
			line++;
			i++;
			continue;
		}
		if (i < len && text[i] == '#') {
			while (i < len && text[i] != '\n')
				i++;
			continue;
		}
		start = i;
		while (i < len && !isspace((unsigned char)text[i]))
			i++;
		n = i - start;
		if (n > 0 && (rc = add_word(k, text + start, n, where, line,
		    err)) < 0)
			return rc;
	}
	return 0;
}

int
sops_keys_add_file(struct sops_keys *k, const char *path, struct err *err)
{
	char where[4200];
	struct stat st;
	struct buf text;
	int fd, rc;

	snprintf(where, sizeof(where), "age key file %s", path);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return err_set(err, errno == ENOENT ? ERR_NOTFOUND : ERR_INVALID,
		    "%s: %s", where, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(err, ERR_INVALID, "%s: not a regular file",
		    where);
	}
	/* As ssh refuses a private key others can read. */
	if ((st.st_mode & 077) != 0) {
		close(fd);
		return err_set(err, ERR_INVALID, "%s: readable by group or "
		    "others (mode %04o); chmod 600 it", where,
		    (unsigned)(st.st_mode & 07777));
	}
	/* As before: a file of KEYFILE_MAX bytes or more is refused. */
	buf_init(&text, KEYFILE_MAX - 1);
	rc = buf_read_fd(&text, fd);
	close(fd);
	if (rc == ERR_NOMEM)
		rc = err_set(err, ERR_INVALID, "%s: larger than %d bytes",
		    where, KEYFILE_MAX);
	else if (rc < 0)
		rc = err_set(err, ERR_INVALID, "%s: read error", where);
	else
		rc = sops_keys_add_text(k, text.data ? text.data : "",
		    text.len, where, err);
	if (text.data != NULL)
		OPENSSL_cleanse(text.data, text.len);
	buf_free(&text);
	return rc;
}
