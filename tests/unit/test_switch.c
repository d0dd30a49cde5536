/*
 * plugins/switch through the real core: net-nic fixture NICs (tests/
 * fixtures/net_nic.c) on a switch built from an INI string, frames sent
 * through their registers the way a guest's NIC would, delivered by the
 * main loop's posts. The cross-process cases fork real processes that
 * each build their own VM and meet on a unix socket.
 */
#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "check.h"
#include "loop.h"
#include "unit.h"
#include "vmharness.h"

#include "../fixtures/net_nic.h"
#include "../../plugins/switch/switch.h"

#define MAC(x) "52:54:00:00:00:0" #x

static const char *vm_up(struct harness *h, const char *ini)
{
	static const char *const fixtures[] = { "net_nic", NULL };
	char path[512];

	unit_capture_begin();
	harness_load(h, 0, fixtures);
	snprintf(path, sizeof(path), "%s/plugins/switch.so", unit_build_dir());
	plugin_load_file(&h->set, path);
	harness_build(h, ini, &accel_kvm);
	return unit_capture_end();
}

static struct nn_state *nic(struct harness *h, const char *name)
{
	struct instance *in = find(h, name);
	return in ? in->ctx.state : NULL;
}

static struct sw *sw_of(struct harness *h)
{
	struct instance *in = find(h, "lan");
	return in ? in->ctx.state : NULL;
}

static void pump(struct harness *h, int ms)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		loop_once(h->vm.loop, 5);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < ms);
}

/* Run the loop until nn->rx reaches want or ms pass. */
static void wait_rx(struct harness *h, struct nn_state *nn, unsigned long want,
		    int ms)
{
	for (int i = 0; i < ms / 5 && __atomic_load_n(&nn->rx, __ATOMIC_ACQUIRE) < want; i++)
		loop_once(h->vm.loop, 5);
}

/* Build an offload header + Ethernet frame in nn->tx; its length. */
static size_t frame(struct nn_state *nn, const uint8_t *dst, const uint8_t *src,
		    int vid, size_t payload)
{
	uint8_t *p = nn->tx;
	size_t n = HV_NET_HDR_LEN;

	memset(p, 0, HV_NET_HDR_LEN);
	memcpy(p + n, dst, 6);
	memcpy(p + n + 6, src, 6);
	n += 12;
	if (vid >= 0) {
		p[n++] = 0x81; p[n++] = 0x00;
		p[n++] = (uint8_t)(vid >> 8); p[n++] = (uint8_t)vid;
	}
	p[n++] = 0x88; p[n++] = 0xb5; /* local experimental ethertype */
	for (size_t i = 0; i < payload; i++)
		p[n++] = (uint8_t)i;
	return n;
}

static int send_raw(struct harness *h, uint16_t base, size_t len)
{
	uint64_t x = len, rc = 0;

	vm_pio(&h->vm, base + NN_REG_SEND, 4, 1, &x);
	vm_pio(&h->vm, base + NN_REG_RC, 4, 0, &rc);
	return (int32_t)rc;
}

static const uint8_t A[6] = { 0x52, 0x54, 0, 0, 0, 1 }, B[6] = { 0x52, 0x54, 0, 0, 0, 2 },
		     C[6] = { 0x52, 0x54, 0, 0, 0, 3 }, D[6] = { 0x52, 0x54, 0, 0, 0, 4 },
		     BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
		     MCAST[6] = { 0x33, 0x33, 0, 0, 0, 1 };

/* from nic `src` (its register block at base): dst <- mac, vid, payload */
static int sendf(struct harness *h, const char *src, uint16_t base,
		 const uint8_t *dst, const uint8_t *mac, int vid)
{
	return send_raw(h, base, frame(nic(h, src), dst, mac, vid, 46));
}

#define PRIV(extra)                                                           \
	"[vm]\nkernel = /bin/sh\nmachine = none\n"                            \
	"[net lan]\nplugin = switch\ntype = private\n" extra                 \
	"[device a]\nplugin = net-nic\nport = 0x200\nnet = lan\nmac = " MAC(1) "\n" \
	"[device b]\nplugin = net-nic\nport = 0x210\nnet = lan\nmac = " MAC(2) "\n" \
	"[device c]\nplugin = net-nic\nport = 0x220\nnet = lan\nmac = " MAC(3) "\n"

