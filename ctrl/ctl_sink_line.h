/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The sinks that carry a directive's JSON line as it is: the JSON-lines
 * file (directives.file), the unix datagram subscribers (directives.socket)
 * and the exec hook (directives.exec). Their state and the steps the set
 * of sinks (ctl_sink.c) drives; not for other modules.
 *
 * Kept apart from the set, which only fans out and reports, and from the
 * adapters (ctl_adapter.h), which speak a peer's protocol rather than
 * deliver a line.
 */
#ifndef CTL_SINK_LINE_H
#define CTL_SINK_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include "cfg.h"
#include "ctl_directive.h"
#include "ctl_sink_int.h"

struct ctl_line {
	size_t len;
	char buf[CTL_SINK_LINE_MAX];
};

struct ctl_file_sink {
	char path[sizeof(((struct cfg_directives *)0)->file)];
	int fd;
	struct ctl_line *q; /* ring of CTL_SINK_FILE_QUEUE lines */
	uint32_t head;
	uint32_t n;
	size_t off; /* bytes of the head line already in the file */
	bool torn;  /* a line was dropped half-written: start with '\n' */
	uint32_t tries;
	uint64_t next_ms;
	struct ctl_sink_count c;
};

struct ctl_subscriber {
	struct sockaddr_un addr;
	socklen_t len;
};

struct ctl_dgram_sink {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int fd;
	dev_t dev;
	ino_t ino;
	struct ctl_subscriber subs[CTL_SINK_MAX_SUBSCRIBERS];
	uint32_t nsubs;
	uint64_t refused; /* subscribe requests over the limit */
	uint64_t gone;	  /* subscribers dropped because their socket vanished */
	struct ctl_sink_count c;
};

struct ctl_exec_job {
	bool used;
	pid_t pid; /* 0: waiting */
	bool killed;
	uint32_t tries;	  /* attempts that failed */
	uint64_t order;	  /* FIFO among waiting jobs */
	uint64_t next_ms; /* earliest start */
	uint64_t start_ms;
	struct ctl_directive d;
	size_t len;
	char line[CTL_SINK_LINE_MAX];
};

struct ctl_exec_sink {
	char path[sizeof(((struct cfg_directives *)0)->exec)];
	uint64_t timeout_ms;
	struct ctl_exec_job *jobs; /* CTL_SINK_EXEC_QUEUE + CTL_SINK_EXEC_RUNNING */
	uint32_t nrunning;
	uint32_t nwaiting;
	uint64_t order;
	uint64_t timeouts;
	struct ctl_sink_count c;
};

/* JSON-lines file: open the path (f->path), 0 or -1 with errno set. */
int ctl_file_open(struct ctl_file_sink *f);
/* Write queued lines until the queue is empty or an attempt fails. */
void ctl_file_run(struct ctl_sinks *s, struct ctl_file_sink *f, uint64_t now_ms);
/* Queue line[0..len) (no newline) and write what can be written now. */
void ctl_file_emit(struct ctl_sinks *s, struct ctl_file_sink *f, const char *line, size_t len,
	uint64_t now_ms);

/*
 * Subscribers: bind g->path (replacing a stale socket file), 0 or -1 with
 * one line in err.
 */
int ctl_dgram_open(struct ctl_dgram_sink *g, char *err, size_t errlen);
/* Serve waiting (un)subscribe requests. */
void ctl_dgram_poll(struct ctl_dgram_sink *g);
/* Send the line to every subscriber, once, now. */
void ctl_dgram_emit(struct ctl_dgram_sink *g, const char *line, size_t len);

/* Exec hook: the size of x->jobs (waiting and running). */
uint32_t ctl_exec_slots(void);
/* Reap and time out hooks, then start the jobs that are due. */
void ctl_exec_poll(struct ctl_sinks *s, struct ctl_exec_sink *x, uint64_t now_ms);
/* Queue a hook run for d (its line in line[0..len)) and start it if it may. */
void ctl_exec_emit(struct ctl_sinks *s, struct ctl_exec_sink *x, const struct ctl_directive *d,
	const char *line, size_t len, uint64_t now_ms);
/* Kill and reap the hooks still running, then free x. */
void ctl_exec_free(struct ctl_exec_sink *x);

#endif /* CTL_SINK_LINE_H */
