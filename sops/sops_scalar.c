/*
 * sops_scalar.c - the type go-yaml v3 gives a plain YAML scalar, and the
 * bytes sops's MAC takes for it (ToBytes): only unencrypted values need
 * this, since an encrypted one contributes its plaintext.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sops_int.h"

static bool
one_of(const char *s, size_t len, const char *const *set)
{
	for (; *set != NULL; set++)
		if (strlen(*set) == len && memcmp(s, *set, len) == 0)
			return true;
	return false;
}

/* Go's strconv.FormatFloat(v, 'f', -1, 64): the shortest digits that
 * read back as v, in fixed notation. */
void
sops_format_float(double v, char *out, size_t size)
{
	char e[64], digits[32];
	int prec, exp, nd = 0;
	const char *p;
	size_t n = 0;

	if (isnan(v) || isinf(v)) {
		snprintf(out, size, "%s", isnan(v) ? "NaN" : v > 0 ? "+Inf" :
		    "-Inf");
		return;
	}
	for (prec = 1; prec <= 17; prec++) {
		snprintf(e, sizeof(e), "%.*e", prec - 1, v);
		if (strtod(e, NULL) == v)
			break;
	}
	p = e;
	if (*p == '-')
		out[n++] = *p++;
	for (; *p != 'e'; p++)
		if (isdigit((unsigned char)*p))
			digits[nd++] = *p;
	exp = (int)strtol(p + 1, NULL, 10) + 1;	/* digits before the point */
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	if (nd == 1 && digits[0] == '0')
		exp = 1;
	if (exp <= 0) {
		n += (size_t)snprintf(out + n, size - n, "0.");
		for (int i = 0; i < -exp && n + 1 < size; i++)
			out[n++] = '0';
		for (int i = 0; i < nd && n + 1 < size; i++)
			out[n++] = digits[i];
	} else {
		for (int i = 0; i < exp && n + 1 < size; i++)
			out[n++] = i < nd ? digits[i] : '0';
		if (nd > exp && n + 1 < size) {
			out[n++] = '.';
			for (int i = exp; i < nd && n + 1 < size; i++)
				out[n++] = digits[i];
		}
	}
	out[n] = '\0';
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?, go-yaml's float. */
static bool
yaml_float(const char *s)
{
	const char *p = s + (*s == '-' || *s == '+');
	bool digits = false;

	while (isdigit((unsigned char)*p))
		p++, digits = true;
	if (*p == '.') {
		p++;
		if (!digits && !isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p))
			p++;
	} else if (!digits)
		return false;
	if (*p == 'e' || *p == 'E') {
		p++;
		p += *p == '-' || *p == '+';
		if (!isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p))
			p++;
	}
	return *p == '\0';
}

static bool
integer(const char *s, char *out, size_t size)
{
	char buf[128], *end;
	size_t n = 0;
	long long v;
	int base = 10;
	const char *p = s;
	bool neg = false;

	for (; *p != '\0' && n + 1 < sizeof(buf); p++)
		if (*p != '_')
			buf[n++] = *p;
	buf[n] = '\0';
	p = buf;
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		base = 16, p += 2;
	else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O'))
		base = 8, p += 2;
	else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B'))
		base = 2, p += 2;
	else if (p[0] == '0' && p[1] != '\0')
		base = 8, p += 1;	/* strconv's base 0: a leading 0 */
	if (!isalnum((unsigned char)*p))
		return false;
	errno = 0;
	v = strtoll(p, &end, base);
	if (*end != '\0' || errno != 0)
		return false;
	snprintf(out, size, "%lld", neg ? -v : v);
	return true;
}

/* 2006-1-2, and with T (or t, or spaces) 15:4:5[.frac][Z|±hh:mm]: Go's
 * time.MarshalText, RFC 3339 with the fraction trimmed. */
static bool
timestamp(const char *s, char *out, size_t size)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, n = 0, oh = 0, om = 0;
	char frac[16] = "", zone[8] = "Z";
	const char *p;

	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || s[0] == '-' ||
	    mo < 1 || mo > 12 || d < 1 || d > 31)
		return false;
	p = s + n;
	if (*p != '\0') {
		if (*p != 'T' && *p != 't' && *p != ' ' && *p != '\t')
			return false;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == 'T' || *p == 't')
			p++;
		if (sscanf(p, "%2d:%2d:%2d%n", &h, &mi, &sec, &n) != 3)
			return false;
		p += n;
		if (*p == '.') {
			size_t f = 0;
			for (p++; isdigit((unsigned char)*p); p++)
				if (f < 9)
					frac[f++] = *p;
			while (f > 0 && frac[f - 1] == '0')
				f--;
			frac[f] = '\0';
		}
		while (*p == ' ' || *p == '\t')
			p++;
		if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d", &oh,
		    &om) == 2 && (oh || om))
			snprintf(zone, sizeof(zone), "%c%02d:%02d", *p, oh, om);
		else if (*p != '\0' && strcmp(p, "Z") != 0 &&
		    (*p != '+' && *p != '-'))
			return false;
	}
	snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d%s%s%s", y, mo, d, h,
	    mi, sec, *frac ? "." : "", frac, zone);
	return true;
}

enum sops_scalar
sops_scalar_type(const char *s, size_t len, char *out, size_t size)
{
	static const char *const nul[] = { "", "~", "null", "Null", "NULL",
	    NULL };
	static const char *const yes[] = { "true", "True", "TRUE", NULL };
	static const char *const no[] = { "false", "False", "FALSE", NULL };
	static const char *const inf[] = { ".inf", ".Inf", ".INF", "+.inf",
	    "+.Inf", "+.INF", NULL };
	static const char *const ninf[] = { "-.inf", "-.Inf", "-.INF", NULL };
	static const char *const nan[] = { ".nan", ".NaN", ".NAN", NULL };

	if (one_of(s, len, nul))
		return SCALAR_NULL;
	if (len >= size)
		return SCALAR_STRING;
	if (one_of(s, len, yes) || one_of(s, len, no)) {
		snprintf(out, size, "%s", one_of(s, len, yes) ? "True" :
		    "False");
		return SCALAR_TYPED;
	}
	if (one_of(s, len, inf) || one_of(s, len, ninf) ||
	    one_of(s, len, nan)) {
		snprintf(out, size, "%s", one_of(s, len, nan) ? "NaN" :
		    one_of(s, len, inf) ? "+Inf" : "-Inf");
		return SCALAR_TYPED;
	}
	memcpy(out, s, len);
	out[len] = '\0';
	if (strchr("+-.0123456789", out[0]) != NULL) {
		char num[128];
		if (integer(out, num, sizeof(num))) {
			snprintf(out, size, "%s", num);
			return SCALAR_TYPED;
		}
		if (yaml_float(out)) {
			sops_format_float(strtod(out, NULL), num, sizeof(num));
			snprintf(out, size, "%s", num);
			return SCALAR_TYPED;
		}
		if (timestamp(out, num, sizeof(num))) {
			snprintf(out, size, "%s", num);
			return SCALAR_TYPED;
		}
	}
	return SCALAR_STRING;
}
