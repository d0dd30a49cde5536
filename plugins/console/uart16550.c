/*
 * 16550A UART: the PC's COM ports. Transmit is immediate (the host side
 * never stalls the guest); receive goes through the 16-byte FIFO, and when
 * it is full the console frontend holds its input until the guest reads.
 */
#include <errno.h>
#include <string.h>

#include <hv/hv.h>

enum { RBR = 0, IER = 1, IIR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

#define IER_RDI 0x01
#define IER_THRI 0x02
#define IER_RLSI 0x04
#define IER_MSI 0x08
#define IIR_NONE 0x01
#define IIR_MSI 0x00
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_RLSI 0x06
#define IIR_FIFO 0xc0
#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define LCR_DLAB 0x80
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MSR_DCTS 0x01
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_DCD 0x80

#define FIFO_SIZE 16
#define STATE_VERSION 1

struct uart_regs {
	uint8_t ier, fcr, lcr, mcr, lsr, msr, scr, dll, dlm;
	uint8_t thri_pending, irq_level, rx_head, rx_count;
	uint8_t rx[FIFO_SIZE];
};

struct uart {
	struct uart_regs r;
	unsigned irq;
	struct hv_chr *chr;
	int input_held; /* the frontend was told we were full */
};

static unsigned fifo_cap(const struct uart *u)
{
	return u->r.fcr & FCR_ENABLE ? FIFO_SIZE : 1;
}

static uint8_t pending_iir(const struct uart *u)
{
	if ((u->r.ier & IER_RLSI) && (u->r.lsr & LSR_OE))
		return IIR_RLSI;
	if ((u->r.ier & IER_RDI) && u->r.rx_count)
		return IIR_RDI;
	if ((u->r.ier & IER_THRI) && u->r.thri_pending)
		return IIR_THRI;
	if ((u->r.ier & IER_MSI) && (u->r.msr & 0x0f))
		return IIR_MSI;
	return IIR_NONE;
}

/* The line follows the pending state; OUT2 gates it as on a real PC. */
static void update_irq(struct hv_ctx *ctx, struct uart *u)
{
	int level = pending_iir(u) != IIR_NONE && (u->r.mcr & MCR_OUT2);

	if (level != u->r.irq_level) {
		u->r.irq_level = level;
		hv_irq_set(ctx, u->irq, level);
	}
}

static void rx_push(struct uart *u, uint8_t c)
{
	if (u->r.rx_count >= fifo_cap(u)) {
		u->r.lsr |= LSR_OE;
		return;
	}
	u->r.rx[(u->r.rx_head + u->r.rx_count) % FIFO_SIZE] = c;
	u->r.rx_count++;
	u->r.lsr |= LSR_DR;
}

static uint8_t rx_pop(struct hv_ctx *ctx, struct uart *u)
{
	uint8_t c = 0;

	if (u->r.rx_count) {
		c = u->r.rx[u->r.rx_head];
		u->r.rx_head = (u->r.rx_head + 1) % FIFO_SIZE;
		u->r.rx_count--;
	}
	if (!u->r.rx_count)
		u->r.lsr &= ~LSR_DR;
	if (u->input_held && u->r.rx_count < fifo_cap(u)) {
		u->input_held = 0;
		hv_chr_input_ready(ctx, u->chr);
	}
	return c;
}

static void transmit(struct hv_ctx *ctx, struct uart *u, uint8_t c)
{
	if (u->r.mcr & MCR_LOOP)
		rx_push(u, c);
	else
		hv_chr_write(ctx, u->chr, &c, 1);
	u->r.thri_pending = 1;
	u->r.lsr |= LSR_THRE | LSR_TEMT;
}

static uint64_t uart_read(struct hv_ctx *ctx, void *opaque, uint64_t off,
			  unsigned size)
{
	struct uart *u = opaque;
	uint8_t v = 0, iir;

	switch (off) {
	case RBR:
		v = u->r.lcr & LCR_DLAB ? u->r.dll : rx_pop(ctx, u);
		break;
	case IER:
		v = u->r.lcr & LCR_DLAB ? u->r.dlm : u->r.ier;
		break;
	case IIR:
		iir = pending_iir(u);
		if (iir == IIR_THRI)
			u->r.thri_pending = 0; /* reading IIR acknowledges THRE */
		v = iir | (u->r.fcr & FCR_ENABLE ? IIR_FIFO : 0);
		break;
	case LCR: v = u->r.lcr; break;
	case MCR: v = u->r.mcr; break;
	case LSR:
		v = u->r.lsr;
		u->r.lsr &= ~LSR_OE;
		break;
	case MSR:
		if (u->r.mcr & MCR_LOOP) /* outputs fed back to inputs */
			v = (u->r.mcr & 0x0c) << 4 | (u->r.mcr & 0x01) << 5 |
			    (u->r.mcr & 0x02) << 3;
		else
			v = u->r.msr;
		u->r.msr &= 0xf0;
		break;
	case SCR: v = u->r.scr; break;
	}
	update_irq(ctx, u);
	return v;
}

static void uart_write(struct hv_ctx *ctx, void *opaque, uint64_t off,
		       unsigned size, uint64_t val)
{
	struct uart *u = opaque;
	uint8_t v = (uint8_t)val;

	switch (off) {
	case RBR:
		if (u->r.lcr & LCR_DLAB)
			u->r.dll = v;
		else
			transmit(ctx, u, v);
		break;
	case IER:
		if (u->r.lcr & LCR_DLAB) {
			u->r.dlm = v;
			break;
		}
		/* enabling THRI with an empty THR raises it at once */
		if (!(u->r.ier & IER_THRI) && (v & IER_THRI) && (u->r.lsr & LSR_THRE))
			u->r.thri_pending = 1;
		u->r.ier = v & 0x0f;
		break;
	case IIR: /* FCR */
		if ((v ^ u->r.fcr) & FCR_ENABLE || (v & FCR_CLEAR_RX)) {
			u->r.rx_count = 0;
			u->r.lsr &= ~LSR_DR;
		}
		u->r.fcr = v & 0xc9;
		break;
	case LCR: u->r.lcr = v; break;
	case MCR: u->r.mcr = v & 0x1f; break;
	case SCR: u->r.scr = v; break;
	default: break; /* LSR and MSR are read-only */
	}
	update_irq(ctx, u);
}

static const struct hv_region_ops uart_ops = {
	.min_access = 1,
	.max_access = 1,
	.read = uart_read,
	.write = uart_write,
};

static size_t uart_receive(struct hv_ctx *ctx, void *opaque, const void *buf,
			   size_t len)
{
	struct uart *u = opaque;
	const uint8_t *b = buf;
	size_t n = 0;

	while (n < len && u->r.rx_count < fifo_cap(u))
		rx_push(u, b[n++]);
	if (n < len)
		u->input_held = 1;
	update_irq(ctx, u);
	return n;
}

static const struct hv_chr_cbs uart_chr = { .receive = uart_receive };

static int uart_create(struct hv_ctx *ctx)
{
	struct uart *u = HV_STATE(ctx, struct uart);
	uint64_t port = (uint64_t)hv_config_get_int(ctx, "port");
	int rc;

	u->irq = (unsigned)hv_config_get_int(ctx, "irq");
	rc = hv_region_add(ctx, HV_SPACE_PIO, port, 8, &uart_ops, u, NULL);
	if (rc) {
		hv_error(ctx, "ports 0x%llx-0x%llx: %s", (unsigned long long)port,
			 (unsigned long long)port + 7,
			 rc == -EBUSY ? "already taken by another device" : strerror(-rc));
		return rc;
	}
	u->chr = hv_chr_attach(ctx, "console", &uart_chr, u);
	if (!u->chr && hv_config_get_str(ctx, "console"))
		return -ENODEV;
	return 0;
}

static void uart_reset(struct hv_ctx *ctx)
{
	struct uart *u = HV_STATE(ctx, struct uart);

	if (u->r.irq_level)
		hv_irq_set(ctx, u->irq, 0);
	memset(&u->r, 0, sizeof(u->r));
	u->r.lsr = LSR_THRE | LSR_TEMT;
	u->r.msr = MSR_DCD | MSR_DSR | MSR_CTS;
	if (u->input_held) {
		u->input_held = 0;
		hv_chr_input_ready(ctx, u->chr);
	}
}

static int uart_save(struct hv_ctx *ctx, struct hv_state *st)
{
	struct uart *u = HV_STATE(ctx, struct uart);
	uint32_t version = STATE_VERSION;

	return hv_state_write(ctx, st, &version, sizeof(version)) ?:
	       hv_state_write(ctx, st, &u->r, sizeof(u->r));
}

static int uart_restore(struct hv_ctx *ctx, struct hv_state *st)
{
	struct uart *u = HV_STATE(ctx, struct uart);
	struct uart_regs r;
	uint32_t version;

	if (hv_state_read(ctx, st, &version, sizeof(version)) ||
	    version != STATE_VERSION || hv_state_read(ctx, st, &r, sizeof(r)) ||
	    r.rx_head >= FIFO_SIZE || r.rx_count > FIFO_SIZE)
		return -EINVAL;
	u->r = r;
	hv_irq_set(ctx, u->irq, u->r.irq_level);
	return 0;
}

static const struct hv_device_ops ops = {
	.create = uart_create,
	.reset = uart_reset,
	.save = uart_save,
	.restore = uart_restore,
};

static const struct hv_config_key keys[] = {
	HV_KEY_NUM("port", "0x3f8", 0, 0xfff8, "I/O base (COM1 0x3f8, COM2 0x2f8)"),
	HV_KEY_NUM("irq", "4", 0, 23, "interrupt line (COM1 4, COM2 3)"),
	HV_KEY_SECTION("console", "console", 0, "the [console NAME] the port talks to"),
	HV_KEYS_END
};

HV_PLUGIN_DEFINE(uart16550, device, &ops,
		 .version = "1.0",
		 .description = "16550A UART (COM port)",
		 .instance_size = sizeof(struct uart),
		 .keys = keys);
