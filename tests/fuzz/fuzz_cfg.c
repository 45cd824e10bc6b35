/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz harness for cfg_load_buffer, the loader both daemons use. Checked
 * beyond "no crash": an error is one non-empty line that starts with the
 * file name, and leaves the config at its defaults (never half-loaded);
 * a success yields a config inside every documented bound (counts, name
 * characters, prefix families and host bits) and loads the same way
 * twice.
 *
 * libconfig leaks the string of a setting when a syntax error follows
 * it inside a group; scripts/fuzz runs this harness with the LSan
 * suppression in tests/fuzz/lsan.supp, which names only that frame.
 */
#include <string.h>

#include "cfg.h"
#include "fuzz_common.h"

#define FUZZ_CFG_NAME "fuzz.conf"

static struct sg_config fuzz_defaults;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	cfg_defaults(&fuzz_defaults);
	return 0;
}

static int
fuzz_name_ok(const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	return n > 0 && n < max;
}

static void
fuzz_prefix_ok(const struct cfg_prefix *p)
{
	unsigned int bits, i;

	FUZZ_CHECK(p->family == 4 || p->family == 6);
	bits = p->family == 4 ? 32 : 128;
	FUZZ_CHECK(p->depth <= bits);
	/* host bits are zero */
	for (i = p->depth; i < bits; i++)
		FUZZ_CHECK((p->addr[i / 8] & (0x80 >> (i % 8))) == 0);
	if (p->family == 4) {
		for (i = 4; i < 16; i++)
			FUZZ_CHECK(p->addr[i] == 0);
	}
}

static void
fuzz_cfg_ok(const struct sg_config *c)
{
	uint32_t i, j;

	FUZZ_CHECK(c->n_trunks <= SG_MAX_TRUNKS);
	FUZZ_CHECK(c->n_ports <= SG_MAX_PORTS);
	FUZZ_CHECK(c->n_sipp <= CFG_MAX_ADAPTERS && c->n_kamailio <= CFG_MAX_ADAPTERS);
	FUZZ_CHECK(c->dp.n_sip_ports <= SG_MAX_SIP_PORTS);
	for (i = 0; i < c->dp.n_sip_ports; i++)
		FUZZ_CHECK(c->dp.sip_ports[i] != 0);
	FUZZ_CHECK(strnlen(c->dp.lcores, sizeof(c->dp.lcores)) < sizeof(c->dp.lcores));
	FUZZ_CHECK(
		strnlen(c->dp.file_prefix, sizeof(c->dp.file_prefix)) < sizeof(c->dp.file_prefix));
	FUZZ_CHECK(strnlen(c->ctrl.socket, sizeof(c->ctrl.socket)) < sizeof(c->ctrl.socket));
	for (i = 0; i < c->n_trunks; i++) {
		const struct cfg_trunk *t = &c->trunks[i];

		FUZZ_CHECK(fuzz_name_ok(t->name, sizeof(t->name)));
		FUZZ_CHECK(t->n_prefixes >= 1 && t->n_prefixes <= SG_MAX_PREFIXES);
		FUZZ_CHECK(t->cps >= 1);
		for (j = 0; j < t->n_prefixes; j++)
			fuzz_prefix_ok(&t->prefixes[j]);
		/* trunk names are unique: they key the report */
		for (j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(c->trunks[j].name, t->name) != 0);
	}
	for (i = 0; i < c->n_ports; i++)
		FUZZ_CHECK(fuzz_name_ok(c->ports[i].devargs, sizeof(c->ports[i].devargs)));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sg_config cfg, cfg2;
	char err[256], err2[256];
	size_t n;
	int r, r2;

	if (size > 65536)
		return 0;
	memset(err, 0x5a, sizeof(err));
	r = cfg_load_buffer((const char *)data, size, FUZZ_CFG_NAME, &cfg, err, sizeof(err));
	FUZZ_CHECK(r == 0 || r == -1);
	n = strnlen(err, sizeof(err));
	FUZZ_CHECK(n < sizeof(err));
	if (r != 0) {
		FUZZ_CHECK(n > 0 && strchr(err, '\n') == NULL);
		FUZZ_CHECK(strncmp(err, FUZZ_CFG_NAME ":", strlen(FUZZ_CFG_NAME) + 1) == 0);
		FUZZ_CHECK(memcmp(&cfg, &fuzz_defaults, sizeof(cfg)) == 0);
	} else {
		fuzz_cfg_ok(&cfg);
	}
	r2 = cfg_load_buffer((const char *)data, size, FUZZ_CFG_NAME, &cfg2, err2, sizeof(err2));
	FUZZ_CHECK(r2 == r);
	FUZZ_CHECK(memcmp(&cfg, &cfg2, sizeof(cfg)) == 0);
	FUZZ_CHECK(strcmp(err, err2) == 0);
	return 0;
}
