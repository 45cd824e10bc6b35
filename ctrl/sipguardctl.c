/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sipguardctl: the operator's command line for a running sipguard-ctrl.
 * It sends one request per command over the control socket and prints the
 * answer for a person (tables, sparklines) or, with -j, as JSON for
 * scripts. One table of commands drives both dispatch and the usage text;
 * the rendering itself lives in ctl_render.c, away from all I/O.
 *
 * Exit status: 0 success, 1 the server answered with an error (e.g. an
 * unknown trunk), 2 bad usage, 3 sipguard-ctrl unreachable or its answer
 * unreadable.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ctl_api.h"
#include "ctl_render.h"

#ifndef SG_VERSION
#define SG_VERSION "unknown"
#endif

#define CTL_CLI_NAME "sipguardctl"
#define CTL_CLI_TIMEOUT_MS 10000
#define CTL_CLI_TRUNK_EVENTS 10

enum ctl_cli_exit {
	CTL_CLI_OK = 0,
	CTL_CLI_EREMOTE = 1,
	CTL_CLI_EUSAGE = 2,
	CTL_CLI_EREACH = 3,
};

/* Options and arguments of one command line, after parsing. */
struct ctl_cli {
	const char *socket;
	bool json;
	bool has_count;
	bool follow;	     /* -f */
	unsigned long count; /* -n */
	double interval;     /* -i, seconds */
	int npos;
	char **pos; /* positional arguments */
	const struct ctl_cli_cmd *cmd;
	int fd;
	json_int_t next_id;
};

struct ctl_cli_cmd {
	const char *name;
	const char *args; /* usage of its own options and arguments */
	const char *opts; /* its getopt letters besides -j and -h */
	int min_pos;
	int max_pos;
	int (*fn)(struct ctl_cli *cli);
	const char *help;
};

static volatile sig_atomic_t ctl_cli_stop;

static int ctl_cli_status(struct ctl_cli *cli);
static int ctl_cli_trunks(struct ctl_cli *cli);
static int ctl_cli_trunk(struct ctl_cli *cli);
static int ctl_cli_events(struct ctl_cli *cli);
static int ctl_cli_totals(struct ctl_cli *cli);
static int ctl_cli_watch(struct ctl_cli *cli);
static int ctl_cli_directives(struct ctl_cli *cli);
static int ctl_cli_set(struct ctl_cli *cli);
static int ctl_cli_reload(struct ctl_cli *cli);
static int ctl_cli_fleet(struct ctl_cli *cli);
static int ctl_cli_trace(struct ctl_cli *cli);
static int ctl_cli_help(struct ctl_cli *cli);

static const struct ctl_cli_cmd ctl_cli_cmds[] = {
	{ "status", "", "", 0, 0, ctl_cli_status,
		"version, uptime, ports, lcores and ring counters" },
	{ "trunks", "", "", 0, 0, ctl_cli_trunks,
		"per-trunk CPS, concurrent calls, 503s and answer rate" },
	{ "trunk", "NAME", "", 1, 1, ctl_cli_trunk,
		"one trunk: figures, 60 s sparklines and its last 503 events" },
	{ "events", "[-n N]", "n:", 0, 0, ctl_cli_events,
		"recent 503 events of every trunk, newest first" },
	{ "totals", "", "", 0, 0, ctl_cli_totals, "cumulative message counters per trunk" },
	{ "watch", "[-i SECONDS] [-n ITERATIONS]", "i:n:", 0, 0, ctl_cli_watch,
		"redraw the trunks table every interval (default 1 s) until ^C" },
	{ "directives", "[-n N] [-f]", "n:f", 0, 0, ctl_cli_directives,
		"rate-limit directives, oldest first; -f follows new ones" },
	{ "set", "NAME cps N", "", 3, 3, ctl_cli_set, "override a trunk's agreed CPS at run time" },
	{ "reload", "", "", 0, 0, ctl_cli_reload,
		"apply the changed config file (trunks, policy, sinks) without a restart" },
	{ "fleet", "", "", 0, 0, ctl_cli_fleet,
		"shared accounts: each edge's rate, share, limit, state and age" },
	{ "trace", "TRUNK [CALL-ID]", "", 1, 2, ctl_cli_trace,
		"ladder of a traced failed call (the newest without CALL-ID) and its pcapng" },
	{ "help", "", "", 0, 0, ctl_cli_help, "show this text" },
	{ NULL, NULL, NULL, 0, 0, NULL, NULL },
};

