/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sipguard: the dataplane process.
 *
 * Start-up order: arguments, config (before EAL, so a bad file costs
 * nothing), capture check, EAL, Hyperscan database, trunk tables, mbuf
 * pool, port, workers; then run; then report and tear down in reverse.
 *
 * Offline mode (--pcap FILE) reads a capture through the net_pcap PMD on
 * the main lcore, to the end, at full speed, and prints the totals: the
 * very code path of the live dataplane, with a file for a port.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include <jansson.h>

#include "cfg.h"
#include "dp_port.h"
#include "dp_report.h"
#include "dp_sip.h"
#include "dp_trunk.h"
#include "dp_worker.h"

#define SG_EXIT_USAGE 2  /* bad config, capture or arguments */
#define SG_EXIT_RUNTIME 1

#define SG_MAX_EAL_ARGS 64

struct sg_opts {
	const char *config;
	const char *pcap;
	int json;
	int eal_argc;            /* EAL arguments given after "--" */
	char **eal_argv;
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: sipguard -c CONFIG --pcap FILE [--json] [-- EAL-ARGS...]\n"
		"\n"
		"  -c, --config FILE   configuration (see config/README.md)\n"
		"  -p, --pcap FILE     classify a capture (pcap or pcapng, Ethernet or\n"
		"                      Linux cooked) to its end and print the totals\n"
		"  -j, --json          print the totals as JSON (schema in README.md)\n"
		"  -V, --version       print the version\n"
		"  -h, --help          this text\n"
		"\n"
		"EAL arguments after \"--\" replace the defaults (in-memory, no PCI, one\n"
		"lcore, --no-huge when no hugepages are free).\n");
}

static int
parse_args(int argc, char **argv, struct sg_opts *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "pcap", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+c:p:jVh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 'p':
			o->pcap = optarg;
			break;
		case 'j':
			o->json = 1;
			break;
		case 'V':
			printf("sipguard %s\n", SG_VERSION);
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		default:
			fprintf(stderr, "sipguard: bad argument \"%s\" (try --help)\n",
				argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc && strcmp(argv[optind - 1], "--") != 0) {
		fprintf(stderr, "sipguard: unexpected argument \"%s\" (try --help)\n",
			argv[optind]);
		return -1;
	}
	o->eal_argc = argc - optind;
	o->eal_argv = argv + optind;
	if (o->config == NULL) {
		fprintf(stderr, "sipguard: missing -c CONFIG (try --help)\n");
		return -1;
	}
	if (o->pcap == NULL) {
		fprintf(stderr, "sipguard: missing --pcap FILE; live mode needs ports in the "
				"config (try --help)\n");
		return -1;
	}
	return 0;
}

/*
 * Open the capture ourselves first: a missing or unreadable file, or a
 * link type we do not decode, is the operator's error and gets one line,
 * rather than a PMD failure deep inside EAL.
 */
static int
check_capture(const char *path, enum dp_link *link)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p;
	int dlt;

	if (strchr(path, ',') != NULL) {
		fprintf(stderr, "sipguard: %s: capture path must not contain ','\n", path);
		return -1;
	}
	p = pcap_open_offline(path, errbuf);
	if (p == NULL) {
		fprintf(stderr, "sipguard: %s: cannot read capture: %s\n", path, errbuf);
		return -1;
	}
	dlt = pcap_datalink(p);
	pcap_close(p);
	switch (dlt) {
	case DLT_EN10MB:
		*link = DP_LINK_ETHER;
		return 0;
	case DLT_LINUX_SLL:
		*link = DP_LINK_SLL;
		return 0;
	default:
		fprintf(stderr,
			"sipguard: %s: link type %d (%s) is not supported (Ethernet, Linux "
			"cooked v1)\n",
			path, dlt, pcap_datalink_val_to_name(dlt) ? pcap_datalink_val_to_name(dlt) : "?");
		return -1;
	}
}

static int
hugepages_free(void)
{
	char line[128];
	long n = 0;
	FILE *f = fopen("/proc/meminfo", "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "HugePages_Free: %ld", &n) == 1)
			break;
	}
	fclose(f);
	return n > 0;
}

