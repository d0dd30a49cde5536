/*
 * A libpcap network backend: the NIC's frames are injected on a host
 * interface and the frames arriving there are captured for it, as an
 * external switch's uplink on a wired NIC (promiscuous) or on a veth.
 *
 * Frames are bare both ways (ops.offloads 0): the core finishes partial
 * checksums and cuts GSO frames before send sees them. The capture, the
 * held frame and the MTU checks are plugins/common/pcapio.c's, shared
 * with the Wi-Fi bridge.
 *
 * Every callback runs on the main thread under the attached NIC's (or
 * switch's) domain lock.
 */
#include <errno.h>
#include <net/if.h>
#include <string.h>

#include <hv/hv.h>

#include "../common/pcapio.h"

struct pc {
	struct pio io;
};

static void pc_rx_ready(struct hv_ctx *ctx)
{
	pio_rx_ready(ctx, &HV_STATE(ctx, struct pc)->io);
}

static int pc_send(struct hv_ctx *ctx, const struct iovec *iov, int iovcnt)
{
	struct pc *s = HV_STATE(ctx, struct pc);
	uint8_t *f;
	size_t len;
	int rc = pio_gather(ctx, &s->io, iov, iovcnt, 0, &f, &len);

	return rc ? rc : pio_inject(ctx, &s->io, f, len);
}

static int pc_create(struct hv_ctx *ctx)
{
	struct pc *s = HV_STATE(ctx, struct pc);
	const char *ifname = hv_config_get_str(ctx, "ifname");
	int promisc = (int)hv_config_get_int(ctx, "promisc");
	int rc;

	if (!*ifname || strlen(ifname) >= IFNAMSIZ) {
		hv_error(ctx, "ifname = %s: not an interface name (1-%d characters)",
			 ifname, IFNAMSIZ - 1);
		return -EINVAL;
	}
	rc = pio_open(ctx, &s->io, ifname, promisc);
	if (rc)
		goto out;
	hv_info(ctx, "%s: MTU %u, %s", ifname, s->io.mtu,
		promisc ? "promiscuous" : "own and broadcast frames");
	return 0;
out:
	pio_close(ctx, &s->io);
	return rc;
}

static void pc_destroy(struct hv_ctx *ctx)
{
	struct pc *s = HV_STATE(ctx, struct pc);

	hv_info(ctx, "%s: %llu frames to the wire, %llu from it, %llu and %llu dropped",
		s->io.ifname, (unsigned long long)s->io.tx_frames,
		(unsigned long long)s->io.rx_frames, (unsigned long long)s->io.tx_drops.count,
		(unsigned long long)s->io.rx_drops.count);
	pio_close(ctx, &s->io);
}

static const struct hv_net_ops ops = {
	.create = pc_create,
	.destroy = pc_destroy,
	.send = pc_send,
	.rx_ready = pc_rx_ready,
	.offloads = 0, /* bare frames: the core completes checksums and GSO */
};

static const struct hv_config_key keys[] = {
	{ .name = "ifname", .type = HV_KEY_STRING, .flags = HV_KEY_REQUIRED,
	  .help = "the host interface to capture on and inject into (must be up)" },
	HV_KEY_FLAG("promisc", "on", "promiscuous mode: frames for every MAC, not only the host's"),
	HV_KEYS_END
};

HV_PLUGIN_DEFINE(pcap, net, &ops,
		 .version = "1.0",
		 .description = "libpcap backend: capture and inject on a host interface",
		 .instance_size = sizeof(struct pc),
		 .keys = keys);
