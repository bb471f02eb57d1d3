/*
 * clock.c - see clock.h.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"

long long
clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
clock_cond_init(pthread_cond_t *cv)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(cv, &ca);
	pthread_condattr_destroy(&ca);
}

void
clock_cond_wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, long long ms)
{
	struct timespec ts = { .tv_sec = (time_t)(ms / 1000),
	    .tv_nsec = (long)(ms % 1000) * 1000000 };

	pthread_cond_timedwait(cv, mu, &ts);
}

const char *
clock_iso_time(long long t, char *out)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return out;
}

long long
clock_iso_parse(const char *s)
{
	struct tm tm = { 0 };
	int n = 0, oh = 0, om = 0;
	char sign;
	long long t;

	if (s == NULL || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year,
	    &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
	    &n) != 6 || n != 19)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	s += n;
	if (*s == '.')
		s += 1 + strspn(s + 1, "0123456789");
	if ((t = (long long)timegm(&tm)) == -1)
		return -1;
	if (strcmp(s, "Z") == 0)
		return t;
	if (sscanf(s, "%c%2d:%2d%n", &sign, &oh, &om, &n) != 3 ||
	    s[n] != '\0' || (sign != '+' && sign != '-'))
		return -1;
	return sign == '+' ? t - oh * 3600 - om * 60 : t + oh * 3600 + om * 60;
}
