/*
 * The switch's own cost, without guests: frames/s and µs per frame from
 * one net-nic port to another through switch.so and the real core,
 *   - in-process: both NICs in this VM (a post into the switch, the
 *     decision, a post out to the NIC);
 *   - across the socket: the receiving NIC in a second hv process on the
 *     same `socket = PATH` switch (adds a sendmsg/recv pair and the
 *     second process's own post path).
 * Usage: switch-bench [frames] [frame bytes]. Built by make test-build,
 * run by bench/net/switch.sh; docs/network.md quotes it.
 */
#include <errno.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#include "check.h"
#include "loop.h"
#include "unit.h"
#include "vmharness.h"

#include "../../tests/fixtures/net_nic.h"

static char sock_path[108];
static unsigned long *shared_rx; /* the receiver's count, for pacing */

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static int up(struct harness *h, const char *ini)
{
	static const char *const fixtures[] = { "net_nic", NULL };
	char path[512];

	harness_load(h, 0, fixtures);
	snprintf(path, sizeof(path), "%s/plugins/switch.so", unit_build_dir());
	plugin_load_file(&h->set, path);
	harness_build(h, ini, &accel_kvm);
	for (int i = 0; i < 10; i++)
		loop_once(h->vm.loop, 2);
	return h->ok;
}

static struct nn_state *nic(struct harness *h, const char *name)
{
	struct instance *in = find(h, name);
	return in ? in->ctx.state : NULL;
}

static void fill(struct nn_state *s, const uint8_t dst[6], const uint8_t src[6])
{
	memset(s->tx, 0, HV_NET_HDR_LEN);
	memcpy(s->tx + HV_NET_HDR_LEN, dst, 6);
	memcpy(s->tx + HV_NET_HDR_LEN + 6, src, 6);
	s->tx[HV_NET_HDR_LEN + 12] = 0x88;
	s->tx[HV_NET_HDR_LEN + 13] = 0xb5;
}

static int send1(struct harness *h, size_t len)
{
	uint64_t x = len, rc = 0;

	vm_pio(&h->vm, 0x200 + NN_REG_SEND, 4, 1, &x);
	vm_pio(&h->vm, 0x200 + NN_REG_RC, 4, 0, &rc);
	return (int32_t)rc;
}