struct three {
	struct harness h;
	struct nn_state *a, *b, *c;
};

static int three_up(struct three *t, const char *ini)
{
	const char *out = vm_up(&t->h, ini);

	if (!t->h.ok)
		printf("# %s", out);
	t->a = nic(&t->h, "a");
	t->b = nic(&t->h, "b");
	t->c = nic(&t->h, "c");
	pump(&t->h, 20); /* ATTACH and PORT reach the switch */
	return t->h.ok && t->a && t->b && t->c && sw_of(&t->h);
}

static void learning(void)
{
	struct three t;

	CHECK(three_up(&t, PRIV("")));
	if (!t.h.ok)
		return vm_down(&t.h);
	CHECK(sendf(&t.h, "a", 0x200, BCAST, A, -1) == 0);
	wait_rx(&t.h, t.c, 1, 1000);
	CHECK(t.b->rx == 1 && t.c->rx == 1 && t.a->rx == 0); /* never back */
	CHECK(t.b->last_len == HV_NET_HDR_LEN + 14 + 46);
	CHECK(!memcmp(t.b->last, t.a->tx, t.b->last_len)); /* as it came */
	sendf(&t.h, "b", 0x210, A, B, -1); /* A was learned: only a */
	wait_rx(&t.h, t.a, 1, 1000);
	pump(&t.h, 20);
	CHECK(t.a->rx == 1 && t.c->rx == 1);
	sendf(&t.h, "a", 0x200, B, A, -1); /* and B: only b */
	wait_rx(&t.h, t.b, 2, 1000);
	pump(&t.h, 20);
	CHECK(t.b->rx == 2 && t.c->rx == 1 && t.a->rx == 1);
	CHECK(sw_of(&t.h)->fwd.count == 2 && sw_of(&t.h)->fwd.st.learned == 2);
	/* B moves to c's port: re-learned, counted */
	sendf(&t.h, "c", 0x220, A, B, -1);
	wait_rx(&t.h, t.a, 2, 1000);
	CHECK(sw_of(&t.h)->fwd.st.moved == 1);
	sendf(&t.h, "a", 0x200, B, A, -1);
	wait_rx(&t.h, t.c, 2, 1000);
	pump(&t.h, 20);
	CHECK(t.c->rx == 2 && t.b->rx == 2);
	vm_down(&t.h);
}

static void flooding(void)
{
	struct three t;

	CHECK(three_up(&t, PRIV("")));
	if (!t.h.ok)
		return vm_down(&t.h);
	sendf(&t.h, "a", 0x200, D, A, -1); /* unknown unicast */
	sendf(&t.h, "a", 0x200, MCAST, A, -1); /* multicast */
	wait_rx(&t.h, t.c, 2, 1000);
	pump(&t.h, 20);
	CHECK(t.b->rx == 2 && t.c->rx == 2 && t.a->rx == 0);
	sendf(&t.h, "b", 0x210, BCAST, MCAST, -1); /* multicast source */
	send_raw(&t.h, 0x210, HV_NET_HDR_LEN + 10); /* runt */
	pump(&t.h, 50);
	CHECK(t.a->rx == 0 && t.c->rx == 2);
	/* the runt reaches no port; since core-net's post path checks a
	 * NIC's frames, the core drops it before the switch sees it (the
	 * switch then counts nothing), else the switch counts it */
	CHECK(sw_of(&t.h)->fwd.st.bad_src == 1 && sw_of(&t.h)->st.runt <= 1);
	vm_down(&t.h);
}

static void aging(void)
{
	struct three t;

	CHECK(three_up(&t, PRIV("aging = 1\n")));
	if (!t.h.ok)
		return vm_down(&t.h);
	sendf(&t.h, "a", 0x200, BCAST, A, -1);
	wait_rx(&t.h, t.c, 1, 1000);
	CHECK(sw_of(&t.h)->fwd.count == 1);
	pump(&t.h, 1700); /* aging 1 s, swept every 0.5 s */
	CHECK(sw_of(&t.h)->fwd.count == 0 && sw_of(&t.h)->fwd.st.aged == 1);
	sendf(&t.h, "b", 0x210, A, B, -1); /* A forgotten: floods again */
	wait_rx(&t.h, t.c, 2, 1000);
	CHECK(t.a->rx == 1 && t.c->rx == 2);
	vm_down(&t.h);
}

