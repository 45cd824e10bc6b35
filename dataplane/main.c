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
#include <signal.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>

#include "cfg.h"
#include "cfg_ref.h"
#include "dp_app.h"
#include "dp_bench.h"

#define SG_EXIT_USAGE 2 /* bad config, capture or arguments */
#define SG_EXIT_RUNTIME 1

#define SG_MAX_EAL_ARGS 64

struct sg_opts {
	const char *config;
	const char *pcap;
	int json;
	int directives;		    /* offline: print the directive timeline */
	const char *traces;	    /* offline: write traces of failed calls here */
	unsigned int bench_s;	    /* offline: replay the capture for this long */
	const char *bench_mode;	    /* full, io, naive */
	const char *bench_port;	    /* pcap, ring */
	unsigned int bench_workers; /* offline bench: worker lcores, 0 = 1 */
	int eal_argc;		    /* EAL arguments given after "--" */
	char **eal_argv;
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: sipguard -c CONFIG [--pcap FILE [--json]] [-- EAL-ARGS...]\n"
		"\n"
		"Without --pcap: the live dataplane on the config's ports, until\n"
		"SIGINT or SIGTERM.\n"
		"\n"
		"  -c, --config FILE   configuration (see config/README.md)\n"
		"  -p, --pcap FILE     classify a capture (pcap or pcapng, Ethernet or\n"
		"                      Linux cooked) to its end and print the totals\n"
		"  -j, --json          print the totals as JSON (schema in README.md)\n"
		"  -d, --directives    print the rate-limit directives the policy would\n"
		"                      have emitted, on packet time (JSON lines with -j)\n"
		"      --traces DIR    write pcapng traces of sampled failed calls to DIR,\n"
		"                      as sipguard-ctrl does live (config section traces)\n"
		"      --bench SECONDS replay the capture in a loop through the worker(s)\n"
		"                      and report cycles per packet (see scripts/bench)\n"
		"      --bench-mode M  full (default), hyperscan (full with the Hyperscan\n"
		"                      engine), io (receive and free only), or naive\n"
		"                      (unanchored regex baseline)\n"
		"      --bench-workers N  worker lcores for --bench, each replaying the\n"
		"                      capture on its own port (default 1)\n"
		"      --bench-port K  pcap (default: net_pcap, a copy per frame) or ring\n"
		"                      (net_ring, frames lent by reference, no copy)\n"
		"      --config-reference [text|md|man]\n"
		"                      print every config key (type, range, default,\n"
		"                      meaning) and exit; md and man as in the docs\n"
		"  -V, --version       print the version\n"
		"  -h, --help          this text\n"
		"\n"
		"EAL arguments after \"--\" replace the defaults (offline: in-memory, no\n"
		"PCI, one lcore, --no-huge when no hugepages are free; live: the config's\n"
		"lcores and file_prefix).\n");
}

/*
 * --config-reference [FORMAT]: the key reference for a box without the
 * docs, from the loader's own table; no config, no EAL. The format may
 * follow as the next argument, as getopt only attaches "=FORMAT".
 */
static int
print_reference(int argc, char **argv, const char *arg)
{
	enum cfg_ref_format fmt;

	if (arg == NULL && optind < argc && argv[optind][0] != '-')
		arg = argv[optind++];
	if (cfg_ref_format_parse(arg, &fmt) < 0) {
		fprintf(stderr, "sipguard: --config-reference \"%s\": text, md or man\n", arg);
		return SG_EXIT_USAGE;
	}
	if (cfg_ref_write(stdout, fmt) < 0 || fflush(stdout) != 0) {
		fprintf(stderr, "sipguard: --config-reference: cannot write: %s\n",
			strerror(errno));
		return SG_EXIT_RUNTIME;
	}
	return 0;
}

