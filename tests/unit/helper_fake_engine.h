/*
 * helper_fake_engine.h - replays canned HTTP replies on a unix socket and
 * records the requests, so the engine client's handling of recorded engine
 * answers (errors, truncation, silence) is tested without an engine.
 * End-to-end tests use real engines; this is for the unit tier only.
 */
#ifndef STACKD_HELPER_FAKE_ENGINE_H
#define STACKD_HELPER_FAKE_ENGINE_H

#include <stddef.h>

/* A reply that is never sent: the connection stays open and silent. */
#define FAKE_HANG "HANG"

struct fake_engine;

/* Serve replies[0..n-1], one per request (each on its own connection).
 * Every reply is a full raw HTTP response. */
struct fake_engine *fake_engine_start(const char *const *replies, size_t n);
/* "unix:///tmp/.../sock" */
const char *fake_engine_host(const struct fake_engine *f);
/* Request i as received (request line, headers, body), or NULL. */
const char *fake_engine_request(struct fake_engine *f, size_t i);
size_t fake_engine_count(struct fake_engine *f);
void fake_engine_stop(struct fake_engine *f);

/* A JSON reply with the usual engine headers. */
char *fake_reply(int status, const char *api_version, const char *json);

#endif
