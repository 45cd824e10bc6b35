/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The /metrics endpoint over a real loopback socket: it serves the last
 * published document with the exposition's content type, the publisher
 * gets the previous buffer back, other paths and methods are refused, a
 * bad or busy address is a one-line error, and a client that connects and
 * says nothing does not hold up publishing.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctl_http.h"

/* A loopback port free right now (bound, read, closed). */
static int
free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static int
connect_to(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* One request, the whole answer (the server closes: HTTP/1.0). */
static char *
request(int port, const char *method, const char *path)
{
	static char buf[65536];
	char req[256];
	size_t off = 0;
	ssize_t n;
	int fd = connect_to(port);

	snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\nHost: x\r\n\r\n", method, path);
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	while (off < sizeof(buf) - 1 && (n = read(fd, buf + off, sizeof(buf) - 1 - off)) > 0)
		off += (size_t)n;
	buf[off] = '\0';
	close(fd);
	return buf;
}

static void
doc(struct ctl_metrics_buf *b, const char *text)
{
	b->p = strdup(text);
	assert_non_null(b->p);
	b->len = strlen(text);
	b->cap = b->len + 1;
}

static void
test_serves_published(void **state)
{
	struct ctl_metrics_buf b = { 0 };
	char listen[32], err[256];
	struct ctl_http *h;
	int port = free_port(), idle;
	char *r;

	(void)state;
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	h = ctl_http_start(listen, err, sizeof(err));
	if (h == NULL)
		fail_msg("%s", err);
	/* nothing published yet: an empty document, not an error */
	r = request(port, "GET", "/metrics");
	assert_non_null(strstr(r, " 200 "));
	doc(&b, "# HELP a_total x\n# TYPE a_total counter\na_total 1\n");
	ctl_http_publish(h, &b);
	assert_null(b.p); /* the previous (empty) buffer came back */
	r = request(port, "GET", "/metrics");
	assert_non_null(strstr(r, " 200 "));
	assert_non_null(strstr(r, "text/plain; version=0.0.4; charset=utf-8"));
	assert_non_null(strstr(r, "\r\n\r\n# HELP a_total x\n# TYPE a_total counter\na_total 1\n"));
	/* a client that says nothing does not hold up publishing */
	idle = connect_to(port);
	doc(&b, "a_total 2\n");
	ctl_http_publish(h, &b);
	assert_non_null(b.p);
	assert_non_null(strstr(b.p, "a_total 1"));
	assert_int_equal(b.len, 0); /* ready to render into */
	r = request(port, "GET", "/metrics");
	assert_non_null(strstr(r, "\r\n\r\na_total 2\n"));
	r = request(port, "HEAD", "/metrics");
	assert_non_null(strstr(r, " 200 "));
	assert_null(strstr(r, "a_total"));
	r = request(port, "GET", "/");
	assert_non_null(strstr(r, " 404 "));
	r = request(port, "POST", "/metrics");
	assert_non_null(strstr(r, " 405 "));
	assert_true(ctl_http_requests(h) >= 4);
	close(idle);
	ctl_metrics_buf_free(&b);
	ctl_http_stop(h);
}

static void
test_bad_address(void **state)
{
	static const char *const bad[] = { "", "off", "localhost:80", "127.0.0.1:0", "[::1]",
		"1.2.3.4:99999" };
	char err[256], listen[32];
	struct ctl_http *h;
	unsigned int i;
	int port = free_port();

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_null(ctl_http_start(bad[i], err, sizeof(err)));
		assert_non_null(strstr(err, "metrics.listen"));
		assert_null(strchr(err, '\n'));
	}
	/* a port already taken: one line naming it */
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	h = ctl_http_start(listen, err, sizeof(err));
	assert_non_null(h);
	assert_null(ctl_http_start(listen, err, sizeof(err)));
	assert_non_null(strstr(err, listen));
	assert_non_null(strstr(err, "cannot listen"));
	ctl_http_stop(h);
	ctl_http_stop(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_serves_published),
		cmocka_unit_test(test_bad_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