static const uint8_t A[6] = { 0x52, 0x54, 0, 0, 0, 1 }, B[6] = { 0x52, 0x54, 0, 0, 0, 2 },
		     BC[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* Send n frames from a (0x200) to dst, keeping the queues busy but not
 * overflowing: at most `window` in flight past what *rx says arrived. */
static void blast(struct harness *h, unsigned long n, size_t len,
		  volatile unsigned long *rx, unsigned long window)
{
	double t0 = now_s();

	for (unsigned long i = 0; i < n && now_s() - t0 < 60;) {
		if (rx && i - __atomic_load_n(rx, __ATOMIC_ACQUIRE) >= window) {
			loop_once(h->vm.loop, 0);
			if (i - __atomic_load_n(rx, __ATOMIC_ACQUIRE) >= window)
				nanosleep(&(struct timespec){ 0, 20000 }, NULL);
			continue;
		}
		if (send1(h, len) == -EAGAIN) {
			loop_once(h->vm.loop, 0);
			continue;
		}
		i++;
		if (!(i & 63))
			loop_once(h->vm.loop, 0);
	}
}

static void in_process(unsigned long n, size_t len)
{
	struct harness h;
	struct nn_state *a, *b;
	double t0, t;

	if (!up(&h, "[vm]\nkernel = /bin/sh\nmachine = none\n"
		    "[net lan]\nplugin = switch\ntype = private\n"
		    "[device a]\nplugin = net-nic\nport = 0x200\nnet = lan\nmac = 52:54:00:00:00:01\nmtu = 65535\n"
		    "[device b]\nplugin = net-nic\nport = 0x210\nnet = lan\nmac = 52:54:00:00:00:02\nmtu = 65535\n")) {
		printf("in-process: the VM did not build\n");
		return vm_down(&h);
	}
	a = nic(&h, "a");
	b = nic(&h, "b");
	fill(b, BC, B); /* b announces itself: a's frames are unicast */
	vm_pio(&h.vm, 0x210 + NN_REG_SEND, 4, 1, &(uint64_t){ 60 });
	for (int i = 0; i < 20; i++)
		loop_once(h.vm.loop, 1);
	fill(a, B, A);
	b->rx = 0;
	t0 = now_s();
	blast(&h, n, len, &b->rx, 4096);
	while (b->rx < n && now_s() - t0 < 60)
		loop_once(h.vm.loop, 0);
	t = now_s() - t0;
	printf("in-process   %6zu B: %lu/%lu frames in %.3f s: %.0f frames/s, %.2f us/frame, %.2f Gbit/s\n",
	       len, b->rx, n, t, b->rx / t, t / b->rx * 1e6, b->rx * len * 8 / t / 1e9);
	vm_down(&h);
}

/* The receiving process: counts frames for B, reports when it saw n. */
static int receiver(unsigned long n, int out_fd)
{
	struct harness h;
	struct nn_state *b;
	char ini[512];
	double t_end = 0, t0 = now_s();

	snprintf(ini, sizeof(ini), "[vm]\nkernel = /bin/sh\nmachine = none\n"
		 "[net lan]\nplugin = switch\ntype = private\nsocket = %s\n"
		 "[device b]\nplugin = net-nic\nport = 0x200\nnet = lan\nmac = 52:54:00:00:00:02\nmtu = 65535\n",
		 sock_path);
	if (!up(&h, ini))
		return 2;
	b = nic(&h, "b");
	fill(b, BC, B);
	send1(&h, 60); /* learned at the hub */
	for (int i = 0; i < 20; i++)
		loop_once(h.vm.loop, 1);
	if (write(out_fd, "r", 1) != 1)
		return 3;
	b->rx = 0;
	while (b->rx < n && now_s() - t0 < 60) {
		unsigned long before = b->rx;

		loop_once(h.vm.loop, 20);
		__atomic_store_n(shared_rx, b->rx, __ATOMIC_RELEASE);
		if (b->rx == before && b->rx && now_s() - t_end > 1)
			break; /* the rest were dropped: report what came */
		if (b->rx != before)
			t_end = now_s();
	}
	if (write(out_fd, &b->rx, sizeof(b->rx)) != sizeof(b->rx) ||
	    write(out_fd, &t_end, sizeof(t_end)) != sizeof(t_end))
		return 3;
	vm_down(&h);
	return 0;
}

static void across_socket(unsigned long n, size_t len)
{
	struct harness h;
	struct nn_state *a;
	unsigned long got = 0;
	double t0, t_end = 0;
	char ini[512], c;
	int p[2], st;
	pid_t pid;

	snprintf(sock_path, sizeof(sock_path), "/tmp/hv-swbench-%d.sock", getpid());
	snprintf(ini, sizeof(ini), "[vm]\nkernel = /bin/sh\nmachine = none\n"
		 "[net lan]\nplugin = switch\ntype = private\nsocket = %s\n"
		 "[device a]\nplugin = net-nic\nport = 0x200\nnet = lan\nmac = 52:54:00:00:00:01\nmtu = 65535\n",
		 sock_path);
	if (!up(&h, ini) || pipe(p)) {
		printf("across the socket: the VM did not build\n");
		return vm_down(&h);
	}
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		_exit(receiver(n, p[1]));
	}
	close(p[1]);
	a = nic(&h, "a");
	while (read(p[0], &c, 1) != 1)
		;
	for (int i = 0; i < 50; i++)
		loop_once(h.vm.loop, 1);
	fill(a, B, A);
	t0 = now_s();
	/* paced by what the other process counted (shared memory, outside
	 * the switch): about 150 KB in flight, what a default socket buffer
	 * holds, so the figure is the socket's cost and not its drops */
	blast(&h, n, len, shared_rx, len > 75000 ? 2 : 150000 / len);
	for (int i = 0; i < 50; i++)
		loop_once(h.vm.loop, 1);
	if (read(p[0], &got, sizeof(got)) == sizeof(got) &&
	    read(p[0], &t_end, sizeof(t_end)) == sizeof(t_end) && got) {
		double t = t_end - t0;

		printf("socket       %6zu B: %lu/%lu frames in %.3f s: %.0f frames/s, %.2f us/frame, %.2f Gbit/s\n",
		       len, got, n, t, got / t, t / got * 1e6, got * len * 8 / t / 1e9);
	} else {
		printf("socket       %6zu B: nothing arrived\n", len);
	}
	waitpid(pid, &st, 0);
	vm_down(&h);
	unlink(sock_path);
	strcat(sock_path, ".lock");
	unlink(sock_path);
}

int main(int argc, char **argv)
{
	(void)unit_failed_total; /* unit.h's, unused by a benchmark */
	(void)unit_case_failed;
	(void)unit_case;
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 0) : 200000;
	size_t len = argc > 2 ? strtoul(argv[2], NULL, 0) : 64;

	signal(SIGPIPE, SIG_IGN);
	shared_rx = mmap(NULL, sizeof(*shared_rx), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared_rx == MAP_FAILED)
		return 1;
	if (len < HV_NET_HDR_LEN + 14 || len > HV_NET_FRAME_MAX - 4)
		len = 64;
	in_process(n, len);
	across_socket(n, len);
	return 0;
}
