/*
 * core/netoff against scapy (tests/net/vectors.py, run now): each vector's
 * frame, completed or segmented by hv for a receiver that takes no
 * offloads, must equal scapy's own frames byte for byte, whole and with
 * the input cut into many small iovecs; each malformed header must be
 * refused; then scapy re-parses everything hv produced and checks every
 * checksum itself.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netoff.h"
#include "unit.h"

#define MAX_OUT 64
#define PY "/usr/bin/python3"

struct vec {
	char name[64];
	uint8_t *in;
	size_t in_len;
	int nout;
	uint8_t *out[MAX_OUT];
	size_t out_len[MAX_OUT];
};

static uint8_t *unhex(const char *s, size_t *len)
{
	size_t n = strspn(s, "0123456789abcdef") / 2;
	uint8_t *b = malloc(n ? n : 1);

	for (size_t i = 0; i < n; i++)
		sscanf(s + 2 * i, "%2hhx", &b[i]);
	*len = n;
	return b;
}

struct got {
	int n;
	uint8_t *buf[MAX_OUT + 1];
	size_t len[MAX_OUT + 1];
};

static int collect(void *opaque, const uint8_t *frame, size_t len)
{
	struct got *g = opaque;

	if (g->n > MAX_OUT)
		return -ENOSPC;
	g->buf[g->n] = malloc(len);
	memcpy(g->buf[g->n], frame, len);
	g->len[g->n++] = len;
	return 0;
}

static void got_free(struct got *g)
{
	for (int i = 0; i < g->n; i++)
		free(g->buf[i]);
	g->n = 0;
}

/* Cut buf into iovecs: `step`-byte pieces for the first 300 bytes (odd
 * steps split 16-bit words; steps under 12 split the header too, larger
 * ones start with the header alone), then the rest. */
static int cut(const uint8_t *buf, size_t len, size_t step, struct iovec *iov)
{
	size_t pos = 0;
	int n = 0;

	if (!step) {
		iov[0] = (struct iovec){ (void *)buf, len };
		return 1;
	}
	if (step >= HV_NET_HDR_LEN) {
		iov[n++] = (struct iovec){ (void *)buf,
					   len < HV_NET_HDR_LEN ? len : HV_NET_HDR_LEN };
		pos = iov[0].iov_len;
	}
	while (pos < len && pos < 300) {
		size_t k = len - pos < step ? len - pos : step;
		iov[n++] = (struct iovec){ (void *)(buf + pos), k };
		pos += k;
	}
	if (pos < len)
		iov[n++] = (struct iovec){ (void *)(buf + pos), len - pos };
	return n;
}

/* What net.c does for a receiver that takes no offloads: 0 and the frames
 * in g, or -EINVAL for a refused header. */
static int adapt(const uint8_t *buf, size_t len, size_t step, uint8_t *scratch,
		 struct got *g)
{
	struct iovec iov[400];
	int iovcnt = cut(buf, len, step, iov);
	struct netoff_src s = { iov, iovcnt, HV_NET_HDR_LEN, 0 };
	struct netoff_frame f;
	struct hv_net_hdr h;

	if (len < HV_NET_HDR_LEN)
		return -EINVAL;
	s.len = netoff_iov_len(iov, iovcnt) - HV_NET_HDR_LEN;
	if (netoff_hdr_get(&s, &h) || netoff_parse(&s, &f) || netoff_check(&h, &f))
		return -EINVAL;
	if (h.gso_type != HV_NET_GSO_NONE) {
		int rc = netoff_segment(&s, &h, &f, scratch, collect, g);
		return rc < 0 ? rc : 0;
	}
	if (h.flags & HV_NET_HDR_F_NEEDS_CSUM) {
		netoff_finish(&s, &h, &f, scratch);
		return collect(g, scratch, f.len);
	}
	return collect(g, buf + HV_NET_HDR_LEN, len - HV_NET_HDR_LEN);
}

static const char *compare(const struct vec *v, const struct got *g, char *why,
			   size_t wl)
{
	if (g->n != v->nout) {
		snprintf(why, wl, "%d frames, scapy has %d", g->n, v->nout);
		return why;
	}
	for (int i = 0; i < g->n; i++) {
		if (g->len[i] != v->out_len[i]) {
			snprintf(why, wl, "frame %d: %zu bytes, scapy has %zu", i,
				 g->len[i], v->out_len[i]);
			return why;
		}
		for (size_t b = 0; b < g->len[i]; b++) {
			if (g->buf[i][b] != v->out[i][b]) {
				snprintf(why, wl, "frame %d byte %zu: %02x, scapy has %02x",
					 i, b, g->buf[i][b], v->out[i][b]);
				return why;
			}
		}
	}
	return NULL;
}

static void dump(FILE *o, const char *name, const struct got *g)
{
	for (int i = 0; i < g->n; i++) {
		fprintf(o, "frame %s ", name);
		for (size_t b = 0; b < g->len[i]; b++)
			fprintf(o, "%02x", g->buf[i][b]);
		fputc('\n', o);
	}
}

