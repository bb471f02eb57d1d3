/*
 * Unit tests: the daemon's side of the status documents (status/publish.c)
 * against the status process's store of them (status/docs.c), over a
 * socketpair: what is sent, what is not sent again, what is dropped; and
 * the documents the process joins into a list.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <pthread.h>
#include <cmocka.h>

#include "daemon.h"
#include "frame.h"
#include "status.h"
#include "../../status/status_int.h"

/* More stacks than one slice of the publisher's renders. */
#define NSTACKS 150

struct reader {
	int fd;			/* the status process's end */
	int done[2];		/* a byte per CTL_MSG_SERVE: a round is in */
	struct ctl_docs *docs;
	size_t drops;
};

static void *
reader_main(void *arg)
{
	static const struct frame_rule rules[] = {
		{ CTL_MSG_CONFIG, CTL_MSG_CONFIG_MAX },
		{ CTL_MSG_DOC, CTL_MSG_DOC_MAX },
		{ CTL_MSG_DROP, CTL_MSG_PATH_MAX },
		{ CTL_MSG_SERVE, 0 },
		{ CTL_MSG_JOIN, CTL_MSG_DOC_MAX },
	};
	struct reader *r = arg;
	struct frame f;
	struct err err;

	while (frame_recv(r->fd, rules, sizeof(rules) / sizeof(*rules), &f,
	    &err) == 0) {
		if (f.type == CTL_MSG_SERVE) {
			if (write(r->done[1], "", 1) != 1)
				break;
		} else {
			r->drops += f.type == CTL_MSG_DROP;
			if (ctl_docs_apply(r->docs, &f, &err) < 0)
				fail_msg("%s", err.msg);
		}
		frame_release(&f);
	}
	/* a round still waited for fails instead of hanging */
	close(r->done[1]);
	r->done[1] = -1;
	return NULL;
}

/* One round published and all of it in the store: how many messages. */
static size_t
round_of(struct ctl_publisher *p, struct ctl_state *st, int fd,
    struct reader *r)
{
	struct err err;
	size_t sent;
	char c;

	assert_int_equal(ctl_publisher_send(p, st, "nobody", false, fd, &sent,
	    &err), 0);
	assert_int_equal(frame_send(fd, CTL_MSG_SERVE, NULL, 0, &err), 0);
	assert_int_equal(read(r->done[0], &c, 1), 1);
	return sent;
}

static bool
served(struct ctl_docs *d, const char *path)
{
	struct ctl_doc doc;

	if (!ctl_docs_get(d, path, &doc))
		return false;
	free(doc.body);
	return true;
}

static bool
stack_served(struct ctl_docs *d, int i)
{
	char a[64], b[64], c[64];

	snprintf(a, sizeof(a), "/api/v1/stacks/s%d", i);
	snprintf(b, sizeof(b), "/api/v1/stacks/s%d/history", i);
	snprintf(c, sizeof(c), "/stacks/s%d", i);
	return served(d, a) && served(d, b) && served(d, c);
}

/* /api/v1/stacks, joined by the status process: a JSON array of the
 * stacks' documents, in the state's order, every (i % skip) != 0 one. */
static void
check_list(struct ctl_docs *d, int skip)
{
	struct ctl_doc doc;
	const cJSON *it;
	cJSON *list;
	int i = 0;

	assert_true(ctl_docs_get(d, "/api/v1/stacks", &doc));
	assert_int_equal(doc.code, 200);
	assert_string_equal(doc.type, "application/json");
	assert_int_equal(strlen(doc.body), doc.len);
	list = cJSON_Parse(doc.body);
	assert_true(cJSON_IsArray(list));
	cJSON_ArrayForEach(it, list) {
		char name[16];

		while (skip > 0 && i % skip == 0)
			i++;
		snprintf(name, sizeof(name), "s%d", i++);
		assert_string_equal(cJSON_GetObjectItem(it, "name")->valuestring,
		    name);
		assert_string_equal(cJSON_GetObjectItem(it, "state")->valuestring,
		    "synced");
	}
	assert_int_equal(i, NSTACKS);
	cJSON_Delete(list);
	free(doc.body);
}

/* Every stack's three documents arrive though they are rendered a slice
 * at a time; nothing is sent again when nothing changed; the documents
 * of stacks gone are dropped, and only theirs. */