static int
parse_args(int argc, char **argv, struct sg_opts *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "pcap", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "directives", no_argument, NULL, 'd' },
		{ "traces", required_argument, NULL, 't' },
		{ "bench", required_argument, NULL, 'b' },
		{ "bench-mode", required_argument, NULL, 'm' },
		{ "bench-workers", required_argument, NULL, 'w' },
		{ "bench-port", required_argument, NULL, 'P' },
		{ "config-reference", optional_argument, NULL, 'R' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+c:p:jVh", longopts, NULL)) != -1) {
		char *end;
		unsigned long v;

		switch (c) {
		case 'd':
			o->directives = 1;
			break;
		case 't':
			if (optarg[0] == '\0') {
				fprintf(stderr, "sipguard: --traces needs a directory\n");
				return -1;
			}
			o->traces = optarg;
			break;
		case 'b':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || v < 1 || v > 3600) {
				fprintf(stderr, "sipguard: --bench \"%s\": seconds 1..3600\n",
					optarg);
				return -1;
			}
			o->bench_s = (unsigned int)v;
			break;
		case 'w':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || v < 1 || v > SG_MAX_WORKERS) {
				fprintf(stderr, "sipguard: --bench-workers \"%s\": 1..%d\n", optarg,
					SG_MAX_WORKERS);
				return -1;
			}
			o->bench_workers = (unsigned int)v;
			break;
		case 'm':
			if (strcmp(optarg, "full") != 0 && strcmp(optarg, "io") != 0 &&
				strcmp(optarg, "naive") != 0 && strcmp(optarg, "hyperscan") != 0) {
				fprintf(stderr,
					"sipguard: --bench-mode \"%s\": full, hyperscan, io or "
					"naive\n",
					optarg);
				return -1;
			}
			o->bench_mode = optarg;
			break;
		case 'P':
			if (strcmp(optarg, "pcap") != 0 && strcmp(optarg, "ring") != 0) {
				fprintf(stderr, "sipguard: --bench-port \"%s\": pcap or ring\n",
					optarg);
				return -1;
			}
			o->bench_port = optarg;
			break;
		case 'c':
			o->config = optarg;
			break;
		case 'p':
			o->pcap = optarg;
			break;
		case 'j':
			o->json = 1;
			break;
		case 'R':
			exit(print_reference(argc, argv, optarg));
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
	if ((o->json || o->directives || o->bench_s || o->traces) && o->pcap == NULL) {
		fprintf(stderr,
			"sipguard: --json, --directives, --traces and --bench go with --pcap "
			"(try --help)\n");
		return -1;
	}
	if ((o->bench_mode != NULL || o->bench_workers != 0 || o->bench_port != NULL) &&
		o->bench_s == 0) {
		fprintf(stderr,
			"sipguard: --bench-mode, --bench-workers and --bench-port go with "
			"--bench (try --help)\n");
		return -1;
	}
	return 0;
}

/*
 * Read the capture ourselves first: a missing or unreadable file, or a
 * link type we do not decode, is the operator's error and gets one line,
 * rather than a PMD failure deep inside EAL. The same pass keeps every
 * frame's time (µs), which the worker uses as packet time.
 */
static int
check_capture(const char *path, enum dp_link *link, uint64_t **times, uint64_t *n_times)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *hdr;
	const u_char *data;
	uint64_t n = 0, cap = 0, *t = NULL;
	pcap_t *p;
	int dlt, ret;

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
	switch (dlt) {
	case DLT_EN10MB:
		*link = DP_LINK_ETHER;
		break;
	case DLT_LINUX_SLL:
		*link = DP_LINK_SLL;
		break;
	default:
		fprintf(stderr,
			"sipguard: %s: link type %d (%s) is not supported (Ethernet, Linux "
			"cooked v1)\n",
			path, dlt,
			pcap_datalink_val_to_name(dlt) ? pcap_datalink_val_to_name(dlt) : "?");
		pcap_close(p);
		return -1;
	}
	while ((ret = pcap_next_ex(p, &hdr, &data)) == 1) {
		if (n == cap) {
			uint64_t *nt;

			cap = cap ? cap * 2 : 65536;
			nt = realloc(t, cap * sizeof(*t));
			if (nt == NULL) {
				fprintf(stderr, "sipguard: %s: out of memory\n", path);
				free(t);
				pcap_close(p);
				return -1;
			}
			t = nt;
		}
		t[n++] = (uint64_t)hdr->ts.tv_sec * 1000000 + (uint64_t)hdr->ts.tv_usec;
	}
	if (ret == -1) {
		fprintf(stderr, "sipguard: %s: bad capture after frame %" PRIu64 ": %s\n", path, n,
			pcap_geterr(p));
		free(t);
		pcap_close(p);
		return -1;
	}
	pcap_close(p);
	*times = t;
	*n_times = n;
	return 0;
}

/* Free hugepage memory in MiB (0 when none, or unknown). */
static long
hugepages_free_mb(void)
{
	char line[128];
	long n = 0, kb = 0, v;
	FILE *f = fopen("/proc/meminfo", "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "HugePages_Free: %ld", &v) == 1)
			n = v;
		else if (sscanf(line, "Hugepagesize: %ld kB", &v) == 1)
			kb = v;
	}
	fclose(f);
	return n * kb / 1024;
}

