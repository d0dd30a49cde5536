/*
 * CMOS RAM and the MC146818 RTC (ports 70h/71h): the time of day from the
 * host clock in BCD, 24-hour mode, status registers A-D, and the memory
 * size bytes a BIOS would fill in. No RTC interrupts.
 */
#include <string.h>
#include <time.h>

#include "chipset.h"

static uint8_t bcd(int v)
{
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

void rtc_reset(struct rtc *r, uint64_t ram_bytes)
{
	uint64_t ext = ram_bytes > (1u << 20) ? (ram_bytes - (1u << 20)) >> 10 : 0;
	uint64_t hi = ram_bytes > (16u << 20) ? (ram_bytes - (16u << 20)) >> 16 : 0;

	memset(r, 0, sizeof(*r));
	r->ram[0x0a] = 0x26;
	r->ram[0x0b] = 0x02; /* 24-hour, BCD */
	r->ram[0x0d] = 0x80; /* valid RAM and time */
	r->ram[0x10] = 0;    /* no floppies */
	r->ram[0x14] = 0x06; /* display and keyboard, no FPU bit games */
	r->ram[0x15] = 0x80; /* 640 KiB base memory */
	r->ram[0x16] = 0x02;
	if (ext > 0xffff)
		ext = 0xffff;
	r->ram[0x17] = r->ram[0x30] = (uint8_t)ext;
	r->ram[0x18] = r->ram[0x31] = (uint8_t)(ext >> 8);
	if (hi > 0xffff)
		hi = 0xffff;
	r->ram[0x34] = (uint8_t)hi;
	r->ram[0x35] = (uint8_t)(hi >> 8);
	r->ram[0x32] = 0x20; /* century */
}

static uint8_t time_reg(struct rtc *r, unsigned idx)
{
	time_t t = time(NULL);
	struct tm tm;
	int v;

	gmtime_r(&t, &tm);
	switch (idx) {
	case 0: v = tm.tm_sec; break;
	case 2: v = tm.tm_min; break;
	case 4: v = tm.tm_hour; break;
	case 6: v = tm.tm_wday + 1; break;
	case 7: v = tm.tm_mday; break;
	case 8: v = tm.tm_mon + 1; break;
	case 9: v = tm.tm_year % 100; break;
	default: v = 20 + tm.tm_year / 100 - 1; break; /* 0x32 century */
	}
	return (r->ram[0x0b] & 4) ? (uint8_t)v : bcd(v);
}

static uint64_t rtc_read(struct hv_ctx *c, void *o, uint64_t off, unsigned sz)
{
	struct emu_vm *e = o;
	struct rtc *r = &e->rtc;
	uint8_t v;

	if (off == 0)
		return 0xff;
	pthread_mutex_lock(&e->lock);
	switch (r->idx) {
	case 0: case 2: case 4: case 6: case 7: case 8: case 9: case 0x32:
		v = time_reg(r, r->idx);
		break;
	case 0x0a: /* update-in-progress for the first 244 us of a second */
		v = r->ram[0x0a] & 0x7f;
		{
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			if (ts.tv_nsec < 244000)
				v |= 0x80;
		}
		break;
	case 0x0c:
		v = 0;
		break;
	default:
		v = r->ram[r->idx & 0x7f];
	}
	pthread_mutex_unlock(&e->lock);
	return v;
}

static void rtc_write(struct hv_ctx *c, void *o, uint64_t off, unsigned sz,
		      uint64_t v)
{
	struct emu_vm *e = o;
	struct rtc *r = &e->rtc;

	pthread_mutex_lock(&e->lock);
	if (off == 0) {
		r->idx = v & 0x7f;
		r->nmi_off = (v >> 7) & 1;
	} else if (r->idx == 0x0b) {
		r->ram[0x0b] = (uint8_t)v & 0x7e; /* no interrupts offered */
	} else if (r->idx > 9 && r->idx != 0x0c && r->idx != 0x0d) {
		r->ram[r->idx] = (uint8_t)v;
	}
	pthread_mutex_unlock(&e->lock);
}

const struct hv_region_ops rtc_ops = {
	.min_access = 1, .max_access = 1, .read = rtc_read, .write = rtc_write,
};
