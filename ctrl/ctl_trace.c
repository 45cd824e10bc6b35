/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Trace writer (see ctl_trace.h): pcapng blocks, the per-trunk series of
 * files with their rotation, and the ladders of the last calls.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "ctl_trace.h"
#include "dp_sip.h"

/* ---- pcapng blocks ---- */

static void
put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4); /* host order: the SHB's byte-order magic says which */
}

static void
put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static uint32_t
get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint16_t
get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static size_t
pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* An option (code, length, value padded to 4); returns bytes written. */
static size_t
put_opt(uint8_t *p, uint16_t code, const void *v, uint16_t len)
{
	put16(p, code);
	put16(p + 2, len);
	memcpy(p + 4, v, len);
	memset(p + 4 + len, 0, pad4(len) - len);
	return 4 + pad4(len);
}

size_t
ctl_pcapng_shb(uint8_t *buf, size_t len)
{
	static const char app[] = "sipguard";
	size_t n = 28 + 4 + pad4(sizeof(app) - 1) + 4;
	size_t o = 0;

	if (len < n)
		return 0;
	put32(buf, CTL_PCAPNG_SHB);
	put32(buf + 4, (uint32_t)n);
	put32(buf + 8, CTL_PCAPNG_BOM);
	put16(buf + 12, 1);	   /* major */
	put16(buf + 14, 0);	   /* minor */
	memset(buf + 16, 0xff, 8); /* section length unknown */
	o = 24;
	o += put_opt(buf + o, 4, app, sizeof(app) - 1); /* shb_userappl */
	put32(buf + o, 0);				/* opt_endofopt */
	o += 4;
	put32(buf + o, (uint32_t)n);
	return n;
}

size_t
ctl_pcapng_idb(uint8_t *buf, size_t len, uint16_t linktype, uint32_t snaplen)
{
	if (len < 20)
		return 0;
	put32(buf, CTL_PCAPNG_IDB);
	put32(buf + 4, 20);
	put16(buf + 8, linktype);
	put16(buf + 10, 0);
	put32(buf + 12, snaplen);
	put32(buf + 16, 20);
	return 20;
}

size_t
ctl_pcapng_epb(uint8_t *buf, size_t len, uint32_t ifid, uint64_t ts_us, const uint8_t *data,
	uint32_t cap_len, uint32_t orig_len, const char *comment, size_t comment_len)
{
	size_t opts = 0, n, o;

	if (comment_len > 0xfff0)
		comment_len = 0xfff0;
	if (comment != NULL && comment_len > 0)
		opts = 4 + pad4(comment_len) + 4;
	n = 28 + pad4(cap_len) + opts + 4;
	if (len < n || cap_len > orig_len)
		return 0;
	put32(buf, CTL_PCAPNG_EPB);
	put32(buf + 4, (uint32_t)n);
	put32(buf + 8, ifid);
	put32(buf + 12, (uint32_t)(ts_us >> 32));
	put32(buf + 16, (uint32_t)ts_us);
	put32(buf + 20, cap_len);
	put32(buf + 24, orig_len);
	memcpy(buf + 28, data, cap_len);
	memset(buf + 28 + cap_len, 0, pad4(cap_len) - cap_len);
	o = 28 + pad4(cap_len);
	if (opts != 0) {
		o += put_opt(buf + o, CTL_PCAPNG_OPT_COMMENT, comment, (uint16_t)comment_len);
		put32(buf + o, 0);
		o += 4;
	}
	put32(buf + o, (uint32_t)n);
	return n;
}

void
ctl_pcapng_reader_init(struct ctl_pcapng_reader *r, const uint8_t *buf, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->buf = buf;
	r->len = len;
}

