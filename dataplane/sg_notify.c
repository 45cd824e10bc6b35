/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sg_notify: the sd_notify(3) messages of both daemons (see sg_notify.h).
 * libsystemd is optional at build time (meson: -Dsystemd=auto): without
 * it the daemons run the same, and systemd would have to use Type=simple.
 */
#include <stdarg.h>
#include <stdio.h>

#ifdef SG_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "sg_notify.h"

/* STATUS= is one line shown by systemctl status: keep it short. */
#define SG_NOTIFY_STATUS_MAX 256

static int
notify(const char *state, const char *fmt, va_list ap)
{
	char status[SG_NOTIFY_STATUS_MAX];
	char *p;

	vsnprintf(status, sizeof(status), fmt, ap);
	/* a newline would start a new assignment in the message */
	for (p = status; *p != '\0'; p++)
		if (*p == '\n')
			*p = ' ';
#ifdef SG_HAVE_SYSTEMD
	return sd_notifyf(0, "%s\nSTATUS=%s", state, status);
#else
	(void)state;
	return 0;
#endif
}

int
sg_notify_ready(const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = notify("READY=1", fmt, ap);
	va_end(ap);
	return ret;
}

int
sg_notify_stopping(const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = notify("STOPPING=1", fmt, ap);
	va_end(ap);
	return ret;
}

int
sg_notify_supported(void)
{
#ifdef SG_HAVE_SYSTEMD
	return 1;
#else
	return 0;
#endif
}