static int
eal_start(char *prog, const struct sg_opts *o, const struct sg_config *cfg, uint64_t frames)
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
	} else if (o->pcap == NULL) {
		static char lcores[sizeof(cfg->dp.lcores) + 16];
		static char prefix[sizeof(cfg->dp.file_prefix) + 16];
		unsigned int p, pci = 0;

		snprintf(lcores, sizeof(lcores), "--lcores=%s", cfg->dp.lcores);
		snprintf(prefix, sizeof(prefix), "--file-prefix=%s", cfg->dp.file_prefix);
		args[n++] = lcores;
		args[n++] = prefix;
		args[n++] = (char *)"--proc-type=primary";
		args[n++] = (char *)"--log-level=*:warning";
		/*
		 * Only the configured PCI devices are touched (allow-list);
		 * with none, the PCI bus is not scanned at all, so a NIC the
		 * host itself uses is never probed.
		 */
		for (p = 0; p < cfg->n_ports && n < SG_MAX_EAL_ARGS - 3; p++) {
			if (strncmp(cfg->ports[p].devargs, "net_", 4) == 0)
				continue;
			args[n++] = (char *)"-a";
			args[n++] = (char *)(uintptr_t)cfg->ports[p].devargs;
			pci++;
		}
		if (pci == 0)
			args[n++] = (char *)"--no-pci";
	} else {
		/* bench: lcores 0..N-1, the main lcore being worker 0 */
		static char lcores[32];
		unsigned int nw = o->bench_workers > 0 ? o->bench_workers : 1;

		if (nw > 1)
			snprintf(lcores, sizeof(lcores), "0-%u", nw - 1);
		else
			snprintf(lcores, sizeof(lcores), "0");
		args[n++] = (char *)"--no-pci";
		args[n++] = (char *)"--no-telemetry";
		args[n++] = (char *)"-l";
		args[n++] = lcores;
		args[n++] = (char *)"--log-level=*:warning";
		/* the hugepage sizes it did not find are not news */
		args[n++] = (char *)"--log-level=lib.eal:error";
		/*
		 * the trunk tables (~130 MiB of LPM) and the mbufs must fit in
		 * what is free; bench: the whole capture in mbufs per worker
		 */
		long need_mb = o->bench_s == 0
			? 256
			: 192 + (long)nw * (long)(frames * 2560 >> 20) + 16 * (long)nw;

		if (hugepages_free_mb() >= need_mb) {
			args[n++] = (char *)"--in-memory";
		} else {
			/* --no-huge implies legacy memory, which rules out --in-memory */
			args[n++] = (char *)"--no-huge";
			args[n++] = (char *)"--no-shconf";
			args[n++] = (char *)"-m";
			/* bench: the replayed capture lives in mbufs, once per worker */
			args[n++] = (char *)(o->bench_s > 0 ? "2048" : "512");
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

static volatile int sg_quit;
static volatile int sg_hup;

/* Only set the flag: workers and the main loop poll it. */
static void
on_signal(int sig)
{
	(void)sig;
	sg_quit = 1;
}

/* Live mode: the main loop reloads the config file (dp_reload.h). */
static void
on_hup(int sig)
{
	(void)sig;
	sg_hup = 1;
}

int
main(int argc, char **argv)
{
	static struct sg_config cfg;
	struct dp_offline_opts off;
	struct sg_opts o;
	enum dp_link link = DP_LINK_ETHER;
	uint64_t *times = NULL, n_times = 0;
	char err[512];
	int ret;

	if (parse_args(argc, argv, &o) != 0)
		return SG_EXIT_USAGE;
	if (cfg_load(o.config, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "sipguard: %s\n", err);
		return SG_EXIT_USAGE;
	}
	if (o.pcap == NULL && cfg.n_ports == 0) {
		fprintf(stderr, "sipguard: %s: no ports configured for live mode (or use --pcap)\n",
			o.config);
		return SG_EXIT_USAGE;
	}
	if (o.pcap != NULL && check_capture(o.pcap, &link, &times, &n_times) != 0)
		return SG_EXIT_USAGE;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (eal_start(argv[0], &o, &cfg, n_times) != 0)
		return SG_EXIT_RUNTIME;
	if (o.pcap != NULL) {
		off = (struct dp_offline_opts){
			.config_path = o.config,
			.pcap = o.pcap,
			.link = link,
			.json = o.json,
			.directives = o.directives,
			.traces = o.traces,
			.pkt_times = times,
			.n_pkt_times = n_times,
		};
		if (o.bench_s > 0)
			ret = dp_run_bench(&cfg, &off, o.bench_s,
				o.bench_mode != NULL ? o.bench_mode : "full", o.bench_port);
		else
			ret = dp_run_offline(&cfg, &off);
	} else {
		signal(SIGHUP, on_hup);
		ret = dp_run_live(&cfg, o.config, &sg_quit, &sg_hup);
	}
	rte_eal_cleanup();
	free(times);
	return ret;
}
