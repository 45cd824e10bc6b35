/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * EAL for unit tests of modules that allocate from DPDK memory: no
 * hugepages, no shared files, no devices, so tests run anywhere and in
 * parallel.
 */
#ifndef SG_TEST_EAL_H
#define SG_TEST_EAL_H

#include <stdio.h>

#include <rte_eal.h>
#include <rte_log.h>

static inline int
sg_test_eal_init(void)
{
	char *args[] = {
		(char *)"sg_test",
		(char *)"--no-huge",
		(char *)"-m",
		(char *)"256",
		(char *)"--no-shconf",
		(char *)"--no-pci",
		(char *)"--no-telemetry",
		(char *)"-l",
		(char *)"0",
		(char *)"--log-level=*:error",
	};

	rte_openlog_stream(stderr);
	if (rte_eal_init((int)(sizeof(args) / sizeof(args[0])), args) < 0) {
		fprintf(stderr, "sg_test: EAL init failed\n");
		return -1;
	}
	return 0;
}

#endif /* SG_TEST_EAL_H */
