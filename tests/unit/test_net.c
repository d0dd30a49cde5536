/*
 * The SDK 2.2 offload contract through the core's real network path:
 * post-dev NICs (with `offloads`: they configure their port and send
 * headers) on a bare hub (post-hub), on a hub taking headers
 * (post-hub-hdr) and on a plain backend in their domain (net-be). The
 * frames are scapy's (tests/net/vectors.py): what a receiver gets must be
 * scapy's completed/segmented frame byte for byte, or the sender's
 * frame untouched when the receiver takes it as it is.
 */
#include <errno.h>
#include <time.h>

#include "check.h"
#include "config.h"
#include "instance.h"
#include "loop.h"
#include "net.h"
#include "plugin.h"
#include "services.h"
#include "unit.h"
#include "vmharness.h"
#include "vm.h"

#include "../fixtures/post_fixture.h"

#define INI "[vm]\nkernel = /bin/sh\nmachine = none\n" \
	"[net hub]\nplugin = post-hub\n" \
	"[net hubh]\nplugin = post-hub-hdr\n" \
	"[net be]\nplugin = net-be\n" \
	"[device c]\nplugin = post-dev\nport = 0x140\nnet = hub\noffloads = 0x7f\n" \
	"[device d]\nplugin = post-dev\nport = 0x160\nnet = hub\n" \
	"[device e]\nplugin = post-dev\nport = 0x180\nnet = hubh\n" \
	"[device f]\nplugin = post-dev\nport = 0x1a0\nnet = hubh\noffloads = 3\n" \
	"[device g]\nplugin = post-dev\nport = 0x1c0\nnet = be\noffloads = 0x7f\n"

/* ---- scapy's vectors ---- */
struct vec {
	uint8_t *in;
	size_t in_len;
	int nout;
	uint8_t *out[64];
	size_t out_len[64];
};

static char *vectors; /* vectors.py's whole output */

static uint8_t *unhex(const char *s, size_t *len)
{
	size_t n = strspn(s, "0123456789abcdef") / 2;
	uint8_t *b = malloc(n ? n : 1);

	for (size_t i = 0; i < n; i++)
		sscanf(s + 2 * i, "%2hhx", &b[i]);
	*len = n;
	return b;
}

static int vectors_load(void)
{
	FILE *p = popen("/usr/bin/python3 tests/net/vectors.py", "r");
	size_t cap = 1 << 20, n = 0, k;

	vectors = malloc(cap);
	while (p && (k = fread(vectors + n, 1, cap - n - 1, p)) > 0) {
		n += k;
		if (cap - n < 2)
			vectors = realloc(vectors, cap *= 2);
	}
	vectors[n] = 0;
	return p && pclose(p) == 0 && n > 0 ? 0 : -1;
}

/* "case NAME" (or "bad NAME", its frame as in) from the vectors. */
static int vec_get(const char *kind, const char *name, struct vec *v)
{
	char key[96];
	const char *at;

	memset(v, 0, sizeof(*v));
	snprintf(key, sizeof(key), "\n%s %s%s", kind, name,
		 strcmp(kind, "bad") ? "\nin " : " ");
	at = vectors ? strstr(vectors, key) : NULL;
	if (!at)
		return -1;
	v->in = unhex(at + strlen(key), &v->in_len);
	for (at = strchr(at + strlen(key), '\n'); at && !strncmp(at, "\nout ", 5);
	     at = strchr(at + 5, '\n')) {
		v->out[v->nout] = unhex(at + 5, &v->out_len[v->nout]);
		v->nout++;
	}
	return 0;
}

static void vec_free(struct vec *v)
{
	free(v->in);
	for (int i = 0; i < v->nout; i++)
		free(v->out[i]);
}

/* ---- the VM ---- */
static const char *vm_up(struct harness *h)
{
	static const char *const fixtures[] = { "post_dev", "post_hub",
						"post_hub_hdr", "net_be", NULL };

	unit_capture_begin();
	harness_load(h, 0, fixtures);
	harness_build(h, INI, &accel_kvm);
	return unit_capture_end();
}

static struct pf_state *st(struct harness *h, const char *name)
{
	struct instance *in = find(h, name);
	return in ? in->ctx.state : NULL;
}

static int32_t send_frame(struct harness *h, uint16_t port, const void *b,
			  size_t len)
{
	uint64_t x = len;

	memcpy(st(h, port == 0x140 ? "c" : port == 0x160 ? "d" :
		     port == 0x180 ? "e" : port == 0x1a0 ? "f" : "g")->buf, b, len);
	vm_pio(&h->vm, port + PF_REG_FRAME, 4, 1, &x);
	x = 0;
	vm_pio(&h->vm, port + PF_REG_RC, 4, 0, &x);
	return (int32_t)x;
}

