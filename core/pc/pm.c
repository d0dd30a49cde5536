/*
 * The ACPI PM block of machine = pc (fixed hardware, described by the
 * FADT): PM1a event registers (status, enable) at PC_PM_BASE, the PM1a
 * control register at +4, the 32-bit PM timer at +8. SCI is IRQ 9, level,
 * raised while an enabled status bit is set. Writing SLP_EN with the S5
 * type of the DSDT's \_S5 powers the VM off with status 0. The power button
 * is how SIGTERM asks the guest to shut down.
 *
 * Runs on vCPU threads (port accesses) and the main thread (the button);
 * pm->lock guards the registers.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../bus.h"
#include "../log.h"
#include "../vm.h"
#include "pc.h"

#define STS_TMR 0x0001u
#define STS_PWRBTN 0x0100u
#define STS_WAK 0x8000u
#define CNT_SCI_EN 0x0001u
#define CNT_SLP_EN 0x2000u
#define PM_TIMER_HZ 3579545ull

struct pc_pm {
	struct vm *vm;
	pthread_mutex_t lock;
	uint16_t sts, en, cnt;
	int sci;
};

/* Lock held. */
static void sci_update(struct pc_pm *pm)
{
	int level = (pm->sts & pm->en) != 0;

	if (level == pm->sci)
		return;
	pm->sci = level;
	if (pm->vm->accel_priv)
		pm->vm->accel->irq_line(pm->vm, PC_SCI_IRQ, level);
}

static uint32_t timer(struct pc_pm *pm)
{
	uint64_t ns = vm_clock_ns(pm->vm);

	return (uint32_t)(ns / 1000000000ull * PM_TIMER_HZ +
			  ns % 1000000000ull * PM_TIMER_HZ / 1000000000ull);
}

static uint64_t pm_read(struct hv_ctx *ctx, void *opaque, uint64_t off,
			unsigned size)
{
	struct pc_pm *pm = opaque;
	uint8_t regs[12];
	uint32_t t = timer(pm);
	uint64_t v = 0;

	(void)ctx;
	pthread_mutex_lock(&pm->lock);
	memcpy(regs, &pm->sts, 2), memcpy(regs + 2, &pm->en, 2);
	memcpy(regs + 4, &pm->cnt, 2), memset(regs + 6, 0, 2);
	pthread_mutex_unlock(&pm->lock);
	memcpy(regs + 8, &t, 4);
	memcpy(&v, regs + off, size);
	return v;
}

static void pm_write(struct hv_ctx *ctx, void *opaque, uint64_t off,
		     unsigned size, uint64_t val)
{
	struct pc_pm *pm = opaque;
	int off_now = 0;

	(void)ctx;
	pthread_mutex_lock(&pm->lock);
	for (unsigned i = 0; i < size; i++) {
		unsigned o = (unsigned)off + i, sh = 8 * (o & 1);
		uint16_t b = (uint16_t)((val >> (8 * i)) & 0xff) << sh;

		if (o < 2)
			pm->sts &= ~b; /* write 1 to clear */
		else if (o < 4)
			pm->en = (pm->en & ~(0xff << sh)) | b;
		else if (o < 6)
			pm->cnt = (pm->cnt & ~(0xff << sh)) | b;
	}
	pm->cnt |= CNT_SCI_EN; /* no SMI: always in ACPI mode */
	if (pm->cnt & CNT_SLP_EN) {
		unsigned typ = (pm->cnt >> 10) & 7;
		pm->cnt &= ~CNT_SLP_EN;
		off_now = typ == PC_S5_TYPE;
		if (!off_now)
			dbg("ACPI: sleep type %u is not supported; ignored", typ);
	}
	sci_update(pm);
	pthread_mutex_unlock(&pm->lock);
	if (off_now) {
		info("ACPI: the guest powered off");
		vm_request_exit(pm->vm, VM_EXIT_POWEROFF, 0);
	}
}

static const struct hv_region_ops pm_ops = {
	.max_access = 4, .read = pm_read, .write = pm_write,
};

int pm_init(struct vm *vm, struct pc_pm **out)
{
	struct pc_pm *pm = calloc(1, sizeof(*pm));
	int rc;

	if (!pm)
		return -ENOMEM;
	pm->vm = vm;
	pthread_mutex_init(&pm->lock, NULL);
	rc = bus_add(&vm->pio, PC_PM_BASE, 12, &pm_ops, pm, NULL, NULL);
	if (rc) {
		err("ACPI PM block: ports 0x%x-0x%x are taken", PC_PM_BASE,
		    PC_PM_BASE + 11);
		pthread_mutex_destroy(&pm->lock);
		free(pm);
		return rc;
	}
	pm_reset(pm);
	*out = pm;
	return 0;
}

void pm_reset(struct pc_pm *pm)
{
	pthread_mutex_lock(&pm->lock);
	pm->sts = pm->en = 0;
	pm->cnt = CNT_SCI_EN;
	sci_update(pm);
	pthread_mutex_unlock(&pm->lock);
}

int pm_power_button(struct pc_pm *pm)
{
	int rc = 0;

	pthread_mutex_lock(&pm->lock);
	if (pm->en & STS_PWRBTN) {
		pm->sts |= STS_PWRBTN;
		sci_update(pm);
	} else {
		rc = -ENODEV;
	}
	pthread_mutex_unlock(&pm->lock);
	return rc;
}

void pm_free(struct pc_pm *pm)
{
	if (!pm)
		return;
	pthread_mutex_destroy(&pm->lock);
	free(pm);
}
