/*
 * images.h - image digests, pinned as `docker stack deploy` pins them.
 *
 * The CLI asks the engine for an image's digest (GET /distribution) and
 * writes "name:tag@sha256:..." with the image's platforms into the
 * service.  stackd does the same, and keeps what it learnt per engine for
 * image_poll, so a cycle with nothing new asks no registry at all; a new
 * push under the same tag is found at the next look and rolled out.
 *
 * A cache belongs to one engine worker; images_cache_expire and
 * images_cache_list may be called from other threads.
 */
#ifndef STACKD_IMAGES_H
#define STACKD_IMAGES_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "engine.h"
#include "err.h"

/* --resolve-image, with the CLI's meanings. */
enum images_mode {
	IMAGES_ALWAYS,		/* ask the registry at every look */
	IMAGES_CHANGED,		/* only when the file's image: text changed */
	IMAGES_NEVER,		/* never; a pin the service has is kept */
};

int images_mode_parse(const char *s, enum images_mode *out);
const char *images_mode_name(enum images_mode m);

#define IMAGES_POLL_MS (5 * 60 * 1000)
#define IMAGES_TIMEOUT_MS 10000

struct images_cache;

/* What the owner of a cache hears of (to log it): an image found under
 * another digest than before (from, to), its lookups starting to fail or
 * failing otherwise (why, NULL), answering again (NULL, NULL).  Called
 * with the cache's lock held: it must not call back into the cache. */
enum images_event {
	IMAGES_MOVED,
	IMAGES_FAILING,
	IMAGES_ANSWERING,
};
typedef void (*images_event_fn)(enum images_event ev, const char *image,
    const char *a, const char *b, void *arg);

/* poll_ms: how long an answer (or a failure) stands, 0 = every look;
 * timeout_ms: one lookup's deadline, 0 = IMAGES_TIMEOUT_MS; fn (may be
 * NULL) hears of moves and failures. */
struct images_cache *images_cache_new(long poll_ms, long timeout_ms,
    images_event_fn fn, void *arg);
void images_cache_free(struct images_cache *c);

/*
 * Look up those of images[0..n-1] (familiar references, duplicates
 * allowed) that were never looked up, whose answer is older than the poll
 * interval, or whose repository was pushed since (images_cache_expire):
 * each once, side by side, on engine e.  A failed lookup is remembered as
 * such; the return is negative only when nothing could be asked.
 */
int images_cache_resolve(struct images_cache *c, struct engine *e,
    const char *const *images, size_t n, struct err *err);

/*
 * A new reconcile pass begins on engine e: the images the last pass used
 * whose answer is due again are looked up now, in one batch (NULL e: not
 * now, by each resolve); images no pass used in IMAGES_KEEP_PASSES are
 * forgotten.  An image looked up in this pass is not due again in it,
 * even with a poll of 0.
 */
#define IMAGES_KEEP_PASSES 10
int images_cache_pass(struct images_cache *c, struct engine *e,
    struct err *err);

/* What is known of one image, copied out. */
struct images_pin {
	bool ok;		/* the last lookup found a digest */
	char digest[72];	/* the last digest found, "" = none yet */
	char pinned[ENGINE_IMAGE_REF_MAX + 80];	/* image with that digest */
	cJSON *platforms;	/* [{"Architecture","OS"}] as the CLI filters
				 * them; NULL = none.  Owned. */
	long long resolved_at;	/* unix time of the last digest, 0 = never */
	char error[512];	/* the last lookup's failure, "" = none */
};

/* false when image was never looked up (out is then cleared). */
bool images_cache_get(struct images_cache *c, const char *image,
    struct images_pin *out);
void images_pin_release(struct images_pin *p);

/* Every image of repository (as a registry names it: "app",
 * "library/nginx") on registry host ("127.0.0.1:5000", "docker.io") is
 * looked up again at the next resolve (NULL host: every image).  Returns
 * how many were known. */
size_t images_cache_expire(struct images_cache *c, const char *host,
    const char *repository);

/* The pushes in a registry's notification envelope: fn(host, repository,
 * arg) once per push event (pulls and other events are skipped).  The
 * number of pushes, or -1 when body is no envelope. */
typedef void (*images_push_fn)(const char *host, const char *repository,
    void *arg);
int images_events_read(const char *body, size_t len, images_push_fn fn,
    void *arg);

/* Lookups so far, by outcome, and their durations for a histogram. */
#define IMAGES_BUCKETS 8
extern const double images_buckets[IMAGES_BUCKETS];
struct images_stats {
	unsigned long resolved;		/* a digest (new or the same) */
	unsigned long failed;
	unsigned long moved;		/* a digest other than the last */
	unsigned long hist[IMAGES_BUCKETS + 1];
	double seconds;			/* sum of durations */
};
void images_cache_stats(struct images_cache *c, struct images_stats *out);

/* The CLI's platform filter over a /distribution reply's "Platforms":
 * "unknown" os or architecture skipped (attestations), "arm" loses its
 * architecture (swarmkit#2294), duplicates dropped.  NULL when none is
 * left.  Exposed for tests. */
cJSON *images_platforms(const cJSON *reply_platforms);

/* The CLI's pinned form: image (familiar, tagged) with digest, unless it
 * already has one.  -1 when it does not fit. */
int images_pinned(const char *image, const char *digest, char *out,
    size_t len);

#endif
