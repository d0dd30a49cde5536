/*
 * The PC's CMOS RAM and MC146818 real-time clock at ports 0x70/0x71:
 * 128 bytes of CMOS, the clock in BCD or binary, 12- or 24-hour, the
 * update-ended, alarm and periodic interrupts on IRQ 8. The clock is the
 * host's (UTC, or local time with clock = localtime) plus whatever offset
 * the guest sets by writing the time registers, and it stands still while
 * the VM is paused, like the guest clock it runs on. The memory-size bytes
 * (0x15-0x18, 0x30/0x31, 0x34/0x35, 0x5b-0x5d) and the CPU count (0x5f,
 * less one) come from the VM's facts, as a BIOS leaves them.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <hv/hv.h>

#define REG_A 0x0a
#define REG_B 0x0b
#define REG_C 0x0c
#define REG_D 0x0d
#define REG_CENTURY 0x32
#define B_SET 0x80
#define B_PIE 0x40
#define B_AIE 0x20
#define B_UIE 0x10
#define B_DM_BINARY 0x04
#define B_24H 0x02
#define C_IRQF 0x80
#define C_PF 0x40
#define C_AF 0x20
#define C_UF 0x10
#define STATE_VERSION 1

struct cmos {
	uint8_t index;
	uint8_t ram[128];
	int64_t offset;      /* guest epoch seconds minus host-based seconds */
	uint64_t base_ns;    /* guest clock at create */
	int64_t base_s;      /* host time at create */
	int localtime;
	unsigned irq;
	struct hv_timer *tick, *periodic;
};

static int64_t now_s(struct hv_ctx *ctx, struct cmos *c)
{
	return c->base_s + (int64_t)((hv_clock_now(ctx) - c->base_ns) / 1000000000ull) +
	       c->offset;
}

static uint8_t enc(struct cmos *c, int v)
{
	return c->ram[REG_B] & B_DM_BINARY ? (uint8_t)v : (uint8_t)((v / 10) << 4 | v % 10);
}

static int dec(struct cmos *c, uint8_t v)
{
	return c->ram[REG_B] & B_DM_BINARY ? v : (v >> 4) * 10 + (v & 0xf);
}

static uint8_t enc_hour(struct cmos *c, int h)
{
	if (c->ram[REG_B] & B_24H)
		return enc(c, h);
	return (uint8_t)(enc(c, h % 12 ? h % 12 : 12) | (h >= 12 ? 0x80 : 0));
}

static int dec_hour(struct cmos *c, uint8_t v)
{
	int h;

	if (c->ram[REG_B] & B_24H)
		return dec(c, v);
	h = dec(c, v & 0x7f) % 12;
	return v & 0x80 ? h + 12 : h;
}

/* The time registers from the clock (not while the guest holds SET). */
static void latch(struct hv_ctx *ctx, struct cmos *c)
{
	time_t t = (time_t)now_s(ctx, c);
	struct tm tm;

	if (c->ram[REG_B] & B_SET)
		return;
	if (c->localtime)
		localtime_r(&t, &tm);
	else
		gmtime_r(&t, &tm);
	c->ram[0] = enc(c, tm.tm_sec);
	c->ram[2] = enc(c, tm.tm_min);
	c->ram[4] = enc_hour(c, tm.tm_hour);
	c->ram[6] = enc(c, tm.tm_wday + 1);
	c->ram[7] = enc(c, tm.tm_mday);
	c->ram[8] = enc(c, tm.tm_mon + 1);
	c->ram[9] = enc(c, tm.tm_year % 100);
	c->ram[REG_CENTURY] = enc(c, (tm.tm_year + 1900) / 100);
}

/* The guest set the clock: keep the difference to the host's. */
static void set_time(struct hv_ctx *ctx, struct cmos *c)
{
	struct tm tm = {
		.tm_sec = dec(c, c->ram[0]), .tm_min = dec(c, c->ram[2]),
		.tm_hour = dec_hour(c, c->ram[4]), .tm_mday = dec(c, c->ram[7]),
		.tm_mon = dec(c, c->ram[8]) - 1,
		.tm_year = dec(c, c->ram[REG_CENTURY]) * 100 + dec(c, c->ram[9]) - 1900,
		.tm_isdst = -1,
	};
	time_t t = c->localtime ? mktime(&tm) : timegm(&tm);

	if (t != (time_t)-1)
		c->offset += (int64_t)t - now_s(ctx, c);
}

static void update_irq(struct hv_ctx *ctx, struct cmos *c)
{
	uint8_t b = c->ram[REG_B], f = c->ram[REG_C] & (C_PF | C_AF | C_UF);
	int on = (f & C_PF && b & B_PIE) || (f & C_AF && b & B_AIE) ||
		 (f & C_UF && b & B_UIE);

	c->ram[REG_C] = (uint8_t)(f | (on ? C_IRQF : 0));
	hv_irq_set(ctx, c->irq, on);
}