static void
ctl_cli_usage(FILE *f)
{
	const struct ctl_cli_cmd *c;
	char head[80];

	fprintf(f, "usage: %s [-s SOCKET] [-j] COMMAND [ARGS]\n\ncommands:\n", CTL_CLI_NAME);
	for (c = ctl_cli_cmds; c->name != NULL; c++) {
		snprintf(head, sizeof(head), "%s %s", c->name, c->args);
		fprintf(f, "  %-36s %s\n", head, c->help);
	}
	fprintf(f,
		"\noptions (global, or after any command):\n"
		"  -j, --json          print the response data as JSON\n"
		"  -s, --socket PATH   control socket (default %s;\n"
		"                      $SIPGUARD_SOCKET overrides the default)\n"
		"  -h, --help          show this text\n"
		"  -V, --version       show the version\n",
		CTL_API_DEFAULT_SOCKET);
}

static int
ctl_cli_usage_error(const struct ctl_cli_cmd *c, const char *why)
{
	if (c != NULL)
		fprintf(stderr, "%s: usage: %s %s%s%s [-j]%s%s\n", CTL_CLI_NAME, CTL_CLI_NAME,
			c->name, c->args[0] != '\0' ? " " : "", c->args, why != NULL ? ": " : "",
			why != NULL ? why : "");
	else
		fprintf(stderr, "%s: usage: %s [-s SOCKET] [-j] COMMAND [ARGS]%s%s (see %s help)\n",
			CTL_CLI_NAME, CTL_CLI_NAME, why != NULL ? ": " : "", why != NULL ? why : "",
			CTL_CLI_NAME);
	return CTL_CLI_EUSAGE;
}

/* strtoul with an end check and a range check; -1 if s is not in range. */
static int
ctl_cli_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	unsigned long v;
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
ctl_cli_seconds(const char *s, double *out)
{
	double v;
	char *end;

	if (s == NULL || ((*s < '0' || *s > '9') && *s != '.'))
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !(v >= 0.1 && v <= 3600))
		return -1;
	*out = v;
	return 0;
}

/*
 * Send cmd and return its data (a new reference), or NULL after printing
 * the error; *rc is then the exit status.
 */
static json_t *
ctl_cli_call(struct ctl_cli *cli, const char *cmd, json_t *args, int *rc)
{
	struct ctl_response resp;
	char err[256];
	json_t *data;

	if (cli->fd < 0) {
		cli->fd = ctl_client_connect(cli->socket);
		if (cli->fd < 0) {
			fprintf(stderr,
				"%s: cannot reach sipguard-ctrl at %s: %s (is sipguard-ctrl "
				"running?)\n",
				CTL_CLI_NAME, cli->socket, strerror(errno));
			*rc = CTL_CLI_EREACH;
			return NULL;
		}
	}
	if (ctl_client_call(cli->fd, ++cli->next_id, cmd, args, CTL_CLI_TIMEOUT_MS, &resp, err,
		    sizeof(err)) < 0) {
		if (!ctl_cli_stop)
			fprintf(stderr, "%s: sipguard-ctrl at %s: %s\n", CTL_CLI_NAME, cli->socket,
				err);
		*rc = ctl_cli_stop ? CTL_CLI_OK : CTL_CLI_EREACH;
		return NULL;
	}
	if (resp.status != 0) {
		fprintf(stderr, "%s: %s\n", CTL_CLI_NAME, resp.error);
		*rc = CTL_CLI_EREMOTE;
		return NULL;
	}
	data = resp.data;
	resp.data = NULL;
	return data;
}

