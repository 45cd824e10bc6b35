/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Replay driver for the fuzz harnesses without libFuzzer: runs
 * LLVMFuzzerTestOneInput over every file named on the command line, and
 * over every regular file of a named directory, so saved crash
 * reproducers become regression tests any compiler can build. An
 * invariant broken by an input aborts, as under the fuzzer.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_common.h"

static int
fuzz_run_file(const char *path)
{
	struct stat sb;
	uint8_t *buf;
	size_t n;
	FILE *f;

	f = fopen(path, "rb");
	if (f == NULL || fstat(fileno(f), &sb) != 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		if (f != NULL)
			fclose(f);
		return -1;
	}
	/* exact size: an over-read runs into the allocator's red zone */
	buf = malloc(sb.st_size > 0 ? (size_t)sb.st_size : 1);
	if (buf == NULL) {
		fclose(f);
		return -1;
	}
	n = fread(buf, 1, (size_t)sb.st_size, f);
	fclose(f);
	fprintf(stderr, "replay %s (%zu bytes)\n", path, n);
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return 0;
}

static int
fuzz_run_path(const char *path, unsigned int *count)
{
	struct dirent **ents;
	struct stat sb;
	int i, n, rc = 0;

	if (stat(path, &sb) != 0) {
		/* a harness with no saved reproducer has no directory yet */
		fprintf(stderr, "%s: %s: nothing to replay\n", path, strerror(errno));
		return errno == ENOENT ? 0 : -1;
	}
	if (!S_ISDIR(sb.st_mode)) {
		(*count)++;
		return fuzz_run_file(path);
	}
	/* sorted, so a run is the same run every time */
	n = scandir(path, &ents, NULL, alphasort);
	if (n < 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		char sub[4096];

		if (ents[i]->d_name[0] != '.' &&
			snprintf(sub, sizeof(sub), "%s/%s", path, ents[i]->d_name) <
				(int)sizeof(sub) &&
			stat(sub, &sb) == 0 && S_ISREG(sb.st_mode)) {
			(*count)++;
			if (fuzz_run_file(sub) != 0)
				rc = -1;
		}
		free(ents[i]);
	}
	free(ents);
	return rc;
}

int
main(int argc, char **argv)
{
	unsigned int count = 0;
	int i, rc = 0;

	LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		if (fuzz_run_path(argv[i], &count) != 0)
			rc = 1;
	}
	printf("%s: %u inputs replayed\n", argv[0], count);
	return rc;
}