static int
eal_start(char *prog, const struct sg_opts *o)
{
	char *args[SG_MAX_EAL_ARGS];
	int n = 0, i;

	args[n++] = prog;
	if (o->eal_argc > 0) {
		if (o->eal_argc > SG_MAX_EAL_ARGS - 1) {
			fprintf(stderr, "sipguard: too many EAL arguments\n");
			return -1;
		}
		for (i = 0; i < o->eal_argc; i++)
			args[n++] = o->eal_argv[i];
	} else {
		args[n++] = (char *)"--no-pci";
		args[n++] = (char *)"--no-telemetry";
		args[n++] = (char *)"-l";
		args[n++] = (char *)"0";
		args[n++] = (char *)"--log-level=*:warning";
		if (hugepages_free()) {
			args[n++] = (char *)"--in-memory";
		} else {
			/* --no-huge implies legacy memory, which rules out --in-memory */
			args[n++] = (char *)"--no-huge";
			args[n++] = (char *)"--no-shconf";
			args[n++] = (char *)"-m";
			args[n++] = (char *)"512";
		}
	}
	/* logs on stderr: stdout carries the report */
	rte_openlog_stream(stderr);
	if (rte_eal_init(n, args) < 0) {
		fprintf(stderr, "sipguard: EAL init failed: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

static int
run_offline(const struct sg_opts *o, const struct sg_config *cfg, enum dp_link link)
{
	struct dp_worker_shared *sh = NULL;
	struct dp_worker *w = NULL;
	struct rte_mempool *mp = NULL;
	struct dp_trunks *trunks = NULL;
	struct dp_sip_db *db = NULL;
	hs_scratch_t *proto = NULL;
	struct dp_totals *tot = NULL;
	struct rte_mbuf *pkts[512];
	struct rte_eth_stats st;
	struct dp_port_conf pc;
	char devargs[4096], err[512];
	int port = -1, ret = SG_EXIT_RUNTIME;
	int socket = (int)rte_socket_id();

	db = dp_sip_db_create(err, sizeof(err));
	if (db == NULL || dp_sip_scratch_alloc(db, &proto) != 0) {
		fprintf(stderr, "sipguard: %s\n", db == NULL ? err : "cannot allocate scratch");
		goto out;
	}
	trunks = dp_trunks_create(cfg, "sg_trunks", socket, err, sizeof(err));
	if (trunks == NULL) {
		fprintf(stderr, "sipguard: %s: %s\n", o->config, err);
		ret = SG_EXIT_USAGE;
		goto out;
	}
	sh = rte_zmalloc_socket("dp_shared", sizeof(*sh), RTE_CACHE_LINE_SIZE, socket);
	tot = calloc(1, sizeof(*tot));
	mp = rte_pktmbuf_pool_create("sg_mbuf", cfg->dp.mbufs, 256, 0,
		RTE_MBUF_DEFAULT_BUF_SIZE, socket);
	if (sh == NULL || tot == NULL || mp == NULL) {
		fprintf(stderr, "sipguard: out of memory (mbuf pool of %u)\n", cfg->dp.mbufs);
		goto out;
	}
	snprintf(devargs, sizeof(devargs), "net_pcap_sg0,rx_pcap=%s", o->pcap);
	pc = (struct dp_port_conf){ .devargs = devargs, .n_rxq = 1, .rx_desc = 1024 };
	dp_worker_shared_init(sh, cfg);
	sh->db = db;
	sh->trunks = trunks;
	sh->link = link;
	port = dp_port_start(&pc, mp, &sh->ts_dynfield, &sh->ts_dynflag, err, sizeof(err));
	if (port < 0) {
		fprintf(stderr, "sipguard: %s: %s\n", o->pcap, err);
		ret = SG_EXIT_USAGE;
		goto out;
	}
	w = dp_worker_create(sh, cfg, proto, socket, err, sizeof(err));
	if (w == NULL) {
		fprintf(stderr, "sipguard: %s\n", err);
		goto out;
	}
	w->port_id = (uint16_t)port;

	/*
	 * A file never runs dry before its end, and the pool cannot run out
	 * (each burst is freed before the next), so an empty burst is EOF.
	 */
	for (;;) {
		uint16_t n = rte_eth_rx_burst((uint16_t)port, 0, pkts,
			(uint16_t)RTE_MIN(cfg->dp.burst, RTE_DIM(pkts)));

		if (n == 0)
			break;
		dp_worker_burst(w, pkts, n);
	}
	if (rte_eth_stats_get((uint16_t)port, &st) == 0 && (st.imissed || st.ierrors || st.rx_nombuf))
		fprintf(stderr, "sipguard: warning: port dropped packets: missed %" PRIu64
				" errors %" PRIu64 " no-mbuf %" PRIu64 "\n",
			st.imissed, st.ierrors, st.rx_nombuf);

	sg_source_counters_add(&tot->src, &w->src);
	tot->src.retrans_evictions += dp_retrans_stats(w->rt)->evictions;
	for (int i = 0; i < SG_TRUNK_SLOTS; i++)
		sg_trunk_counters_add(&tot->trunk[i], &w->trunk[i]);
	if (o->json) {
		json_t *doc = dp_report_json(cfg, tot);

		if (doc == NULL || json_dumpf(doc, stdout, JSON_COMPACT) != 0) {
			fprintf(stderr, "sipguard: cannot write the JSON report\n");
			json_decref(doc);
			goto out;
		}
		fputc('\n', stdout);
		json_decref(doc);
	} else {
		dp_report_table(stdout, cfg, tot);
	}
	ret = 0;
out:
	dp_worker_free(w);
	if (port >= 0)
		dp_port_stop((uint16_t)port);
	rte_mempool_free(mp);
	free(tot);
	rte_free(sh);
	dp_trunks_free(trunks);
	if (proto != NULL)
		hs_free_scratch(proto);
	dp_sip_db_free(db);
	return ret;
}

int
main(int argc, char **argv)
{
	static struct sg_config cfg;
	struct sg_opts o;
	enum dp_link link = DP_LINK_ETHER;
	char err[512];
	int ret;

	if (parse_args(argc, argv, &o) != 0)
		return SG_EXIT_USAGE;
	if (cfg_load(o.config, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "sipguard: %s\n", err);
		return SG_EXIT_USAGE;
	}
	if (check_capture(o.pcap, &link) != 0)
		return SG_EXIT_USAGE;
	if (eal_start(argv[0], &o) != 0)
		return SG_EXIT_RUNTIME;
	ret = run_offline(&o, &cfg, link);
	rte_eal_cleanup();
	return ret;
}
