/*
 * Unit tests: messages between stackd's processes (frame.c) over a real
 * socketpair: what is sent arrives whole, and what a broken or hostile
 * peer sends (an unknown type, a length past its bound, a message cut
 * short) is refused before its payload is read.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "frame.h"

static const struct frame_rule rules[] = { { 1, 16 }, { 2, 1 << 20 } };

static int
pair_open(void **state)
{
	int *fd = malloc(2 * sizeof(*fd));

	if (fd == NULL || socketpair(AF_UNIX, SOCK_STREAM, 0, fd) < 0)
		return -1;
	*state = fd;
	return 0;
}

static int
pair_close(void **state)
{
	int *fd = *state;

	if (fd[0] >= 0)
		close(fd[0]);
	if (fd[1] >= 0)
		close(fd[1]);
	free(fd);
	return 0;
}

/* Raw bytes, as a broken peer writes them. */
static void
raw(int fd, uint32_t type, uint32_t len, const char *payload, size_t n)
{
	uint32_t h[2] = { type, len };

	assert_int_equal(write(fd, h, sizeof(h)), sizeof(h));
	if (n > 0)
		assert_int_equal(write(fd, payload, n), (ssize_t)n);
}

static void
test_messages_arrive_whole_and_in_order(void **state)
{
	int *fd = *state;
	struct frame f;
	struct err err;
	char *big = malloc(300000);
	pid_t pid;
	int status;

	assert_non_null(big);
	/* Past the socket's buffer: the sender blocks while the receiver
	 * reads, so send from a child. */
	memset(big, 'x', 300000);
	if ((pid = fork()) == 0) {
		int rc = frame_send(fd[1], 1, "hello", 5, &err) |
		    frame_send(fd[1], 2, big, 300000, &err) |
		    frame_send(fd[1], 1, NULL, 0, &err);
		free(big);
		_exit(rc == 0 ? 0 : 1);
	}
	assert_int_equal(frame_recv(fd[0], rules, 2, &f, &err), 0);
	assert_int_equal(f.type, 1);
	assert_int_equal(f.len, 5);
	assert_string_equal(f.data, "hello");
	frame_release(&f);
	assert_int_equal(frame_recv(fd[0], rules, 2, &f, &err), 0);
	assert_int_equal(f.type, 2);
	assert_int_equal(f.len, 300000);
	assert_memory_equal(f.data, big, 300000);
	frame_release(&f);
	assert_int_equal(frame_recv(fd[0], rules, 2, &f, &err), 0);
	assert_int_equal(f.len, 0);
	assert_null(f.data);
	close(fd[1]);
	fd[1] = -1;
	/* The sender's end closed between messages: a clean end. */
	assert_int_equal(frame_recv(fd[0], rules, 2, &f, &err), 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	free(big);
}

static void
test_an_unknown_type_is_refused(void **state)
{
	int *fd = *state;
	struct frame f;
	struct err err;

	raw(fd[1], 7, 3, "abc", 3);
	assert_int_equal(frame_recv(fd[0], rules, 2, &f, &err), ERR_PROTOCOL);
	assert_string_equal(err.msg, "a message of unknown type 7");
	assert_null(f.data);
}

static void
test_a_length_past_its_bound_is_refused_unread(void **state)
{
	int *fd = *state;
	struct frame f;
	struct err err;

	/* Refused on the header alone: nothing allocated, nothing waited
	 * for (no payload follows), even for 4 GiB - 1 announced. */
	raw(fd[1], 1, 17, NULL, 0);
	assert_int_equal(frame_recv(fd[0], rules, 2, &f, &err), ERR_PROTOCOL);
	assert_string_equal(err.msg, "a message of type 1 and 17 bytes, past "
	    "its limit of 16");
	raw(fd[1], 2, UINT32_MAX, NULL, 0);
	assert_int_equal(frame_recv(fd[0], rules, 2, &f, &err), ERR_PROTOCOL);
	assert_null(f.data);
}

static void
test_a_message_cut_short_is_refused(void **state)
{
	int *fd = *state;
	struct frame f;
	struct err err;

	raw(fd[1], 1, 10, "abc", 3);
	close(fd[1]);
	fd[1] = -1;
	assert_int_equal(frame_recv(fd[0], rules, 2, &f, &err), ERR_PROTOCOL);
	assert_string_equal(err.msg, "a message cut short after 3 of 10 "
	    "bytes");
	assert_null(f.data);
}

static void
test_a_header_cut_short_is_refused(void **state)
{
	int *fd = *state;
	struct frame f;
	struct err err;

	assert_int_equal(write(fd[1], "\1\0\0", 3), 3);
	close(fd[1]);
	fd[1] = -1;
	assert_int_equal(frame_recv(fd[0], rules, 2, &f, &err), ERR_PROTOCOL);
	assert_string_equal(err.msg, "a message cut short after 3 of 8 bytes");
}

static void
test_a_peer_gone_is_an_error_not_a_signal(void **state)
{
	int *fd = *state;
	struct err err;

	close(fd[0]);
	fd[0] = -1;
	assert_int_equal(frame_send(fd[1], 1, "x", 1, &err), ERR_FAIL);
	assert_non_null(strstr(err.msg, "sending to the other process"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_messages_arrive_whole_and_in_order, pair_open,
		    pair_close),
		cmocka_unit_test_setup_teardown(test_an_unknown_type_is_refused,
		    pair_open, pair_close),
		cmocka_unit_test_setup_teardown(
		    test_a_length_past_its_bound_is_refused_unread, pair_open,
		    pair_close),
		cmocka_unit_test_setup_teardown(
		    test_a_message_cut_short_is_refused, pair_open, pair_close),
		cmocka_unit_test_setup_teardown(
		    test_a_header_cut_short_is_refused, pair_open, pair_close),
		cmocka_unit_test_setup_teardown(
		    test_a_peer_gone_is_an_error_not_a_signal, pair_open,
		    pair_close),
	};

	return cmocka_run_group_tests_name("frame", tests, NULL, NULL);
}
