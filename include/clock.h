/*
 * clock.h - the one monotonic clock the timers, debounces, backoffs and
 * deadlines of stackd are measured on.
 */
#ifndef STACKD_CLOCK_H
#define STACKD_CLOCK_H

/* Milliseconds on CLOCK_MONOTONIC: only differences mean anything. */
long long clock_mono_ms(void);

#endif