static int
ctl_cli_print_json(json_t *data, size_t flags)
{
	if (json_dumpf(data, stdout, flags | JSON_REAL_PRECISION(15)) < 0)
		return CTL_CLI_EREACH;
	fputc('\n', stdout);
	return CTL_CLI_OK;
}

/* Call cmd, then print its data as JSON or through render. */
static int
ctl_cli_simple(struct ctl_cli *cli, const char *cmd, json_t *args, int (*render)(FILE *, json_t *))
{
	json_t *data;
	int rc = CTL_CLI_OK;

	data = ctl_cli_call(cli, cmd, args, &rc);
	json_decref(args);
	if (data == NULL)
		return rc;
	if (cli->json) {
		rc = ctl_cli_print_json(data, JSON_INDENT(2));
	} else if (render(stdout, data) < 0) {
		fprintf(stderr, "%s: unexpected answer to \"%s\" from sipguard-ctrl\n",
			CTL_CLI_NAME, cmd);
		rc = CTL_CLI_EREACH;
	}
	json_decref(data);
	return rc;
}

static int
ctl_cli_status(struct ctl_cli *cli)
{
	return ctl_cli_simple(cli, "status", NULL, ctl_render_status);
}

static int
ctl_cli_trunks(struct ctl_cli *cli)
{
	return ctl_cli_simple(cli, "trunks", NULL, ctl_render_trunks);
}

static int
ctl_cli_totals(struct ctl_cli *cli)
{
	return ctl_cli_simple(cli, "totals", NULL, ctl_render_totals);
}

static int
ctl_cli_fleet(struct ctl_cli *cli)
{
	return ctl_cli_simple(cli, "fleet", NULL, ctl_render_fleet);
}

static int
ctl_cli_render_trunk(FILE *f, json_t *data)
{
	return ctl_render_trunk(f, data, CTL_CLI_TRUNK_EVENTS);
}

static int
ctl_cli_trunk(struct ctl_cli *cli)
{
	json_t *args;

	args = json_pack("{s:s}", "name", cli->pos[0]);
	if (args == NULL)
		return ctl_cli_usage_error(cli->cmd, "NAME must be valid UTF-8");
	return ctl_cli_simple(cli, "trunk", args, ctl_cli_render_trunk);
}

static int
ctl_cli_trace(struct ctl_cli *cli)
{
	json_t *args;

	args = cli->npos > 1 ? json_pack("{s:s, s:s}", "trunk", cli->pos[0], "call_id", cli->pos[1])
			     : json_pack("{s:s}", "trunk", cli->pos[0]);
	if (args == NULL)
		return ctl_cli_usage_error(cli->cmd, "TRUNK and CALL-ID must be valid UTF-8");
	return ctl_cli_simple(cli, "trace", args, ctl_render_trace);
}

static int
ctl_cli_events(struct ctl_cli *cli)
{
	json_t *args = NULL, *data, *events;
	size_t max = SIZE_MAX;
	int rc = CTL_CLI_OK;

	if (cli->has_count) {
		max = cli->count;
		args = json_pack("{s:I}", "limit", (json_int_t)cli->count);
	}
	data = ctl_cli_call(cli, "events", args, &rc);
	json_decref(args);
	if (data == NULL)
		return rc;
	events = json_object_get(data, "events");
	if (!json_is_array(events)) {
		fprintf(stderr, "%s: unexpected answer to \"events\" from sipguard-ctrl\n",
			CTL_CLI_NAME);
		json_decref(data);
		return CTL_CLI_EREACH;
	}
	/* the server may not know "limit": cut the list here as well */
	while (json_array_size(events) > max)
		json_array_remove(events, json_array_size(events) - 1);
	if (cli->json)
		rc = ctl_cli_print_json(data, JSON_INDENT(2));
	else
		ctl_render_events(stdout, data, max);
	json_decref(data);
	return rc;
}