static void run_until(struct harness *h, volatile unsigned long *counter,
		      unsigned long want)
{
	time_t end = time(NULL) + 5;

	while (__atomic_load_n(counter, __ATOMIC_ACQUIRE) < want &&
	       time(NULL) < end)
		loop_once(h->vm.loop, 10);
}

static void settle(struct harness *h)
{
	for (int i = 0; i < 20; i++)
		loop_once(h->vm.loop, 1);
}

static int clean(const struct pf_state *s)
{
	return s && !s->bad_lock && !s->bad_thread;
}

static int same(const struct pf_state *s, const void *b, size_t len)
{
	return s->rx_len == len && !memcmp(s->rx, b, len);
}

static const uint8_t zero12[HV_NET_HDR_LEN];

/* A 60-byte bare ARP-ish frame. */
static void bare_frame(uint8_t *b)
{
	for (int i = 0; i < 60; i++)
		b[i] = (uint8_t)(i * 5 + 1);
	b[12] = 0x08;
	b[13] = 0x06;
}

/* The switch hears each port after ATTACH: the configured one as
 * configured, a NIC that never configures as offloads 0, link up. */
static void ports_reach_switch(void)
{
	struct harness h;
	struct pf_state *hub, *c, *be;

	vm_up(&h);
	CHECK(h.ok);
	hub = st(&h, "hub");
	c = st(&h, "c");
	be = st(&h, "be");
	if (!hub || !c || !be)
		return vm_down(&h);
	CHECK(c->configure_rc == 0);
	run_until(&h, &hub->nport_msgs, 3);
	CHECK(hub->nports == 2 && hub->nport_msgs == 3); /* c: default, then its own */
	CHECK(hub->port[0].offloads == HV_NET_OFF_ALL && hub->port[0].mac[5] == 0x40);
	CHECK(hub->port[0].vlan == 7 && hub->port[0].mtu == 9000 &&
	      hub->port[0].link_up == 1);
	CHECK(hub->port[0].size == sizeof(struct hv_net_port));
	CHECK(hub->port[1].offloads == 0 && hub->port[1].link_up == 1);
	/* a backend in the NIC's domain hears it in port_changed */
	CHECK(be->port_changed == 1 && be->last_port.offloads == HV_NET_OFF_ALL);
	CHECK(clean(hub) && clean(c));
	vm_down(&h);
}

/* A TSO frame from a NIC taking everything, through a bare hub: the hub
 * and the bare NIC behind it get scapy's segments, bare. */
static void hdr_nic_to_bare_switch(void)
{
	struct harness h;
	struct pf_state *hub, *d;
	struct vec v;

	vm_up(&h);
	hub = st(&h, "hub");
	d = st(&h, "d");
	if (!hub || !d || vec_get("case", "tso4-fin-psh", &v)) {
		CHECK(!"set up");
		return vm_down(&h);
	}
	CHECK(v.nout == 3);
	CHECK(send_frame(&h, 0x140, v.in, v.in_len) == 0);
	run_until(&h, &d->frames, 3);
	CHECK(hub->rx_frames == 3 && d->frames == 3);
	CHECK(same(hub, v.out[2], v.out_len[2]) && same(d, v.out[2], v.out_len[2]));
	vec_free(&v);
	/* a partial checksum, finished */
	if (!vec_get("case", "udp4-csum", &v)) {
		CHECK(send_frame(&h, 0x140, v.in, v.in_len) == 0);
		run_until(&h, &d->frames, 4);
		CHECK(d->frames == 4 && same(d, v.out[0], v.out_len[0]));
		vec_free(&v);
	}
	CHECK(clean(hub) && clean(d));
	vm_down(&h);
}

/* A bare NIC's frame to a hub taking headers: a zero header in front;
 * the hub floods header + frame as it got them, and the core strips or
 * keeps the header per receiver. */