static void
test_publish_rounds(void **state)
{
	struct ctl_engine_state es = { .name = "e", .host = "unix:///e",
	    .reachable = true, .reached = true };
	struct ctl_state st = { .engines = &es, .nengines = 1 };
	struct ctl_publisher *p = ctl_publisher_new();
	struct reader r = { .docs = ctl_docs_new() };
	pthread_t t;
	size_t first, again;
	int sv[2];

	(void)state;
	pthread_mutex_init(&st.mu, NULL);
	es.stacks = cJSON_CreateObject();
	for (int i = 0; i < NSTACKS; i++) {
		char name[16];
		snprintf(name, sizeof(name), "s%d", i);
		cJSON_AddItemToObject(es.stacks, name, cJSON_Parse(
		    "{\"state\":\"synced\",\"services\":[]}"));
	}
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(pipe(r.done), 0);
	r.fd = sv[1];
	assert_int_equal(pthread_create(&t, NULL, reader_main, &r), 0);

	first = round_of(p, &st, sv[0], &r);
	assert_true(first >= 3 * NSTACKS);
	for (int i = 0; i < NSTACKS; i++)
		assert_true(stack_served(r.docs, i));
	check_list(r.docs, 0);

	again = round_of(p, &st, sv[0], &r);
	assert_true(again < first - 3 * NSTACKS);
	/* re-rendered, yet unchanged: still not sent */
	st.stack_changes++;
	assert_true(round_of(p, &st, sv[0], &r) <= again + 1);

	for (int i = 0; i < NSTACKS; i += 3) {
		char name[16];
		snprintf(name, sizeof(name), "s%d", i);
		cJSON_DeleteItemFromObject(es.stacks, name);
	}
	st.stack_changes++;
	round_of(p, &st, sv[0], &r);
	assert_int_equal(r.drops, 3 * ((NSTACKS + 2) / 3));
	for (int i = 0; i < NSTACKS; i++)
		assert_true(stack_served(r.docs, i) == (i % 3 != 0));
	check_list(r.docs, 3);

	close(sv[0]);
	pthread_join(t, NULL);
	close(sv[1]);
	close(r.done[0]);
	ctl_docs_free(r.docs);
	ctl_publisher_free(p);
	cJSON_Delete(es.stacks);
	pthread_mutex_destroy(&st.mu);
}

static int
give(struct ctl_docs *d, uint32_t type, const char *text)
{
	struct frame f = { type, (uint32_t)strlen(text), (char *)text };
	struct err err;

	return ctl_docs_apply(d, &f, &err);
}

/* A joined document: the parts there, in order, itself and joins never;
 * none at all is an empty list; a line that is no path is refused. */
static void
test_join(void **state)
{
	struct ctl_docs *d = ctl_docs_new();
	struct ctl_doc doc;

	(void)state;
	assert_int_equal(give(d, CTL_MSG_DOC, "200 /a\napplication/json\n"
	    "{\"n\": 1}\n"), 0);
	assert_int_equal(give(d, CTL_MSG_DOC, "200 /b\napplication/json\n"
	    "[2]"), 0);
	assert_int_equal(give(d, CTL_MSG_JOIN, "200 /l\napplication/json\n"
	    "/b\n/gone\n/l\n/a\n"), 0);
	assert_true(ctl_docs_get(d, "/l", &doc));
	assert_string_equal(doc.body, "[\n[2],\n{\"n\": 1}\n]\n");
	assert_int_equal(doc.len, strlen(doc.body));
	free(doc.body);
	assert_int_equal(give(d, CTL_MSG_JOIN, "200 /e\napplication/json\n"),
	    0);
	assert_true(ctl_docs_get(d, "/e", &doc));
	assert_string_equal(doc.body, "[]\n");
	free(doc.body);
	assert_int_equal(give(d, CTL_MSG_JOIN, "200 /x\napplication/json\n"
	    "/a\nb\n"), ERR_PROTOCOL);
	assert_int_equal(give(d, CTL_MSG_JOIN, "200 /x\napplication/json\n"
	    "/a"), ERR_PROTOCOL);
	assert_false(ctl_docs_get(d, "/x", &doc));
	ctl_docs_free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_publish_rounds),
		cmocka_unit_test(test_join),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