static void
ctl_cli_on_signal(int sig)
{
	(void)sig;
	ctl_cli_stop = 1;
}

static void
ctl_cli_sleep(double seconds)
{
	struct timespec ts;

	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
	/* a signal cuts the sleep short; ctl_cli_stop then ends the loop */
	nanosleep(&ts, NULL);
}

static int
ctl_cli_directives(struct ctl_cli *cli)
{
	struct sigaction sa;
	json_int_t since = 0;
	json_t *data, *args, *list, *d;
	size_t i;
	int rc = CTL_CLI_OK, first = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = ctl_cli_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	while (!ctl_cli_stop) {
		args = json_pack("{s:I, s:I}", "since", since, "limit",
			(json_int_t)(first && cli->has_count ? cli->count : 0));
		data = ctl_cli_call(cli, "directives", args, &rc);
		json_decref(args);
		if (data == NULL)
			return rc;
		list = json_object_get(data, "directives");
		if (!json_is_array(list)) {
			json_decref(data);
			return CTL_CLI_EREACH;
		}
		if (cli->json && !cli->follow) {
			rc = ctl_cli_print_json(data, JSON_INDENT(2));
		} else {
			json_array_foreach(list, i, d)
			{
				if (cli->json)
					ctl_cli_print_json(d, JSON_COMPACT);
				else
					ctl_render_directive(stdout, d);
			}
		}
		since = json_integer_value(json_object_get(data, "last_seq"));
		json_decref(data);
		fflush(stdout);
		first = 0;
		if (!cli->follow || rc != CTL_CLI_OK)
			break;
		ctl_cli_sleep(0.5);
	}
	return rc;
}

static int
ctl_cli_set(struct ctl_cli *cli)
{
	unsigned long cps;
	json_t *args, *data;
	int rc = CTL_CLI_OK;

	if (strcmp(cli->pos[1], "cps") != 0 || ctl_cli_ulong(cli->pos[2], 1, 100000, &cps) < 0)
		return ctl_cli_usage_error(cli->cmd, "expected: set NAME cps N (N 1..100000)");
	args = json_pack("{s:s, s:I}", "name", cli->pos[0], "cps", (json_int_t)cps);
	data = ctl_cli_call(cli, "set", args, &rc);
	json_decref(args);
	if (data == NULL)
		return rc;
	if (cli->json)
		rc = ctl_cli_print_json(data, JSON_INDENT(2));
	else
		printf("%s: agreed CPS now %lu\n", cli->pos[0], cps);
	json_decref(data);
	return rc;
}

/* One line per trunk that changed, then the removed ones. */
static int
ctl_cli_reload(struct ctl_cli *cli)
{
	json_t *data, *t;
	int rc = CTL_CLI_OK;
	size_t i;

	data = ctl_cli_call(cli, "reload", NULL, &rc);
	if (data == NULL)
		return rc;
	if (cli->json) {
		rc = ctl_cli_print_json(data, JSON_INDENT(2));
		json_decref(data);
		return rc;
	}
	printf("reloaded: %s\n", json_string_value(json_object_get(data, "dataplane")) ?: "");
	json_array_foreach(json_object_get(data, "trunks"), i, t)
	{
		const char *change = json_string_value(json_object_get(t, "change"));
		const char *was = json_string_value(json_object_get(t, "was"));

		if (change == NULL || strcmp(change, "same") == 0)
			continue;
		printf("  %-20s %s%s%s\n", json_string_value(json_object_get(t, "name")) ?: "?",
			change, was != NULL ? " from " : "", was != NULL ? was : "");
	}
	json_array_foreach(json_object_get(data, "removed"), i, t)
		printf("  %-20s removed (its totals stay)\n", json_string_value(t) ?: "?");
	if (json_is_true(json_object_get(data, "policy_changed")))
		printf("  policy parameters changed\n");
	if (json_is_true(json_object_get(data, "sinks_reopened")))
		printf("  sinks and adapters reopened\n");
	json_decref(data);
	return rc;
}

