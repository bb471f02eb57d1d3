/*
 * published.c - the published state's shared parts: the histograms'
 * buckets, and the registry pushes the status server hands
 * to the workers (the ring in struct ctl_state).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"

const double ctl_buckets[CTL_BUCKETS] = { 0.01, 0.025, 0.05, 0.1, 0.25,
    0.5, 1, 2.5, 5, 10 };

size_t
ctl_bucket_of(double secs)
{
	size_t b = 0;

	while (b < CTL_BUCKETS && secs > ctl_buckets[b])
		b++;
	return b;
}

void
ctl_state_unlock(struct ctl_state *st)
{
	st->changes++;
	pthread_mutex_unlock(&st->mu);
}

void
ctl_state_push(struct ctl_state *st, const char *host,
    const char *repository)
{
	struct ctl_push *p;
	uint64_t one = 1;

	pthread_mutex_lock(&st->mu);
	p = &st->pushes[st->npushes++ % CTL_PUSHES];
	snprintf(p->host, sizeof(p->host), "%s", host);
	snprintf(p->repository, sizeof(p->repository), "%s", repository);
	ctl_state_unlock(st);
	if (st->wake_fd >= 0 && write(st->wake_fd, &one, sizeof(one)) < 0)
		log_event(LOG_WARN, NULL, NULL, NULL, "cannot wake the "
		    "workers: %s", strerror(errno));
}