int
ctl_pcapng_next(struct ctl_pcapng_reader *r, struct ctl_pcapng_pkt *out, char *err, size_t errlen)
{
	while (r->off < r->len) {
		const uint8_t *b = r->buf + r->off;
		size_t left = r->len - r->off;
		uint32_t type, blen;

		if (left < 12) {
			snprintf(err, errlen, "offset %zu: block cut short", r->off);
			return -1;
		}
		type = get32(b);
		blen = get32(b + 4);
		if (blen < 12 || blen % 4 != 0 || blen > left || get32(b + blen - 4) != blen) {
			snprintf(err, errlen, "offset %zu: bad block length %u", r->off, blen);
			return -1;
		}
		r->off += blen;
		if (type == CTL_PCAPNG_SHB) {
			if (blen < 28 || get32(b + 8) != CTL_PCAPNG_BOM) {
				snprintf(err, errlen,
					"offset %zu: not a little-endian pcapng section",
					r->off - blen);
				return -1;
			}
			r->n_if = 0; /* interfaces are per section */
		} else if (type == CTL_PCAPNG_IDB) {
			if (blen < 20 || r->n_if == CTL_PCAPNG_MAX_IF) {
				snprintf(err, errlen, "offset %zu: bad interface block",
					r->off - blen);
				return -1;
			}
			r->linktype[r->n_if++] = get16(b + 8);
		} else if (type == CTL_PCAPNG_EPB) {
			size_t o, end = blen - 4;

			if (blen < 32) {
				snprintf(err, errlen, "offset %zu: packet block too short",
					r->off - blen);
				return -1;
			}
			memset(out, 0, sizeof(*out));
			out->ifid = get32(b + 8);
			if (out->ifid >= r->n_if) {
				snprintf(err, errlen, "offset %zu: unknown interface %u",
					r->off - blen, out->ifid);
				return -1;
			}
			out->linktype = r->linktype[out->ifid];
			out->ts_us = ((uint64_t)get32(b + 12) << 32) | get32(b + 16);
			out->cap_len = get32(b + 20);
			out->orig_len = get32(b + 24);
			if (out->cap_len > end - 28) {
				snprintf(err, errlen, "offset %zu: packet longer than its block",
					r->off - blen);
				return -1;
			}
			out->data = b + 28;
			o = 28 + pad4(out->cap_len);
			while (o + 4 <= end) {
				uint16_t code = get16(b + o), olen = get16(b + o + 2);

				if (code == 0)
					break;
				if (o + 4 + pad4(olen) > end) {
					snprintf(err, errlen, "offset %zu: option past its block",
						r->off - blen);
					return -1;
				}
				if (code == CTL_PCAPNG_OPT_COMMENT && out->comment == NULL) {
					out->comment = (const char *)b + o + 4;
					out->comment_len = olen;
				}
				o += 4 + pad4(olen);
			}
			return 1;
		}
		/* other blocks are skipped */
	}
	return 0;
}

/* ---- the writer ---- */

#define CTL_TRACE_MAX_LINKS 4

struct ctl_trace_series {
	FILE *f;
	uint64_t seq;	 /* number of the open file (or the last one) */
	uint64_t oldest; /* lowest number that may still exist */
	uint64_t size;	 /* bytes in the open file */
	uint32_t n_files;
	uint32_t n_links;
	uint16_t links[CTL_TRACE_MAX_LINKS]; /* interface id: index */
	int scanned;
	uint64_t sec; /* the second the count below is for */
	uint32_t n_sec;
	char name[SG_TRUNK_NAME_MAX];
};

struct ctl_trace_msg {
	uint64_t time_us;
	struct sg_trace_meta meta;
	uint32_t orig_len;
	uint8_t flags;
};

struct ctl_trace_call {
	uint64_t call;	/* 0: free */
	uint64_t order; /* when it began: the newest has the highest */
	uint32_t trunk;
	uint8_t suppressed;
	uint8_t n_files;
	uint16_t n_msgs;
	uint64_t files[CTL_TRACE_CALL_FILES];
	uint64_t dropped; /* messages past CTL_TRACE_CALL_MSGS */
	char trunk_name[SG_TRUNK_NAME_MAX];
	char call_id[SG_CALL_ID_MAX + 1];
	struct ctl_trace_msg msgs[CTL_TRACE_CALL_MSGS];
};

struct ctl_trace {
	char dir[256];
	uint64_t file_size;
	uint32_t files;
	uint32_t sample_per_s;
	uint64_t order;
	uint32_t next_call; /* round-robin victim */
	struct ctl_trace_stats stats;
	struct ctl_trace_series series[SG_TRUNK_SLOTS];
	struct ctl_trace_call calls[CTL_TRACE_CALLS];
	uint8_t block[65536 + 1024]; /* one EPB at a time */
};

