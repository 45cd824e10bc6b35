/* SPDX-License-Identifier: BSD-3-Clause */
/* Benchmark mode (see dp_bench.h). */
#include <stdio.h>

#include "dp_bench.h"

int
dp_run_bench(const struct sg_config *cfg, const struct dp_offline_opts *o, unsigned int seconds,
	     const char *mode)
{
	(void)cfg;
	(void)o;
	(void)seconds;
	fprintf(stderr, "sipguard: --bench-mode %s: not available in this build\n", mode);
	return 1;
}
