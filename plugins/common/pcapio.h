/*
 * Capture and injection on a host interface through libpcap, shared by
 * the pcap backend and the Wi-Fi bridge: open (inbound only, immediate
 * mode, nonblocking), the receive loop with its budget and its one held
 * frame for a full NIC, and the send checks (length, MTU, gather).
 *
 * Every call runs on the main thread under the owner's domain lock. The
 * struct is part of the caller's instance (no allocation but the two
 * frame buffers at open, no globals).
 */
#ifndef HV_PLUGINS_PCAPIO_H
#define HV_PLUGINS_PCAPIO_H

#include <pcap/pcap.h>
#include <stddef.h>
#include <stdint.h>

#include <hv/hv.h>

#include "netdrop.h"

#define PIO_ETH_HLEN 14u

/*
 * What the owner does with a captured frame before it goes up: f is the
 * port's own buffer (held, len bytes) and may be rewritten in place.
 * 0 delivers it; anything else drops it (the hook counted why).
 */
typedef int (*pio_rx_hook)(void *opaque, uint8_t *f, size_t len);

struct pio {
	pcap_t *p;
	struct hv_watch *w;
	int fd, paused;
	size_t pending; /* bytes of held waiting for the NIC, 0: none */
	uint8_t *held;	/* HV_NET_FRAME_MAX */
	uint8_t *txbuf; /* HV_NET_FRAME_MAX: a frame in pieces, joined */
	unsigned mtu;
	const char *ifname;
	struct hv_ctx *ctx; /* for the pcap_dispatch callback */
	pio_rx_hook hook;   /* NULL: frames go up as captured */
	void *hook_opaque;
	uint64_t rx_frames, tx_frames;
	struct net_drops rx_drops, tx_drops;
};

/* Open ifname (the caller checked its length), watch it; 0 or -errno
 * after one hv_error() line. pio_close() undoes a failed open too. */
int pio_open(struct hv_ctx *ctx, struct pio *s, const char *ifname,
	     int promisc);
void pio_close(struct hv_ctx *ctx, struct pio *s);
/* The interface's MTU now (1500 when it cannot be asked). */
unsigned pio_mtu(const char *ifname);
/* The rx_ready op: the held frame first, then reading again. */
void pio_rx_ready(struct hv_ctx *ctx, struct pio *s);
/*
 * A frame from the send op, checked (length, MTU) and in one piece: *f is
 * iov's only buffer, or txbuf when iovcnt > 1 or copy is set (the owner
 * rewrites it; the sender's buffer is not ours to change). 0 or -errno
 * (counted in tx_drops).
 */
int pio_gather(struct hv_ctx *ctx, struct pio *s, const struct iovec *iov,
	       int iovcnt, int copy, uint8_t **f, size_t *len);
/* f to the wire: 0 or -EIO (counted). */
int pio_inject(struct hv_ctx *ctx, struct pio *s, const uint8_t *f, size_t len);

#endif