static int alarm_hit(struct cmos *c)
{
	static const int reg[3][2] = { { 1, 0 }, { 3, 2 }, { 5, 4 } };

	for (int i = 0; i < 3; i++) {
		uint8_t a = c->ram[reg[i][0]];
		if ((a & 0xc0) != 0xc0 && a != c->ram[reg[i][1]])
			return 0;
	}
	return 1;
}

/* Once a second, on the second: update-ended and alarm flags. */
static void on_tick(struct hv_ctx *ctx, void *opaque)
{
	struct cmos *c = opaque;
	uint64_t ns = hv_clock_now(ctx) - c->base_ns;

	if (!(c->ram[REG_B] & B_SET)) {
		latch(ctx, c);
		c->ram[REG_C] |= C_UF;
		if (alarm_hit(c))
			c->ram[REG_C] |= C_AF;
		update_irq(ctx, c);
	}
	hv_timer_arm(ctx, c->tick, 1000000000ull - ns % 1000000000ull, 0);
}

static void on_periodic(struct hv_ctx *ctx, void *opaque)
{
	struct cmos *c = opaque;

	c->ram[REG_C] |= C_PF;
	update_irq(ctx, c);
}

static void arm_periodic(struct hv_ctx *ctx, struct cmos *c)
{
	unsigned rate = c->ram[REG_A] & 0xf;
	uint64_t period;

	if (!(c->ram[REG_B] & B_PIE) || !rate) {
		hv_timer_arm(ctx, c->periodic, 0, 0);
		return;
	}
	if (rate <= 2)
		rate += 7;
	period = 1000000000ull * (1u << (rate - 1)) / 32768;
	hv_timer_arm(ctx, c->periodic, period, period);
}

static uint64_t cmos_read(struct hv_ctx *ctx, void *opaque, uint64_t off,
			  unsigned size)
{
	struct cmos *c = opaque;
	uint8_t i = c->index, v;

	if (off == 0)
		return 0xff; /* the index port is write-only */
	if (i <= 9 || i == REG_CENTURY)
		latch(ctx, c);
	v = c->ram[i];
	if (i == REG_C) { /* reading C acknowledges */
		c->ram[REG_C] = 0;
		hv_irq_set(ctx, c->irq, 0);
	}
	return v;
}

static void cmos_write(struct hv_ctx *ctx, void *opaque, uint64_t off,
		       unsigned size, uint64_t val)
{
	struct cmos *c = opaque;
	uint8_t i = c->index, old = c->ram[i];

	if (off == 0) {
		c->index = (uint8_t)val & 0x7f; /* bit 7 masks NMIs: ignored */
		return;
	}
	switch (i) {
	case REG_C:
	case REG_D:
		return; /* read-only */
	case REG_A:
		c->ram[i] = (uint8_t)val & 0x7f; /* UIP is read-only */
		arm_periodic(ctx, c);
		return;
	case REG_B:
		if (!(old & B_SET)) {
			/* latch in the format just chosen, so that a guest that
			 * switches to binary and SET at once reads what it set */
			c->ram[i] = (uint8_t)val & ~B_SET;
			latch(ctx, c);
		}
		c->ram[i] = (uint8_t)val;
		if (old & B_SET && !(val & B_SET))
			set_time(ctx, c);
		arm_periodic(ctx, c);
		update_irq(ctx, c);
		return;
	default:
		c->ram[i] = (uint8_t)val;
		if ((i <= 9 && i != 1 && i != 3 && i != 5) || i == REG_CENTURY) {
			if (!(c->ram[REG_B] & B_SET))
				set_time(ctx, c);
		}
	}
}

static const struct hv_region_ops cmos_ops = {
	.min_access = 1, .max_access = 1, .read = cmos_read, .write = cmos_write,
};

static void set16(struct cmos *c, unsigned at, uint64_t v)
{
	if (v > 0xffff)
		v = 0xffff;
	c->ram[at] = (uint8_t)v;
	c->ram[at + 1] = (uint8_t)(v >> 8);
}

/* What a PC BIOS (and SeaBIOS reading QEMU's CMOS) expects of the memory
 * size and CPU count bytes. */