static void bare_nic_to_hdr_switch(void)
{
	struct harness h;
	struct pf_state *hubh, *e, *f;
	uint8_t b[60], want[72];
	struct vec v;

	vm_up(&h);
	hubh = st(&h, "hubh");
	e = st(&h, "e");
	f = st(&h, "f");
	if (!hubh || !e || !f)
		return vm_down(&h);
	bare_frame(b);
	memcpy(want, zero12, sizeof(zero12));
	memcpy(want + 12, b, 60);
	CHECK(send_frame(&h, 0x180, b, 60) == 0);
	run_until(&h, &f->frames, 1);
	CHECK(same(hubh, want, 72)); /* the switch: zero header + frame */
	CHECK(same(f, want, 72));    /* f takes headers: as the switch sent */
	/* f's partial checksum: the switch takes it as is, bare e gets
	 * scapy's finished frame */
	if (!vec_get("case", "tcp6-csum", &v)) {
		CHECK(send_frame(&h, 0x1a0, v.in, v.in_len) == 0);
		run_until(&h, &e->frames, 1);
		CHECK(same(hubh, v.in, v.in_len));
		CHECK(e->frames == 1 && same(e, v.out[0], v.out_len[0]));
		vec_free(&v);
	}
	/* f's TSO frame (f says it takes only checksums, yet may send GSO):
	 * passed to the switch whole, segmented for e */
	if (!vec_get("case", "tso6", &v)) {
		CHECK(send_frame(&h, 0x1a0, v.in, v.in_len) == 0);
		run_until(&h, &e->frames, 1 + (unsigned long)v.nout);
		CHECK(same(hubh, v.in, v.in_len));
		CHECK(e->frames == 1 + (unsigned long)v.nout &&
		      same(e, v.out[v.nout - 1], v.out_len[v.nout - 1]));
		vec_free(&v);
	}
	CHECK(clean(hubh) && clean(e) && clean(f));
	vm_down(&h);
}

/* A plain backend in the NIC's domain: completed frames to it, a zero
 * header in front of what it delivers to the NIC taking headers. */
static void direct_backend(void)
{
	struct harness h;
	struct instance *bein;
	struct pf_state *be, *g;
	uint8_t b[60], want[72];
	struct iovec iov = { b, sizeof(b) };
	struct vec v;

	vm_up(&h);
	bein = find(&h, "be");
	be = st(&h, "be");
	g = st(&h, "g");
	if (!be || !g || vec_get("case", "tso6-vlan-exthdr", &v)) {
		CHECK(!"set up");
		return vm_down(&h);
	}
	CHECK(send_frame(&h, 0x1c0, v.in, v.in_len) == 0);
	CHECK(be->rx_frames == (unsigned long)v.nout); /* synchronous */
	CHECK(same(be, v.out[v.nout - 1], v.out_len[v.nout - 1]));
	vec_free(&v);
	bare_frame(b);
	memcpy(want, zero12, sizeof(zero12));
	memcpy(want + 12, b, 60);
	inst_lock(bein);
	CHECK(core_host.net_deliver(&bein->ctx, &iov, 1) == 0);
	inst_unlock(bein);
	CHECK(g->frames == 1 && same(g, want, 72) && g->rx_iovcnt == 2);
	CHECK(clean(be) && clean(g));
	vm_down(&h);
}

/* A header that does not match its frame: dropped, counted, one line. */
static void malformed_dropped(void)
{
	struct harness h;
	struct pf_state *hub, *c, *be;
	const char *out;
	struct vec v;
	int32_t rc1, rc2;

	vm_up(&h);
	hub = st(&h, "hub");
	c = st(&h, "c");
	be = st(&h, "be");
	if (!hub || !c || !be || vec_get("bad", "tcpv4-on-ipv6", &v)) {
		CHECK(!"set up");
		return vm_down(&h);
	}
	unit_capture_begin();
	rc1 = send_frame(&h, 0x140, v.in, v.in_len);
	rc2 = send_frame(&h, 0x1c0, v.in, v.in_len);
	send_frame(&h, 0x140, v.in, v.in_len); /* the second within a second: quiet */
	out = unit_capture_end();
	CHECK(rc1 == -EINVAL && rc2 == -EINVAL);
	CHECK(net_dropped(c->net) == 2 && be->rx_frames == 0);
	CHECK_CONTAINS(out, "[device c]: a malformed offload header: frame dropped (1 so far)");
	CHECK_CONTAINS(out, "[device g]: a malformed offload header: frame dropped (1 so far)");
	CHECK(!strstr(out, "(2 so far)"));
	settle(&h);
	CHECK(hub->rx_frames == 0);
	vec_free(&v);
	vm_down(&h);
}

int main(void)
{
	if (vectors_load()) {
		printf("not ok net-vectors - tests/net/vectors.py failed (python3-scapy missing?)\n");
		return 1;
	}
	TEST(ports_reach_switch);
	TEST(hdr_nic_to_bare_switch);
	TEST(bare_nic_to_hdr_switch);
	TEST(direct_backend);
	TEST(malformed_dropped);
	free(vectors);
	return unit_failed_total ? 1 : 0;
}
