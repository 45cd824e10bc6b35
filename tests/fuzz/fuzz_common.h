/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shared by the fuzz harnesses: the libFuzzer entry points and an
 * invariant check that aborts with one line naming the harness, the
 * broken condition and where, so a crash report says what went wrong and
 * not only that something did. The harnesses build either against
 * libFuzzer (clang -fsanitize=fuzzer) or against fuzz_main.c, a plain
 * main() that replays files, so CI runs the regression inputs with any
 * compiler.
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond)                                                                     \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, \
				#cond);                                                      \
			abort();                                                             \
		}                                                                            \
	} while (0)

/* Is [p, p+n) inside [base, base+len)? */
static inline int
fuzz_inside(const void *base, size_t len, const void *p, size_t n)
{
	const uint8_t *b = base, *q = p;

	return q >= b && q <= b + len && n <= (size_t)(b + len - q);
}

#endif /* FUZZ_COMMON_H */