/*
 * Draw a frame over the previous one, as watch(1) and top(1) do: cursor
 * home, each line cleared to its end as it is written, whatever is left
 * below cleared, so the screen never blanks between frames (no flicker).
 * The first frame clears the screen.
 */
static void
ctl_cli_redraw(const char *frame, int first)
{
	const char *p = frame, *nl;

	fputs(first ? "\033[H\033[2J" : "\033[H", stdout);
	while (*p != '\0') {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		fwrite(p, 1, (size_t)(nl - p), stdout);
		fputs("\033[K", stdout);
		if (*nl == '\0')
			break;
		fputc('\n', stdout);
		p = nl + 1;
	}
	fputs("\033[J", stdout);
}

static int
ctl_cli_watch(struct ctl_cli *cli)
{
	bool tty = isatty(STDOUT_FILENO) == 1;
	struct sigaction sa;
	char stamp[32];
	unsigned long i;
	json_t *data;
	struct tm tm;
	time_t now;
	int rc = CTL_CLI_OK;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = ctl_cli_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (cli->interval == 0)
		cli->interval = 1;
	for (i = 0; !ctl_cli_stop && (!cli->has_count || i < cli->count); i++) {
		if (i > 0)
			ctl_cli_sleep(cli->interval);
		if (ctl_cli_stop)
			break;
		data = ctl_cli_call(cli, "trunks", NULL, &rc);
		if (data == NULL)
			return rc;
		if (cli->json) {
			rc = ctl_cli_print_json(data, JSON_COMPACT);
		} else {
			char *frame = NULL;
			size_t len = 0;
			FILE *mf = open_memstream(&frame, &len);

			if (mf == NULL) {
				json_decref(data);
				return CTL_CLI_EREACH;
			}
			now = time(NULL);
			localtime_r(&now, &tm);
			strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
			fprintf(mf, "every %gs: trunks at %s    %s\n\n", cli->interval, cli->socket,
				stamp);
			if (ctl_render_trunks(mf, data) < 0) {
				fprintf(stderr,
					"%s: unexpected answer to \"trunks\" from sipguard-ctrl\n",
					CTL_CLI_NAME);
				rc = CTL_CLI_EREACH;
			}
			fclose(mf);
			if (tty) {
				ctl_cli_redraw(frame, i == 0);
			} else {
				if (i > 0)
					fputc('\n', stdout);
				fputs(frame, stdout);
			}
			free(frame);
		}
		json_decref(data);
		fflush(stdout);
		if (rc != CTL_CLI_OK)
			return rc;
	}
	return CTL_CLI_OK;
}

static int
ctl_cli_help(struct ctl_cli *cli)
{
	(void)cli;
	ctl_cli_usage(stdout);
	return CTL_CLI_OK;
}

