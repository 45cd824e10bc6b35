/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Small helpers the control-plane modules share.
 */
#ifndef CTL_UTIL_H
#define CTL_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/* Write a one-line error into a caller's buffer, which may be absent. */
static inline void __attribute__((format(printf, 3, 4)))
ctl_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

#endif /* CTL_UTIL_H */
