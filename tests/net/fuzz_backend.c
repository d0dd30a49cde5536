/*
 * libFuzzer over the guest- and wire-facing paths of a network backend,
 * the plugin's own source compiled in (FUZZ_TAP: plugins/tap/tap.c,
 * FUZZ_PCAP: plugins/pcap/pcap.c with plugins/common/pcapio.c, FUZZ_WIFI:
 * plugins/wifi-bridge/wifi.c with pcapio.c, linked with xlate.c) on a fake core that has only what the
 * paths call. The input is a script of operations:
 *   0 LEN16 CUTS  a frame from the NIC (send), cut into pieces at CUTS
 *   1 LEN16       a frame from the host (tap: through a socketpair the
 *                 tap's fd is one end of; pcap: the capture callback)
 *   2 RC          what the NIC's receive answers from now on
 *   3             the NIC calls rx_ready
 * and the fake checks what the plugin does with them: a frame reaches the
 * tap's fd only whole and unchanged (with its header when vnet_hdr = on;
 * bare when off: such a tap says it takes no offloads, so the core gives
 * it bare frames), a frame reaches the NIC only within [14,
 * HV_NET_FRAME_MAX] bytes (with a header's 12 more from a vnet_hdr tap),
 * the MTU for pcap and the Wi-Fi bridge. The bridge's status op, text and
 * JSON, is asked twice after each input and must say the same both times
 * (hv/out.h's contract), with its JSON's brackets balanced.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#define hv_plugin_entry fuzzed_plugin_entry
#ifdef FUZZ_TAP
#include "../../plugins/tap/tap.c"
#define STATE struct tap
#elif defined(FUZZ_WIFI)
#include "../../plugins/common/pcapio.c"
#include "../../plugins/wifi-bridge/wifi.c"
#define STATE struct wbp
#else
#include "../../plugins/common/pcapio.c"
#include "../../plugins/pcap/pcap.c"
#define STATE struct pc
#endif

static STATE st;
static struct hv_ctx fctx;
static int rx_rc;         /* the NIC's answer */
static uint8_t *last_sent; /* the frame the fuzzer handed to send */
static size_t last_len;

static void f_log(struct hv_ctx *ctx, int level, const char *fmt, va_list ap)
{
}

static int f_fd_watch(struct hv_ctx *ctx, int fd, unsigned events, hv_fd_cb cb,
		      void *opaque, struct hv_watch **out)
{
	*out = (struct hv_watch *)opaque; /* any non-NULL token */
	return 0;
}

static void f_fd_unwatch(struct hv_ctx *ctx, struct hv_watch *w)
{
}