static int
mkdirs(const char *dir)
{
	char p[256];
	size_t i, n = strlen(dir);

	if (n == 0 || n >= sizeof(p))
		return -1;
	memcpy(p, dir, n + 1);
	for (i = 1; i <= n; i++) {
		if (p[i] == '/' || p[i] == '\0') {
			char c = p[i];

			p[i] = '\0';
			if (mkdir(p, 0750) != 0 && errno != EEXIST)
				return -1;
			p[i] = c;
		}
	}
	return 0;
}

struct ctl_trace *
ctl_trace_create(const struct ctl_trace_cfg *cfg, char *err, size_t errlen)
{
	struct ctl_trace *t;

	if (cfg->dir == NULL || cfg->dir[0] == '\0' || strlen(cfg->dir) >= sizeof(t->dir) - 64) {
		snprintf(err, errlen, "traces: no directory, or its name is too long");
		return NULL;
	}
	if (mkdirs(cfg->dir) != 0 || access(cfg->dir, W_OK | X_OK) != 0) {
		snprintf(err, errlen, "traces: directory %s: %s", cfg->dir, strerror(errno));
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (t == NULL) {
		snprintf(err, errlen, "traces: out of memory");
		return NULL;
	}
	snprintf(t->dir, sizeof(t->dir), "%s", cfg->dir);
	t->file_size = cfg->file_size;
	t->files = cfg->files > 0 ? cfg->files : 1;
	t->sample_per_s = cfg->sample_per_s;
	return t;
}

void
ctl_trace_free(struct ctl_trace *t)
{
	unsigned int i;

	if (t == NULL)
		return;
	for (i = 0; i < SG_TRUNK_SLOTS; i++) {
		if (t->series[i].f != NULL)
			fclose(t->series[i].f);
	}
	free(t);
}

int
ctl_trace_path(const struct ctl_trace *t, const char *trunk, uint64_t seq, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s-%06" PRIu64 ".pcapng", t->dir, trunk, seq);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* The number in "TRUNK-NNNNNN.pcapng", or 0 if the name is not of trunk's series. */
static uint64_t
series_number(const char *file, const char *trunk)
{
	size_t tl = strlen(trunk), i;
	uint64_t v = 0;
	const char *p;

	if (strncmp(file, trunk, tl) != 0 || file[tl] != '-')
		return 0;
	p = file + tl + 1;
	for (i = 0; p[i] >= '0' && p[i] <= '9'; i++) {
		if (i >= 18)
			return 0;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	if (i < 6 || strcmp(p + i, ".pcapng") != 0)
		return 0;
	return v;
}

/* Files a previous run left count against the bound: find them once. */
static void
series_scan(struct ctl_trace *t, struct ctl_trace_series *s)
{
	struct dirent *de;
	uint64_t lo = 0, hi = 0, v;
	DIR *d;

	s->scanned = 1;
	s->n_files = 0;
	d = opendir(t->dir);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		v = series_number(de->d_name, s->name);
		if (v == 0)
			continue;
		s->n_files++;
		if (lo == 0 || v < lo)
			lo = v;
		if (v > hi)
			hi = v;
	}
	closedir(d);
	s->seq = hi;
	s->oldest = lo != 0 ? lo : 1;
}

/* Delete the oldest files until `keep` are left. */
static void
series_trim(struct ctl_trace *t, struct ctl_trace_series *s, uint32_t keep)
{
	char path[512];

	while (s->n_files > keep && s->oldest <= s->seq) {
		if (ctl_trace_path(t, s->name, s->oldest, path, sizeof(path)) == 0 &&
			unlink(path) == 0) {
			s->n_files--;
			t->stats.files_rotated++;
		}
		s->oldest++;
	}
}

static int
write_all(struct ctl_trace *t, struct ctl_trace_series *s, const uint8_t *p, size_t n)
{
	if (fwrite(p, 1, n, s->f) != n) {
		t->stats.write_errors++;
		return -1;
	}
	s->size += n;
	t->stats.bytes += n;
	return 0;
}

/* Start the next file of the series, the oldest going if over the bound. */
static int
series_open(struct ctl_trace *t, struct ctl_trace_series *s)
{
	char path[512];
	uint8_t shb[64];
	size_t n;

	if (s->f != NULL) {
		fclose(s->f);
		s->f = NULL;
	}
	if (!s->scanned)
		series_scan(t, s);
	/* room for the new one */
	series_trim(t, s, t->files - 1);
	s->seq++;
	if (ctl_trace_path(t, s->name, s->seq, path, sizeof(path)) != 0)
		return -1;
	s->f = fopen(path, "wbx");
	if (s->f == NULL)
		return -1;
	s->n_files++;
	if (s->n_files == 1)
		s->oldest = s->seq;
	s->size = 0;
	s->n_links = 0;
	t->stats.files_opened++;
	n = ctl_pcapng_shb(shb, sizeof(shb));
	return write_all(t, s, shb, n);
}

/* The interface of linktype in the open file, written on first use. */
static int
series_ifid(struct ctl_trace *t, struct ctl_trace_series *s, uint16_t linktype)
{
	uint8_t idb[32];
	uint32_t i;

	for (i = 0; i < s->n_links; i++) {
		if (s->links[i] == linktype)
			return (int)i;
	}
	if (s->n_links == CTL_TRACE_MAX_LINKS)
		return -1;
	if (write_all(t, s, idb, ctl_pcapng_idb(idb, sizeof(idb), linktype, 65535)) != 0)
		return -1;
	s->links[s->n_links] = linktype;
	return (int)s->n_links++;
}

static struct ctl_trace_call *
call_find(struct ctl_trace *t, uint64_t call)
{
	unsigned int i;

	for (i = 0; i < CTL_TRACE_CALLS; i++) {
		if (t->calls[i].call == call)
			return &t->calls[i];
	}
	return NULL;
}

static void
call_add_file(struct ctl_trace_call *c, uint64_t seq)
{
	if (c->n_files > 0 && c->files[c->n_files - 1] == seq)
		return;
	if (c->n_files < CTL_TRACE_CALL_FILES)
		c->files[c->n_files++] = seq;
}

/* The Call-ID as comment text: printable ASCII, the rest as '?'. */
static size_t
comment_text(char *dst, size_t dstlen, const char *cid, size_t n)
{
	static const char pre[] = "Call-ID: ";
	size_t o = sizeof(pre) - 1, i;

	if (dstlen < o + n + 1)
		n = dstlen - o - 1;
	memcpy(dst, pre, o);
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)cid[i];

		dst[o++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	dst[o] = '\0';
	return o;
}

void
ctl_trace_frame(struct ctl_trace *t, const struct sg_trace_frame *f, const char *trunk_name)
{
	struct ctl_trace_series *s;
	struct ctl_trace_call *c;
	char comment[SG_CALL_ID_MAX + 16];
	size_t clen = 0, n;
	uint32_t cap = f->cap_len;
	int ifid;

	if (f->trunk >= SG_TRUNK_SLOTS || trunk_name == NULL || trunk_name[0] == '\0' ||
		strchr(trunk_name, '/') != NULL)
		return;
	s = &t->series[f->trunk];
	if (strcmp(s->name, trunk_name) != 0) {
		/* a slot's name is fixed; a new one (first use) starts a series */
		if (s->f != NULL)
			fclose(s->f);
		memset(s, 0, sizeof(*s));
		snprintf(s->name, sizeof(s->name), "%s", trunk_name);
	}
	c = call_find(t, f->call);
	if (f->flags & SG_TRACE_FIRST) {
		uint64_t sec = f->failed_ms / 1000; /* the second it failed in */

		if (c == NULL) {
			/* the oldest call's ladder makes room */
			c = &t->calls[t->next_call];
			t->next_call = (t->next_call + 1) % CTL_TRACE_CALLS;
		}
		memset(c, 0, sizeof(*c) - sizeof(c->msgs));
		c->call = f->call;
		c->order = ++t->order;
		c->trunk = f->trunk;
		snprintf(c->trunk_name, sizeof(c->trunk_name), "%s", trunk_name);
		n = f->call_id_len < SG_CALL_ID_MAX ? f->call_id_len : SG_CALL_ID_MAX;
		memcpy(c->call_id, f->call_id, n);
		c->call_id[n] = '\0';
		/* each worker samples alone: the bound is kept across them here */
		if (s->sec != sec) {
			s->sec = sec;
			s->n_sec = 0;
		}
		if (s->n_sec >= t->sample_per_s) {
			c->suppressed = 1;
			t->stats.suppressed++;
			return;
		}
		s->n_sec++;
		t->stats.calls++;
		clen = comment_text(comment, sizeof(comment), f->call_id, n);
	} else if (c == NULL) {
		/* its call's ladder is gone: the frame is still written, named */
		t->stats.orphan_frames++;
		clen = comment_text(comment, sizeof(comment), f->call_id,
			f->call_id_len < SG_CALL_ID_MAX ? f->call_id_len : SG_CALL_ID_MAX);
	} else if (c->suppressed) {
		return;
	}
	/*
	 * Every frame names its call: a call's frames are written together
	 * when it fails, between other calls' frames, and a TCP segment or
	 * fragment may carry another call's bytes too (tshark reading the
	 * file alone cannot always frame such a segment), so the comment is
	 * what says which call a frame is in the file for.
	 */
	if (clen == 0)
		clen = comment_text(comment, sizeof(comment), f->call_id,
			f->call_id_len < SG_CALL_ID_MAX ? f->call_id_len : SG_CALL_ID_MAX);
	if (cap > 65535)
		cap = 65535;
	if (s->f == NULL || s->size + 28 + pad4(cap) + 4 + pad4(clen) + 8 + 20 > t->file_size) {
		if (s->f == NULL || s->size > 0) {
			if (series_open(t, s) != 0) {
				t->stats.write_errors++;
				return;
			}
		}
	}
	ifid = series_ifid(t, s, f->linktype);
	n = ifid < 0 ? 0
		     : ctl_pcapng_epb(t->block, sizeof(t->block), (uint32_t)ifid, f->time_us,
			       f->data, cap, f->orig_len, clen > 0 ? comment : NULL, clen);
	if (n == 0 || write_all(t, s, t->block, n) != 0) {
		t->stats.write_errors += n == 0;
		return;
	}
	t->stats.frames++;
	if (c == NULL)
		return;
	call_add_file(c, s->seq);
	if (f->flags & SG_TRACE_PART)
		return; /* in the file for tshark; the ladder draws its message once */
	if (c->n_msgs < CTL_TRACE_CALL_MSGS) {
		struct ctl_trace_msg *m = &c->msgs[c->n_msgs++];

		m->time_us = f->time_us;
		m->meta = f->meta;
		m->orig_len = f->orig_len;
		m->flags = f->flags;
	} else if (c->dropped++ == 0) {
		t->stats.truncated_calls++;
	}
}

void
ctl_trace_flush(struct ctl_trace *t)
{
	unsigned int i;

	for (i = 0; i < SG_TRUNK_SLOTS; i++) {
		if (t->series[i].f != NULL && fflush(t->series[i].f) != 0)
			t->stats.write_errors++;
	}
}

const struct ctl_trace_stats *
ctl_trace_stats(const struct ctl_trace *t)
{
	return &t->stats;
}

json_t *
ctl_trace_stats_json(const struct ctl_trace *t)
{
	const struct ctl_trace_stats *s = &t->stats;

	return json_pack("{s:s, s:I, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "dir",
		t->dir, "file_size", (json_int_t)t->file_size, "files", (int)t->files, "calls",
		(json_int_t)s->calls, "suppressed", (json_int_t)s->suppressed, "frames",
		(json_int_t)s->frames, "orphan_frames", (json_int_t)s->orphan_frames,
		"files_opened", (json_int_t)s->files_opened, "files_rotated",
		(json_int_t)s->files_rotated, "bytes", (json_int_t)s->bytes, "write_errors",
		(json_int_t)s->write_errors, "truncated_calls", (json_int_t)s->truncated_calls);
}

static void
party(char *buf, size_t len, const uint8_t *addr, uint8_t family, uint16_t port)
{
	char a[INET6_ADDRSTRLEN];

	if (inet_ntop(family == 6 ? AF_INET6 : AF_INET, addr, a, sizeof(a)) == NULL)
		snprintf(a, sizeof(a), "?");
	if (family == 6)
		snprintf(buf, len, "[%s]:%u", a, port);
	else
		snprintf(buf, len, "%s:%u", a, port);
}

static const char *
reason_proto_name(uint8_t p)
{
	switch (p) {
	case DP_REASON_SIP:
		return "SIP";
	case DP_REASON_Q850:
		return "Q.850";
	case DP_REASON_OTHER:
		return "other";
	default:
		return NULL;
	}
}

static json_t *
files_json(const struct ctl_trace *t, const struct ctl_trace_call *c)
{
	json_t *a = json_array();
	char path[512];
	unsigned int i;

	for (i = 0; a != NULL && i < c->n_files; i++) {
		if (ctl_trace_path(t, c->trunk_name, c->files[i], path, sizeof(path)) == 0 &&
			access(path, F_OK) == 0)
			json_array_append_new(a, json_string(path));
	}
	return a;
}

static json_t *
call_json(const struct ctl_trace *t, const struct ctl_trace_call *c)
{
	json_t *msgs = json_array(), *doc;
	char from[64], to[64], a[64] = "", b[64] = "", label[16], reason[48];
	unsigned int i;

	for (i = 0; msgs != NULL && i < c->n_msgs; i++) {
		const struct ctl_trace_msg *m = &c->msgs[i];
		const struct sg_trace_meta *mt = &m->meta;
		const char *rp = reason_proto_name(mt->reason_proto);
		json_t *o;

		party(from, sizeof(from), mt->src, mt->family, mt->sport);
		party(to, sizeof(to), mt->dst, mt->family, mt->dport);
		if (a[0] == '\0') {
			snprintf(a, sizeof(a), "%s", from);
			snprintf(b, sizeof(b), "%s", to);
		}
		if (mt->is_request)
			snprintf(label, sizeof(label), "%s",
				sg_method_names[mt->method < SG_M_COUNT ? mt->method : SG_M_OTHER]);
		else
			snprintf(label, sizeof(label), "%u", mt->status);
		o = json_pack("{s:I, s:I, s:s, s:s, s:s, s:b, s:I, s:s, s:I, s:b}", "time_ms",
			(json_int_t)(m->time_us / 1000), "time_us", (json_int_t)m->time_us, "from",
			from, "to", to, "label", label, "request", mt->is_request != 0, "cseq",
			(json_int_t)mt->cseq, "cseq_method",
			sg_method_names[mt->cseq_method < SG_M_COUNT ? mt->cseq_method
								     : SG_M_OTHER],
			"bytes", (json_int_t)m->orig_len, "late",
			(m->flags & SG_TRACE_LINGER) != 0);
		if (o == NULL)
			continue;
		if (mt->retry_after >= 0)
			json_object_set_new(o, "retry_after", json_integer(mt->retry_after));
		if (rp != NULL) {
			if (mt->reason_cause >= 0)
				snprintf(reason, sizeof(reason), "%s;cause=%d", rp,
					mt->reason_cause);
			else
				snprintf(reason, sizeof(reason), "%s", rp);
			json_object_set_new(o, "reason", json_string(reason));
		}
		json_array_append_new(msgs, o);
	}
	doc = json_pack("{s:s, s:s, s:o, s:[s,s], s:b, s:o}", "trunk", c->trunk_name, "call_id",
		c->call_id, "files", files_json(t, c), "parties", a, b, "truncated", c->dropped > 0,
		"messages", msgs);
	return doc;
}

json_t *
ctl_trace_call_json(const struct ctl_trace *t, const char *trunk, const char *call_id)
{
	const struct ctl_trace_call *best = NULL;
	unsigned int i;

	for (i = 0; i < CTL_TRACE_CALLS; i++) {
		const struct ctl_trace_call *c = &t->calls[i];

		if (c->call == 0 || c->suppressed || strcmp(c->trunk_name, trunk) != 0)
			continue;
		if (call_id != NULL && strcmp(c->call_id, call_id) != 0)
			continue;
		if (best == NULL || c->order > best->order)
			best = c;
	}
	return best != NULL ? call_json(t, best) : NULL;
}

json_t *
ctl_trace_files_json(const struct ctl_trace *t, const char *call_id)
{
	unsigned int i;

	for (i = 0; i < CTL_TRACE_CALLS; i++) {
		const struct ctl_trace_call *c = &t->calls[i];

		if (c->call != 0 && !c->suppressed && strcmp(c->call_id, call_id) == 0)
			return files_json(t, c);
	}
	return json_array();
}
