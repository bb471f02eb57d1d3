/*
 * duration.c - see duration.h.
 */
#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "duration.h"

static int64_t
duration_unit(const char *u, size_t len)
{
	static const struct { const char *name; int64_t ns; } units[] = {
		{ "ns", 1 }, { "us", 1000 }, { "\xc2\xb5s", 1000 },
		{ "\xce\xbcs", 1000 }, { "ms", 1000000 },
		{ "s", 1000000000 }, { "m", 60000000000 },
		{ "h", 3600000000000 },
	};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strlen(units[i].name) == len &&
		    memcmp(units[i].name, u, len) == 0)
			return units[i].ns;
	return 0;
}

/* Go's time.ParseDuration: [-+]?([0-9]*(\.[0-9]*)?[a-zµμ]+)+ or "0". */
int
duration_parse(const char *s, int64_t *out)
{
	const char *p = s;
	long double total = 0;
	bool neg = false;

	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (strcmp(p, "0") == 0)
		return *out = 0, 0;
	if (*p == '\0')
		return -1;
	while (*p != '\0') {
		long double v = 0, scale = 1;
		bool digits = false;
		const char *u;
		int64_t unit;

		for (; isdigit((unsigned char)*p); p++, digits = true)
			v = v * 10 + (*p - '0');
		if (*p == '.')
			for (p++; isdigit((unsigned char)*p); p++, digits = true)
				v += (*p - '0') / (scale *= 10);
		if (!digits)
			return -1;
		for (u = p; *p != '\0' && !isdigit((unsigned char)*p) &&
		    *p != '.'; p++)
			;
		if ((unit = duration_unit(u, (size_t)(p - u))) == 0)
			return -1;
		total += v * unit;
	}
	if (total > (long double)INT64_MAX)
		return -1;
	*out = (int64_t)llroundl(neg ? -total : total);
	return 0;
}