static int f_deliver(struct hv_ctx *ctx, const struct iovec *iov, int iovcnt)
{
	size_t len = 0;

	for (int i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
#ifdef FUZZ_TAP
	if (len < (st.vnet_hdr ? HV_NET_HDR_LEN : 0) + 14 || len > HV_NET_FRAME_MAX)
		__builtin_trap();
#else
	if (len < 14 || len > st.io.mtu + 18u)
		__builtin_trap();
#endif
	return rx_rc;
}

/* guest time: 37 ms a reading, so entries age within one input */
static uint64_t f_now;
static uint64_t f_clock(struct hv_ctx *ctx)
{
	return f_now += 37000000u;
}

static const struct hv_host fhost = {
	.size = sizeof(struct hv_host),
	.abi_major = HV_ABI_MAJOR,
	.abi_minor = HV_ABI_MINOR,
	.log_write = f_log,
	.fd_watch = f_fd_watch,
	.fd_unwatch = f_fd_unwatch,
	.net_deliver = f_deliver,
	.clock_now = f_clock,
};

#ifdef FUZZ_TAP
static int wire[2]; /* [0]: the tap's fd, [1]: the host kernel's side */

static void setup(uint8_t mode)
{
	static uint8_t *buf;

	if (!buf) {
		buf = calloc(1, HV_NET_FRAME_MAX);
		if (!buf || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, wire))
			abort();
		int sz = 4 << 20;
		setsockopt(wire[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		setsockopt(wire[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	}
	memset(&st, 0, sizeof(st));
	memset(buf, 0, HV_NET_FRAME_MAX);
	st.buf = buf;
	st.ifname = "fuzz0";
	st.vnet_hdr = mode & 1;
	st.nq = 1 + (mode >> 1) % TAP_QUEUES_MAX;
	for (unsigned i = 0; i < st.nq; i++)
		st.q[i] = (struct tap_q){ .t = &st, .fd = wire[0] };
	tap_watch(&fctx, &st, 1);
}

/* What reached the host: the frame as sent, less the header when bare. */
static void check_wire(int sent_ok)
{
	static uint8_t got[HV_NET_FRAME_MAX + 1];
	ssize_t n = recv(wire[1], got, sizeof(got), MSG_DONTWAIT);
	if (n < 0) {
		if (sent_ok)
			__builtin_trap(); /* send said 0 and nothing was written */
		return;
	}
	/* the frame goes out exactly as the core gave it */
	if (!sent_ok || (size_t)n != last_len || memcmp(got, last_sent, (size_t)n))
		__builtin_trap();
}

static int do_send(const struct iovec *iov, int n)
{
	return tap_send(&fctx, iov, n);
}

static void from_host(const uint8_t *f, size_t len)
{
	if (send(wire[1], f, len, MSG_DONTWAIT) < 0)
		return;
	uint8_t none;

	tap_rx(&fctx, &st.q[0], HV_FD_IN);
	while (recv(wire[0], &none, 0, MSG_DONTWAIT) >= 0)
		; /* what the tap left unread while paused */
}

static void rx_ready(void)
{
	tap_rx_ready(&fctx);
}
#elif defined(FUZZ_WIFI)
static void setup(uint8_t mode)
{
	static uint8_t *held, *txbuf;
	static pcap_t *dead;
	struct wb_params p = { .adapter_mac = { 2, 0, 0, 0, 0, 1 },
			       .max_entries = 16 + mode % 48,
			       .per_mac = 1 + (mode >> 4) % 8,
			       .aging_ns = 1000000000u };
	struct wb_addr host[2] = {
		{ .family = 4, .ip = { [10] = 0xff, 0xff, 10, 200, 7, 2 } },
		{ .family = 6, .ip = { 0xfd, 0, 2, 0, [15] = 2 } },
	};

	if (!held) {
		held = malloc(HV_NET_FRAME_MAX);
		txbuf = malloc(HV_NET_FRAME_MAX);
		dead = pcap_open_dead(DLT_EN10MB, HV_NET_FRAME_MAX);
		if (!held || !txbuf || !dead)
			abort();
	}
	wb_free(st.wb);
	memset(&st, 0, sizeof(st));
	st = (struct wbp){ .io = { .p = dead, .held = held, .txbuf = txbuf, .fd = -1,
				   .ifname = "nohere0", .ctx = &fctx, .hook = wbp_in,
				   .hook_opaque = &st, .mtu = 1500 },
			   .ctx = &fctx, .mac = { 2, 0, 0, 0, 0, 1 },
			   .aging_ns = p.aging_ns, .max_entries = p.max_entries,
			   .per_vm = p.per_mac };
	st.wb = wb_new(&p);
	if (!st.wb)
		abort();
	wb_host_addrs(st.wb, host, 2);
}

static void check_wire(int sent_ok)
{
}

static int do_send(const struct iovec *iov, int n)
{
	return wbp_send(&fctx, iov, n);
}

static void from_host(const uint8_t *f, size_t len)
{
	struct pcap_pkthdr h = { .caplen = (bpf_u_int32)len, .len = (bpf_u_int32)len };

	pio_frame((u_char *)&st.io, &h, f);
}

static void rx_ready(void)
{
	wbp_rx_ready(&fctx);
	wbp_age_tick(&fctx, &st);
}

/* The status op twice, each way: the same report both times. */
static void check_status(void)
{
	static char a[1 << 16], b[1 << 16];

	for (unsigned fl = 0; fl <= HV_STATUS_JSON; fl++) {
		struct hv_out oa = { a, sizeof(a), 0 }, ob = { b, sizeof(b), 0 };
		int depth = 0, str = 0;

		wbp_status(&fctx, &oa, fl);
		wbp_status(&fctx, &ob, fl);
		if (oa.len != ob.len || oa.len >= sizeof(a) || memcmp(a, b, oa.len))
			__builtin_trap();
		for (size_t i = 0; fl && i < oa.len; i++) {
			if (str && a[i] == '\\')
				i++; /* an escaped character */
			else if (a[i] == '"')
				str = !str;
			else if (!str && (a[i] == '{' || a[i] == '['))
				depth++;
			else if (!str && (a[i] == '}' || a[i] == ']') && --depth < 0)
				__builtin_trap();
		}
		if (depth || str)
			__builtin_trap();
	}
}
#else
static void setup(uint8_t mode)
{
	static uint8_t *held, *txbuf;
	static pcap_t *dead;

	if (!held) {
		held = malloc(HV_NET_FRAME_MAX);
		txbuf = malloc(HV_NET_FRAME_MAX);
		dead = pcap_open_dead(DLT_EN10MB, HV_NET_FRAME_MAX);
		if (!held || !txbuf || !dead)
			abort();
	}
	memset(&st, 0, sizeof(st));
	st = (struct pc){ .io = { .p = dead, .held = held, .txbuf = txbuf, .fd = -1,
				  .ifname = "nohere0", .ctx = &fctx,
				  .mtu = 68 + (unsigned)mode * 16 } };
}

static void check_wire(int sent_ok)
{
}

static int do_send(const struct iovec *iov, int n)
{
	return pc_send(&fctx, iov, n);
}

static void from_host(const uint8_t *f, size_t len)
{
	/* an even length claims a few bytes more than captured: truncated */
	struct pcap_pkthdr h = { .caplen = (bpf_u_int32)len,
				 .len = (bpf_u_int32)len + (len && !(len & 1) ? (f[0] & 3) : 0) };

	pio_frame((u_char *)&st.io, &h, f);
}

static void rx_ready(void)
{
	pc_rx_ready(&fctx);
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct iovec iov[8];
	size_t i = 1;

	if (size < 1)
		return 0;
	fctx = (struct hv_ctx){ .host = &fhost, .state = &st, .name = "fuzz" };
	setup(data[0]);
	rx_rc = 0;
	while (i < size) {
		uint8_t op = data[i++] & 3;
		size_t len;

		if (op == 2 && i < size) {
			uint8_t r = data[i++];
			rx_rc = r & 1 ? -EAGAIN : r & 2 ? -EINVAL : 0;
			continue;
		}
		if (op == 3) {
			rx_ready();
			continue;
		}
		if (i + 2 > size)
			break;
		len = (size_t)data[i] | (size_t)data[i + 1] << 8;
		i += 2;
		if (len > size - i)
			len = size - i;
		if (op == 1) {
			from_host(data + i, len);
		} else {
			/* cut the frame where the next bytes say (up to 8 pieces) */
			size_t at = 0;
			int n = 0;

			last_sent = (uint8_t *)data + i;
			last_len = len;
			while (n < 7 && at < len) {
				size_t piece = 1 + data[i + at] % 64;

				if (piece > len - at)
					piece = len - at;
				iov[n].iov_base = (uint8_t *)data + i + at;
				iov[n++].iov_len = piece;
				at += piece;
			}
			iov[n].iov_base = (uint8_t *)data + i + at;
			iov[n++].iov_len = len - at;
			check_wire(do_send(iov, n) == 0);
		}
		i += len;
	}
#ifdef FUZZ_WIFI
	check_status();
#endif
	return 0;
}