static const struct option ctl_cli_global_opts[] = {
	{ "socket", required_argument, NULL, 's' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static const struct option ctl_cli_cmd_opts[] = {
	{ "socket", required_argument, NULL, 's' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ "count", required_argument, NULL, 'n' },
	{ "follow", no_argument, NULL, 'f' },
	{ "interval", required_argument, NULL, 'i' },
	{ NULL, 0, NULL, 0 },
};

/* Parse a command's own options and arguments (argv[0] is its name). */
static int
ctl_cli_parse_cmd(struct ctl_cli *cli, int argc, char **argv)
{
	const struct ctl_cli_cmd *c = cli->cmd;
	char optstring[32];
	char why[96];
	int o;

	snprintf(optstring, sizeof(optstring), "+:s:jh%s", c->opts);
	optind = 0; /* restart getopt on the command's own argv */
	opterr = 0;
	while ((o = getopt_long(argc, argv, optstring, ctl_cli_cmd_opts, NULL)) != -1) {
		/* long options map to letters the command may not take */
		if ((o == 'n' || o == 'i' || o == 'f') && strchr(c->opts, o) == NULL)
			o = '?';
		switch (o) {
		case 'f':
			cli->follow = true;
			break;
		case 's':
			cli->socket = optarg;
			break;
		case 'j':
			cli->json = true;
			break;
		case 'h':
			printf("usage: %s %s%s%s [-j]\n  %s\n", CTL_CLI_NAME, c->name,
				c->args[0] != '\0' ? " " : "", c->args, c->help);
			return -1; /* done, successfully */
		case 'n':
			if (ctl_cli_ulong(optarg, 1, 1000000, &cli->count) < 0) {
				snprintf(why, sizeof(why), "bad count \"%.40s\" (1..1000000)",
					optarg);
				return ctl_cli_usage_error(c, why);
			}
			cli->has_count = true;
			break;
		case 'i':
			if (ctl_cli_seconds(optarg, &cli->interval) < 0) {
				snprintf(why, sizeof(why), "bad interval \"%.40s\" (0.1..3600 s)",
					optarg);
				return ctl_cli_usage_error(c, why);
			}
			break;
		case ':':
			snprintf(why, sizeof(why), "option %.40s needs a value", argv[optind - 1]);
			return ctl_cli_usage_error(c, why);
		default:
			snprintf(why, sizeof(why), "unknown option %.40s", argv[optind - 1]);
			return ctl_cli_usage_error(c, why);
		}
	}
	cli->pos = argv + optind;
	cli->npos = argc - optind;
	if (cli->npos < c->min_pos || cli->npos > c->max_pos)
		return ctl_cli_usage_error(
			c, cli->npos < c->min_pos ? "missing argument" : "too many arguments");
	return 0;
}

int
main(int argc, char **argv)
{
	const struct ctl_cli_cmd *c;
	struct ctl_cli cli;
	char why[96];
	int o, rc;

	memset(&cli, 0, sizeof(cli));
	cli.fd = -1;
	cli.socket = getenv("SIPGUARD_SOCKET");
	if (cli.socket == NULL || cli.socket[0] == '\0')
		cli.socket = CTL_API_DEFAULT_SOCKET;
	opterr = 0;
	while ((o = getopt_long(argc, argv, "+:s:jhV", ctl_cli_global_opts, NULL)) != -1) {
		switch (o) {
		case 's':
			cli.socket = optarg;
			break;
		case 'j':
			cli.json = true;
			break;
		case 'h':
			ctl_cli_usage(stdout);
			return CTL_CLI_OK;
		case 'V':
			printf("%s %s\n", CTL_CLI_NAME, SG_VERSION);
			return CTL_CLI_OK;
		case ':':
			snprintf(why, sizeof(why), "option %.40s needs a value", argv[optind - 1]);
			return ctl_cli_usage_error(NULL, why);
		default:
			snprintf(why, sizeof(why), "unknown option %.40s", argv[optind - 1]);
			return ctl_cli_usage_error(NULL, why);
		}
	}
	if (optind >= argc)
		return ctl_cli_usage_error(NULL, "missing command");
	for (c = ctl_cli_cmds; c->name != NULL; c++)
		if (strcmp(c->name, argv[optind]) == 0)
			break;
	if (c->name == NULL) {
		snprintf(why, sizeof(why), "unknown command \"%.40s\"", argv[optind]);
		return ctl_cli_usage_error(NULL, why);
	}
	cli.cmd = c;
	rc = ctl_cli_parse_cmd(&cli, argc - optind, argv + optind);
	if (rc != 0)
		return rc < 0 ? CTL_CLI_OK : rc;
	rc = c->fn(&cli);
	if (cli.fd >= 0)
		close(cli.fd);
	if (fflush(stdout) != 0 && rc == CTL_CLI_OK)
		rc = CTL_CLI_EREACH;
	return rc;
}
