/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The /metrics endpoint: libmicrohttpd on its own thread serves the last
 * exposition the control loop published. The loop renders into a buffer
 * of its own and swaps it in under a mutex held only for the swap, and a
 * request holds the mutex only to copy the current document; so a slow or
 * stuck scraper never stalls the loop, and a scrape never sees a document
 * half written.
 */
#ifndef CTL_HTTP_H
#define CTL_HTTP_H

#include <stddef.h>

#include "ctl_metrics.h"

#define CTL_HTTP_CONNECTIONS 16 /* scrapers served at once */
#define CTL_HTTP_TIMEOUT_S 10	/* idle connections closed after this */

struct ctl_http;

/*
 * Listen on `listen` ("ADDR:PORT" or "[V6]:PORT", config/cfg.h). Returns
 * NULL with one line in err when the address is bad or cannot be bound.
 */
struct ctl_http *ctl_http_start(const char *listen, char *err, size_t errlen);

/*
 * Publish a new document: swaps *doc with the one served, so the caller
 * gets the previous buffer back to render into next time.
 */
void ctl_http_publish(struct ctl_http *h, struct ctl_metrics_buf *doc);

/* Requests served so far (for the log). */
unsigned long ctl_http_requests(struct ctl_http *h);

/* Stop the thread, close the socket, free the documents. NULL is fine. */
void ctl_http_stop(struct ctl_http *h);

#endif /* CTL_HTTP_H */
