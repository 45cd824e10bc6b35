/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sg_notify over a real unix datagram socket standing in for systemd's
 * ($NOTIFY_SOCKET): READY=1 and STOPPING=1 each arrive as one message with
 * a one-line STATUS=, a newline in the status cannot start another
 * assignment, and without $NOTIFY_SOCKET nothing is sent. A build without
 * libsystemd sends nothing at all, and says so.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "sg_notify.h"

struct fixture {
	char dir[32];
	char path[64]; /* fits sun_path */
	int fd;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/sg-notify.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/notify", f->dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
	f->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	assert_true(f->fd >= 0);
	assert_int_equal(bind(f->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(setenv("NOTIFY_SOCKET", f->path, 1), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	unsetenv("NOTIFY_SOCKET");
	close(f->fd);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* The next message, or "" when none is waiting. */
static const char *
next_message(struct fixture *f)
{
	static char buf[1024];
	ssize_t n = recv(f->fd, buf, sizeof(buf) - 1, 0);

	if (n < 0) {
		assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
		n = 0;
	}
	buf[n] = '\0';
	return buf;
}

static void
test_ready_and_stopping(void **state)
{
	struct fixture *f = *state;

	if (!sg_notify_supported()) {
		assert_int_equal(sg_notify_ready("running: %u port(s)", 2u), 0);
		assert_string_equal(next_message(f), "");
		skip();
	}
	assert_true(sg_notify_ready("running: %u port(s), %u worker(s)", 2u, 4u) > 0);
	assert_string_equal(next_message(f), "READY=1\nSTATUS=running: 2 port(s), 4 worker(s)");
	assert_true(sg_notify_stopping("stopping") > 0);
	assert_string_equal(next_message(f), "STOPPING=1\nSTATUS=stopping");
	assert_string_equal(next_message(f), "");
}

static void
test_status_is_one_line(void **state)
{
	struct fixture *f = *state;

	if (!sg_notify_supported())
		skip();
	/* a name from a config file must not smuggle in MAINPID= or the like */
	assert_true(sg_notify_ready("trunk %s", "evil\nMAINPID=1") > 0);
	assert_string_equal(next_message(f), "READY=1\nSTATUS=trunk evil MAINPID=1");
}

static void
test_long_status_is_cut(void **state)
{
	struct fixture *f = *state;
	char big[1000];
	const char *m;

	if (!sg_notify_supported())
		skip();
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_true(sg_notify_ready("%s", big) > 0);
	m = next_message(f);
	assert_true(strncmp(m, "READY=1\nSTATUS=xxx", 18) == 0);
	assert_true(strlen(m) < sizeof(big));
}

static void
test_no_service_manager(void **state)
{
	struct fixture *f = *state;

	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(sg_notify_ready("running"), 0);
	assert_int_equal(sg_notify_stopping("stopping"), 0);
	assert_string_equal(next_message(f), "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ready_and_stopping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_is_one_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_status_is_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_service_manager, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