static void bounded_table(void)
{
	struct three t;
	struct sw *s;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	unsigned long again = 0;
	uint8_t src[6];

	CHECK(three_up(&t, PRIV("mac_table = 1024\nport_macs = 64\n")));
	if (!t.h.ok)
		return vm_down(&t.h);
	s = sw_of(&t.h);
	sendf(&t.h, "b", 0x210, BCAST, B, -1);
	sendf(&t.h, "c", 0x220, BCAST, C, -1);
	pump(&t.h, 20);
	for (int i = 0; i < 100000; i++) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		memcpy(src, &x, 6);
		src[0] &= 0xfe; /* unicast sources: all learnable */
		if (sendf(&t.h, "a", 0x200, BCAST, src, -1) == -EAGAIN) {
			again++;
			loop_once(t.h.vm.loop, 1);
			i--;
		}
		if (i % 2000 == 0)
			loop_once(t.h.vm.loop, 0);
	}
	pump(&t.h, 200);
	printf("# flood: %lu frames in, table %u, a holds %u, full_port %llu, queue full %lu\n",
	       (unsigned long)s->port[0].rx + (unsigned long)s->port[1].rx + (unsigned long)s->port[2].rx,
	       s->fwd.count, s->fwd.port[0].macs, (unsigned long long)s->fwd.st.full_port, again);
	CHECK(s->fwd.count <= 1024 && s->fwd.count == 66);
	CHECK(s->fwd.port[0].macs == 64 && s->fwd.st.full_port >= 99000);
	/* b's and c's entries survived: c -> B goes to b alone */
	t.a->rx = t.b->rx = 0;
	sendf(&t.h, "c", 0x220, B, C, -1);
	wait_rx(&t.h, t.b, 1, 1000);
	pump(&t.h, 20);
	CHECK(t.b->rx == 1 && t.a->rx == 0);
	vm_down(&t.h);
}

#define VLANS                                                                 \
	"[vm]\nkernel = /bin/sh\nmachine = none\n"                            \
	"[net lan]\nplugin = switch\ntype = private\n"                        \
	"[device a]\nplugin = net-nic\nport = 0x200\nnet = lan\nmac = " MAC(1) "\nvlan = 10\n" \
	"[device b]\nplugin = net-nic\nport = 0x210\nnet = lan\nmac = " MAC(2) "\nvlan = 10\n" \
	"[device c]\nplugin = net-nic\nport = 0x220\nnet = lan\nmac = " MAC(3) "\nvlan = 20\n" \
	"[device d]\nplugin = net-nic\nport = 0x230\nnet = lan\nmac = " MAC(4) "\n"

static void vlan_isolation(void)
{
	struct three t;
	struct nn_state *d;
	size_t n;

	CHECK(three_up(&t, VLANS));
	d = nic(&t.h, "d");
	if (!t.h.ok || !d)
		return vm_down(&t.h);
	/* a (access 10) broadcasts a frame with a partial checksum at 34 */
	n = frame(t.a, BCAST, A, -1, 46);
	t.a->tx[0] = HV_NET_HDR_F_NEEDS_CSUM;
	t.a->tx[6] = 34;
	t.a->tx[8] = 16;
	send_raw(&t.h, 0x200, n);
	wait_rx(&t.h, d, 1, 1000);
	pump(&t.h, 20);
	CHECK(t.b->rx == 1 && t.c->rx == 0 && d->rx == 1);
	CHECK(t.b->last_len == n && !memcmp(t.b->last, t.a->tx, n));
	/* the trunk sees it tagged 10, csum_start moved with the payload */
	CHECK(d->last_len == n + 4 && d->last[HV_NET_HDR_LEN + 12] == 0x81 &&
	      d->last[HV_NET_HDR_LEN + 15] == 10 && d->last[6] == 38);
	CHECK(!memcmp(d->last + HV_NET_HDR_LEN + 16, t.a->tx + HV_NET_HDR_LEN + 12,
		      n - HV_NET_HDR_LEN - 12));
	/* d (trunk) sends tagged 20: c alone, untagged, csum_start back */
	n = frame(d, BCAST, D, 20, 46);
	d->tx[0] = HV_NET_HDR_F_NEEDS_CSUM;
	d->tx[6] = 38;
	send_raw(&t.h, 0x230, n);
	wait_rx(&t.h, t.c, 1, 1000);
	pump(&t.h, 20);
	CHECK(t.c->rx == 1 && t.a->rx == 0 && t.b->rx == 1);
	CHECK(t.c->last_len == n - 4 && t.c->last[HV_NET_HDR_LEN + 12] == 0x88 &&
	      t.c->last[6] == 34);
	/* untagged from the trunk: no access port; tagged from an access
	 * port: dropped; c's unicast to a (another VLAN): nothing */
	sendf(&t.h, "d", 0x230, BCAST, D, -1);
	sendf(&t.h, "a", 0x200, BCAST, A, 10);
	sendf(&t.h, "c", 0x220, A, C, -1);
	pump(&t.h, 50);
	CHECK(t.a->rx == 0 && t.b->rx == 1 && t.c->rx == 1 && d->rx == 2);
	CHECK(sw_of(&t.h)->fwd.st.tagged_on_access == 1);
	vm_down(&t.h);
}

