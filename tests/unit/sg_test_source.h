/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Files of the source tree for unit tests that check a shipped file (the
 * example config, the generated reference) against the code. Include
 * after <cmocka.h>.
 */
#ifndef SG_TEST_SOURCE_H
#define SG_TEST_SOURCE_H

#include <stdio.h>
#include <stdlib.h>

/* The whole of a file under the source root, NUL-terminated; NULL if unreadable. */
static char *
read_source(const char *rel)
{
	const char *root = getenv("MESON_SOURCE_ROOT");
	char path[4096];
	size_t len = 0, cap = 65536, n;
	char *buf, *p;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root != NULL ? root : "..", rel);
	f = fopen(path, "re");
	if (f == NULL)
		return NULL;
	buf = malloc(cap);
	assert_non_null(buf);
	while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len - 1 == 0) {
			cap *= 2;
			p = realloc(buf, cap);
			assert_non_null(p);
			buf = p;
		}
	}
	fclose(f);
	buf[len] = '\0';
	return buf;
}

#endif /* SG_TEST_SOURCE_H */
