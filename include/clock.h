/*
 * clock.h - the one monotonic clock the timers, debounces, backoffs and
 * deadlines of stackd are measured on, and the one way a wall time is
 * written for people and documents.
 */
#ifndef STACKD_CLOCK_H
#define STACKD_CLOCK_H

#include <pthread.h>

/* Milliseconds on CLOCK_MONOTONIC: only differences mean anything. */
long long clock_mono_ms(void);
/* Unix time t as "2026-11-23T10:00:00Z" (UTC) in out (32 bytes). */
const char *clock_iso_time(long long t, char *out);
/* The unix time an engine's RFC 3339 time names ("2026-11-23T10:00:00.5Z",
 * an offset instead of Z, fractions dropped), or -1. */
long long clock_iso_parse(const char *s);

/* A condition variable whose timed waits run on that clock, so a wall
 * clock step neither fires nor stalls them; wait_until waits (mu held)
 * until signalled or until ms on clock_mono_ms. */
void clock_cond_init(pthread_cond_t *cv);
void clock_cond_wait_until(pthread_cond_t *cv, pthread_mutex_t *mu,
    long long ms);

#endif