static void link_down(void)
{
	struct three t;
	uint64_t zero = 0;

	CHECK(three_up(&t, PRIV("")));
	if (!t.h.ok)
		return vm_down(&t.h);
	vm_pio(&t.h.vm, 0x220 + NN_REG_LINK, 4, 1, &zero);
	pump(&t.h, 20);
	sendf(&t.h, "a", 0x200, BCAST, A, -1);
	sendf(&t.h, "c", 0x220, BCAST, C, -1);
	wait_rx(&t.h, t.b, 1, 1000);
	pump(&t.h, 50);
	CHECK(t.b->rx == 1 && t.c->rx == 0 && t.a->rx == 0);
	CHECK(sw_of(&t.h)->fwd.st.port_down == 1);
	vm_down(&t.h);
}

/* ---- several processes on one socket ---- */

static char sock_path[108];

#define SHARED(nic_name, port, mac)                                           \
	"[vm]\nkernel = /bin/sh\nmachine = none\n"                            \
	"[net lan]\nplugin = switch\ntype = private\nsocket = %s\n"          \
	"[device " nic_name "]\nplugin = net-nic\nport = " port "\nnet = lan\nmac = " mac "\n"

static int one_up(struct harness *h, const char *name, const char *mac,
		  const char **out)
{
	char ini[1024];

	snprintf(ini, sizeof(ini), SHARED("%s", "0x200", "%s"), sock_path, name, mac);
	*out = vm_up(h, ini);
	pump(h, 20);
	return h->ok;
}

/* A process that sends a broadcast from mac every 50 ms and exits 0 once
 * a unicast for it arrived (or 1 after ms). */
static int peer_main(const char *name, const char *mac, const uint8_t *own,
		     int ms)
{
	struct harness h;
	const char *out;
	int got = 0;

	if (!one_up(&h, name, mac, &out)) {
		fprintf(stderr, "peer %s: %s", name, out);
		return 2;
	}
	for (int i = 0; i < ms / 50 && !got; i++) {
		struct nn_state *nn = nic(&h, name);

		sendf(&h, name, 0x200, BCAST, own, -1);
		pump(&h, 50);
		got = nn->rx && !memcmp(nn->last + HV_NET_HDR_LEN, own, 6);
	}
	pump(&h, 100); /* let the last frames leave */
	vm_down(&h);
	return got ? 0 : 1;
}

static pid_t spawn_peer(const char *name, const char *mac, const uint8_t *own,
			int ms)
{
	pid_t pid = fork();

	if (pid == 0) {
		fflush(stdout);
		_exit(peer_main(name, mac, own, ms));
	}
	return pid;
}

/* Wait until a frame from src arrived at nn. */
static int wait_from(struct harness *h, struct nn_state *nn, const uint8_t *src,
		     int ms)
{
	for (int i = 0; i < ms / 5; i++) {
		if (nn->rx && !memcmp(nn->last + HV_NET_HDR_LEN + 6, src, 6))
			return 1;
		loop_once(h->vm.loop, 5);
	}
	return 0;
}

