/*
 * base64.c - see base64.h.
 */
#include <string.h>

#include "base64.h"

static int
value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

size_t
b64_decoded_max(size_t len)
{
	return (len + 3) / 4 * 3;
}

ssize_t
b64_decode(const char *s, size_t len, unsigned char *out, size_t cap,
    enum b64_form form, bool canonical)
{
	size_t pad = 0, n = 0;
	unsigned long acc = 0;
	int bits = 0;

	if (form == B64_PADDED) {
		if (len % 4 != 0)
			return -1;
		while (pad < 2 && len > pad && s[len - 1 - pad] == '=')
			pad++;
		len -= pad;
	} else if (len % 4 == 1)
		return -1;
	for (size_t i = 0; i < len; i++) {
		int v = value((unsigned char)s[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned long)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n == cap)
				return -1;
			out[n++] = (unsigned char)(acc >> bits);
			acc &= (1ul << bits) - 1;
		}
	}
	/* What is left are the unused low bits of the last character. */
	if (canonical && acc != 0)
		return -1;
	return (ssize_t)n;
}
