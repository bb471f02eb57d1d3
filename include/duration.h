/*
 * duration.h - the one duration grammar stackd reads, Go's
 * time.ParseDuration: "500ms", "30s", "5m", "1h30m", "1.5h", "0" (what
 * compose files already hold, and what stackd.yaml takes too).
 */
#ifndef STACKD_DURATION_H
#define STACKD_DURATION_H

#include <stdint.h>

/* s into nanoseconds; 0, or -1 when s is no duration or out of range. */
int duration_parse(const char *s, int64_t *ns);

#endif
