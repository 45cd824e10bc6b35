/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The /metrics endpoint (see ctl_http.h) over libmicrohttpd: its internal
 * polling thread accepts and answers; the control loop only swaps buffers.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "cfg.h"
#include "ctl_http.h"

#define CTL_HTTP_CTYPE "text/plain; version=0.0.4; charset=utf-8"

struct ctl_http {
	struct MHD_Daemon *d;
	pthread_mutex_t lock;
	struct ctl_metrics_buf doc; /* what is served; guarded by lock */
	unsigned long requests;	    /* guarded by lock */
};

static enum MHD_Result
reply(struct MHD_Connection *conn, unsigned int code, const char *text)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
	ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
	const char *version, const char *upload_data, size_t *upload_size, void **req_cls)
{
	struct ctl_http *h = cls;
	struct MHD_Response *r;
	enum MHD_Result ret;

	(void)version;
	(void)upload_data;
	(void)req_cls;
	if (*upload_size != 0)
		return reply(conn, MHD_HTTP_BAD_REQUEST, "no request body expected\n");
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "GET /metrics\n");
	if (strcmp(url, "/metrics") != 0)
		return reply(conn, MHD_HTTP_NOT_FOUND, "sipguard-ctrl serves /metrics\n");
	pthread_mutex_lock(&h->lock);
	h->requests++;
	r = MHD_create_response_from_buffer(h->doc.len, h->doc.p, MHD_RESPMEM_MUST_COPY);
	pthread_mutex_unlock(&h->lock);
	if (r == NULL)
		return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, CTL_HTTP_CTYPE);
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

struct ctl_http *
ctl_http_start(const char *listen, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct ctl_http *h;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;

	if (cfg_parse_listen(listen, &ss) != 1) {
		snprintf(err, errlen, "metrics.listen: \"%s\": not ADDR:PORT", listen);
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL) {
		snprintf(err, errlen, "metrics: out of memory");
		return NULL;
	}
	pthread_mutex_init(&h->lock, NULL);
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	errno = 0;
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR,
		(struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned int)CTL_HTTP_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned int)CTL_HTTP_TIMEOUT_S, MHD_OPTION_END);
	if (h->d == NULL) {
		snprintf(err, errlen, "metrics.listen: \"%s\": cannot listen: %s", listen,
			errno != 0 ? strerror(errno) : "libmicrohttpd refused");
		pthread_mutex_destroy(&h->lock);
		free(h);
		return NULL;
	}
	return h;
}

void
ctl_http_publish(struct ctl_http *h, struct ctl_metrics_buf *doc)
{
	struct ctl_metrics_buf old;

	pthread_mutex_lock(&h->lock);
	old = h->doc;
	h->doc = *doc;
	pthread_mutex_unlock(&h->lock);
	*doc = old;
	doc->len = 0;
	doc->oom = 0;
}

unsigned long
ctl_http_requests(struct ctl_http *h)
{
	unsigned long n;

	pthread_mutex_lock(&h->lock);
	n = h->requests;
	pthread_mutex_unlock(&h->lock);
	return n;
}

void
ctl_http_stop(struct ctl_http *h)
{
	if (h == NULL)
		return;
	MHD_stop_daemon(h->d);
	pthread_mutex_destroy(&h->lock);
	ctl_metrics_buf_free(&h->doc);
	free(h);
}