static void run_case(const struct vec *v, uint8_t *scratch, FILE *o)
{
	static const size_t steps[] = { 0, 1, 3, 7, 64 };
	char why[160];
	const char *bad = NULL;

	for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]) && !bad; k++) {
		struct got g = { 0 };
		int rc = adapt(v->in, v->in_len, steps[k], scratch, &g);

		if (rc) {
			snprintf(why, sizeof(why), "refused (%d), iovec step %zu", rc,
				 steps[k]);
			bad = why;
		} else {
			bad = compare(v, &g, why, sizeof(why));
		}
		if (!k)
			dump(o, v->name, &g);
		got_free(&g);
	}
	if (bad) {
		printf("not ok netoff-%s - %s\n", v->name, bad);
		unit_failed_total++;
	} else {
		printf("ok netoff-%s (%d frames)\n", v->name, v->nout);
	}
}

static void run_bad(const char *name, const uint8_t *in, size_t len,
		    uint8_t *scratch)
{
	struct got g = { 0 };
	int rc = adapt(in, len, 0, scratch, &g);

	if (rc == -EINVAL) {
		printf("ok netoff-refuses-%s\n", name);
	} else {
		printf("not ok netoff-refuses-%s - accepted (%d, %d frames)\n", name,
		       rc, g.n);
		unit_failed_total++;
	}
	got_free(&g);
}

/* The offload bits a header asks for, as net.c weighs receivers. */
static void needs_map(void)
{
	struct hv_net_hdr h = { 0 };

	CHECK(netoff_needs(&h) == 0);
	h.flags = HV_NET_HDR_F_DATA_VALID;
	CHECK(netoff_needs(&h) == 0);
	h.flags = HV_NET_HDR_F_NEEDS_CSUM;
	CHECK(netoff_needs(&h) == (HV_NET_OFF_HDR | HV_NET_OFF_CSUM));
	h.gso_type = HV_NET_GSO_TCPV6 | HV_NET_GSO_ECN;
	CHECK(netoff_needs(&h) == (HV_NET_OFF_HDR | HV_NET_OFF_CSUM |
				   HV_NET_OFF_TSO6 | HV_NET_OFF_ECN));
	h.flags = 0;
	h.gso_type = HV_NET_GSO_UDP_L4;
	CHECK(netoff_needs(&h) == (HV_NET_OFF_HDR | HV_NET_OFF_USO));
	h.gso_type = HV_NET_GSO_UDP;
	CHECK(netoff_needs(&h) == (HV_NET_OFF_HDR | HV_NET_OFF_UFO));
}

int main(void)
{
	FILE *in = popen(PY " tests/net/vectors.py", "r"), *o;
	uint8_t *scratch = malloc(HV_NET_FRAME_MAX);
	char *line = NULL, path[512], cmd[600];
	size_t cap = 0;
	struct vec v = { 0 };
	int cases = 0, bads = 0;

	TEST(needs_map);
	snprintf(path, sizeof(path), "%s/tests/netoff-out.txt", unit_build_dir());
	o = fopen(path, "w");
	if (!in || !o) {
		printf("not ok netoff-vectors - cannot run vectors.py or write %s\n", path);
		return 1;
	}
	while (getline(&line, &cap, in) > 0) {
		line[strcspn(line, "\n")] = 0;
		if (!strncmp(line, "case ", 5)) {
			snprintf(v.name, sizeof(v.name), "%s", line + 5);
		} else if (!strncmp(line, "in ", 3)) {
			v.in = unhex(line + 3, &v.in_len);
		} else if (!strncmp(line, "out ", 4) && v.nout < MAX_OUT) {
			v.out[v.nout] = unhex(line + 4, &v.out_len[v.nout]);
			v.nout++;
		} else if (!strcmp(line, "end")) {
			run_case(&v, scratch, o);
			cases++;
			free(v.in);
			for (int i = 0; i < v.nout; i++)
				free(v.out[i]);
			memset(&v, 0, sizeof(v));
		} else if (!strncmp(line, "bad ", 4)) {
			char *name = line + 4, *hx = strchr(name, ' ');
			size_t len;
			uint8_t *b;

			if (!hx)
				continue;
			*hx++ = 0;
			b = unhex(hx, &len);
			run_bad(name, b, len, scratch);
			free(b);
			bads++;
		}
	}
	free(line);
	fclose(o);
	if (pclose(in) != 0 || cases < 10 || bads < 10) {
		printf("not ok netoff-vectors - vectors.py failed (python3-scapy missing?): %d cases, %d refusals\n",
		       cases, bads);
		return 1;
	}
	fflush(stdout);
	snprintf(cmd, sizeof(cmd), PY " tests/net/vectors.py --verify %s", path);
	if (system(cmd) != 0) {
		printf("not ok scapy-reparse - the verifier failed\n");
		unit_failed_total++;
	}
	free(scratch);
	return unit_failed_total ? 1 : 0;
}