static void fill_vm_facts(struct hv_ctx *ctx, struct cmos *c)
{
	struct hv_vm_info vi;
	uint64_t below, above;

	if (hv_vm_info_get(ctx, &vi))
		return;
	below = vi.ram_below_4g, above = vi.ram_above_4g;
	set16(c, 0x15, below < 640 * 1024 ? below >> 10 : 640); /* base, KiB */
	/* extended memory above 1 MiB, KiB: the POST copy and the BIOS's */
	set16(c, 0x17, below > (1u << 20) ? (below >> 10) - 1024 : 0);
	set16(c, 0x30, below > (1u << 20) ? (below >> 10) - 1024 : 0);
	/* above 16 MiB, below 4 GiB, in 64 KiB units */
	set16(c, 0x34, below > (16u << 20) ? (below - (16u << 20)) >> 16 : 0);
	/* above 4 GiB, 64 KiB units, 24 bits */
	above >>= 16;
	if (above > 0xffffff)
		above = 0xffffff;
	c->ram[0x5b] = (uint8_t)above;
	c->ram[0x5c] = (uint8_t)(above >> 8);
	c->ram[0x5d] = (uint8_t)(above >> 16);
	c->ram[0x5f] = (uint8_t)(vi.cpus ? vi.cpus - 1 : 0); /* CPUs less one */
}

static int cmos_create(struct hv_ctx *ctx)
{
	struct cmos *c = HV_STATE(ctx, struct cmos);
	uint64_t port = (uint64_t)hv_config_get_int(ctx, "port");
	struct timespec ts;
	int rc;

	c->irq = (unsigned)hv_config_get_int(ctx, "irq");
	c->localtime = hv_config_get_int(ctx, "clock") == 1;
	clock_gettime(CLOCK_REALTIME, &ts);
	c->base_s = ts.tv_sec;
	c->base_ns = hv_clock_now(ctx);
	fill_vm_facts(ctx, c);
	rc = hv_region_add(ctx, HV_SPACE_PIO, port, 2, &cmos_ops, c, NULL);
	if (rc) {
		hv_error(ctx, "ports 0x%llx-0x%llx: %s", (unsigned long long)port,
			 (unsigned long long)port + 1,
			 rc == -EBUSY ? "already taken by another device" : strerror(-rc));
		return rc;
	}
	if ((rc = hv_timer_new(ctx, on_tick, c, &c->tick)) ||
	    (rc = hv_timer_new(ctx, on_periodic, c, &c->periodic)))
		return rc;
	return 0;
}

static void cmos_reset(struct hv_ctx *ctx)
{
	struct cmos *c = HV_STATE(ctx, struct cmos);

	/* CMOS RAM survives a reset, as on battery; the control state not */
	c->index = 0;
	c->ram[REG_A] = 0x26; /* 32.768 kHz base, 1024 Hz periodic rate */
	c->ram[REG_B] = B_24H;
	c->ram[REG_C] = 0;
	c->ram[REG_D] = 0x80; /* valid RAM and time */
	hv_irq_set(ctx, c->irq, 0);
	latch(ctx, c);
	arm_periodic(ctx, c);
	on_tick(ctx, c);
}

static int cmos_save(struct hv_ctx *ctx, struct hv_state *st)
{
	struct cmos *c = HV_STATE(ctx, struct cmos);
	uint32_t ver = STATE_VERSION;
	int64_t now = now_s(ctx, c);
	int rc;

	if ((rc = hv_state_write(ctx, st, &ver, 4)) ||
	    (rc = hv_state_write(ctx, st, &c->index, 1)) ||
	    (rc = hv_state_write(ctx, st, c->ram, sizeof(c->ram))))
		return rc;
	return hv_state_write(ctx, st, &now, sizeof(now));
}

static int cmos_restore(struct hv_ctx *ctx, struct hv_state *st)
{
	struct cmos *c = HV_STATE(ctx, struct cmos);
	uint32_t ver;
	int64_t then;
	int rc;

	if ((rc = hv_state_read(ctx, st, &ver, 4)) || ver != STATE_VERSION)
		return rc ? rc : -EINVAL;
	if ((rc = hv_state_read(ctx, st, &c->index, 1)) ||
	    (rc = hv_state_read(ctx, st, c->ram, sizeof(c->ram))) ||
	    (rc = hv_state_read(ctx, st, &then, sizeof(then))))
		return rc;
	c->index &= 0x7f;
	c->offset += then - now_s(ctx, c); /* the guest's clock resumes where it was */
	arm_periodic(ctx, c);
	update_irq(ctx, c);
	return 0;
}

static const struct hv_device_ops ops = {
	.create = cmos_create,
	.reset = cmos_reset,
	.save = cmos_save,
	.restore = cmos_restore,
};

static const struct hv_config_key keys[] = {
	HV_KEY_NUM("port", "0x70", 0, 0xfffe, "the index port; data is the next"),
	HV_KEY_NUM("irq", "8", 0, 23, "the RTC's interrupt line"),
	HV_KEY_CHOICE("clock", "utc", "utc|localtime", "what the RTC counts"),
	HV_KEYS_END
};

HV_PLUGIN_DEFINE(cmos, device, &ops,
		 .version = "1.0",
		 .description = "PC CMOS RAM and MC146818 real-time clock",
		 .instance_size = sizeof(struct cmos),
		 .keys = keys);