static void two_processes(void)
{
	struct harness h;
	struct nn_state *a;
	const char *out;
	char lock[128];
	int st = -1;
	pid_t pid;

	snprintf(sock_path, sizeof(sock_path), "/tmp/hv-sw-%d.sock", getpid());
	CHECK(one_up(&h, "a", MAC(1), &out)); /* the hub */
	a = nic(&h, "a");
	CHECK(a && sw_of(&h)->role == ROLE_HUB);
	if (!a)
		return vm_down(&h);
	pid = spawn_peer("x", MAC(5), (const uint8_t[]){ 0x52, 0x54, 0, 0, 0, 5 }, 8000);
	CHECK(wait_from(&h, a, (const uint8_t[]){ 0x52, 0x54, 0, 0, 0, 5 }, 8000));
	sendf(&h, "a", 0x200, (const uint8_t[]){ 0x52, 0x54, 0, 0, 0, 5 }, A, -1);
	for (int i = 0; i < 400 && waitpid(pid, &st, WNOHANG) == 0; i++)
		pump(&h, 20);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0); /* x got a's unicast */
	vm_down(&h);
	CHECK(access(sock_path, F_OK) != 0); /* the hub removed its socket */
	snprintf(lock, sizeof(lock), "%s.lock", sock_path);
	unlink(lock);
}

/* The hub is killed (its socket file stays behind): of the two clients
 * one becomes the hub, the other rejoins it, and frames flow again. */
static void hub_takeover(void)
{
	static const uint8_t X[6] = { 0x52, 0x54, 0, 0, 0, 5 };
	struct harness h;
	struct nn_state *a;
	const char *out;
	char lock[128];
	int st = -1, p[2];
	uint32_t joins;
	pid_t hub, x;
	char c;

	snprintf(sock_path, sizeof(sock_path), "/tmp/hv-sw-t%d.sock", getpid());
	if (pipe(p))
		return;
	hub = fork();
	if (hub == 0) {
		struct harness hh;

		close(p[0]);
		if (!one_up(&hh, "h", MAC(7), &out))
			_exit(2);
		if (write(p[1], "u", 1) != 1)
			_exit(3);
		for (;;)
			pump(&hh, 100);
	}
	close(p[1]);
	CHECK(read(p[0], &c, 1) == 1);
	close(p[0]);
	CHECK(one_up(&h, "a", MAC(1), &out));
	a = nic(&h, "a");
	CHECK(a && sw_of(&h)->role == ROLE_CLIENT);
	if (!a) {
		kill(hub, SIGKILL);
		waitpid(hub, NULL, 0);
		return vm_down(&h);
	}
	x = spawn_peer("x", MAC(5), X, 15000);
	CHECK(wait_from(&h, a, X, 8000)); /* through the first hub */
	kill(hub, SIGKILL);
	waitpid(hub, NULL, 0);
	CHECK(access(sock_path, F_OK) == 0); /* stale: nobody unlinked it */
	/* frames already queued from the dead hub may still come in: wait
	 * for the election first, then for a frame sent after it */
	joins = sw_of(&h)->joins;
	unit_capture_begin();
	for (int i = 0; i < 1600 && sw_of(&h)->joins == joins; i++)
		loop_once(h.vm.loop, 5);
	out = unit_capture_end();
	CHECK(sw_of(&h)->joins == joins + 1);
	CHECK_CONTAINS(out, "the switch at");
	CHECK_CONTAINS(out, "went away");
	a->rx = 0;
	a->last_len = 0;
	memset(a->last, 0, 32);
	CHECK(wait_from(&h, a, X, 8000));
	sendf(&h, "a", 0x200, X, A, -1);
	for (int i = 0; i < 400 && waitpid(x, &st, WNOHANG) == 0; i++) {
		sendf(&h, "a", 0x200, X, A, -1);
		pump(&h, 20);
	}
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	printf("# after the takeover this process is %s\n",
	       sw_of(&h)->role == ROLE_HUB ? "the hub" : "a client");
	vm_down(&h);
	snprintf(lock, sizeof(lock), "%s.lock", sock_path);
	unlink(lock);
	unlink(sock_path);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	TEST(learning);
	TEST(flooding);
	TEST(aging);
	TEST(bounded_table);
	TEST(vlan_isolation);
	TEST(link_down);
	TEST(two_processes);
	TEST(hub_takeover);
	return unit_failed_total ? 1 : 0;
}
