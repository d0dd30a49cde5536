/*
 * Device memory and dirty logging (devmem.h). An entry of the map is
 * placed, moved and unplaced without pausing vCPUs: the map's entries
 * never move in memory and their host mappings live as long as the VM, so
 * a lookup racing a move is safe (mem.h), KVM applies slot changes to
 * running vCPUs itself, and the interpreter drops its cached pointers at
 * its next batch. What the guest sees is what a real bus gives a racing
 * access: the old or the new place.
 */
#include "devmem.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "instance.h"
#include "log.h"
#include "vm.h"

#include <hv/hv.h>

#define VGA_BASE 0xa0000ull
#define VGA_SIZE 0x20000ull

static pthread_mutex_t map_lock = PTHREAD_MUTEX_INITIALIZER;

void devmem_lock(void)
{
	pthread_mutex_lock(&map_lock);
}

void devmem_unlock(void)
{
	pthread_mutex_unlock(&map_lock);
}

static int accel_on(const struct vm *vm)
{
	return vm->accel && vm->accel_priv;
}

int devmem_new(struct vm *vm, const char *name, uint64_t len)
{
	int idx, rc;

	devmem_lock();
	idx = mem_add_dev(&vm->mem, name, len);
	if (idx >= 0 && (rc = mem_log_alloc(&vm->mem, idx)))
		idx = rc; /* the entry stays, unplaced and unused */
	devmem_unlock();
	return idx;
}

void *devmem_ptr(struct vm *vm, int idx)
{
	return idx >= 0 && idx < vm->mem.n ? vm->mem.r[idx].hva : NULL;
}

/* Pull the accelerator's record into the entry's bitmap. Map lock held. */
static int collect(struct vm *vm, struct mem_region *r)
{
	if (!r->dirty || !accel_on(vm) || !vm->accel->dirty_log_get)
		return 0;
	return vm->accel->dirty_log_get(vm, r, r->dirty);
}

int devmem_place_locked(struct vm *vm, int idx, uint64_t gpa)
{
	struct mem_region *r;
	int rc;

	if (idx < 0 || idx >= vm->mem.n)
		return -EINVAL;
	r = &vm->mem.r[idx];
	if (r->size && r->gpa == gpa)
		return 0;
	/* refused: it stays where it was */
	if (!(r->flags & MEM_F_FIXED) || gpa & (MEM_PAGE - 1) || gpa + r->len < gpa)
		return -EINVAL;
	if (mem_overlaps(&vm->mem, gpa, r->len, idx))
		return -EBUSY;
	devmem_unplace_locked(vm, idx);
	if ((rc = mem_place(&vm->mem, idx, gpa)))
		return rc;
	if (accel_on(vm) && (rc = vm->accel->mem_update(vm, r, 1))) {
		mem_unplace(&vm->mem, idx);
		vm->accel->mem_update(vm, r, 0);
	}
	return rc;
}

void devmem_unplace_locked(struct vm *vm, int idx)
{
	struct mem_region *r;

	if (idx < 0 || idx >= vm->mem.n || !vm->mem.r[idx].size)
		return;
	r = &vm->mem.r[idx];
	/* KVM forgets a slot's log with the slot */
	if (collect(vm, r))
		warn("%s: dirty log lost on unmap", r->name);
	mem_unplace(&vm->mem, idx);
	if (accel_on(vm))
		vm->accel->mem_update(vm, r, 0);
}

int devmem_place(struct vm *vm, int idx, uint64_t gpa)
{
	int rc;

	devmem_lock();
	rc = devmem_place_locked(vm, idx, gpa);
	devmem_unlock();
	return rc;
}

void devmem_unplace(struct vm *vm, int idx)
{
	devmem_lock();
	devmem_unplace_locked(vm, idx);
	devmem_unlock();
}

/* ---- dirty logging ---- */

int vm_dirty_log_start(struct vm *vm, int idx)
{
	struct mem_region *r;
	int rc;

	if (idx < 0 || idx >= vm->mem.n)
		return -EINVAL;
	devmem_lock();
	r = &vm->mem.r[idx];
	if (!(rc = mem_log_alloc(&vm->mem, idx)) && accel_on(vm) &&
	    vm->accel->dirty_log_start)
		rc = vm->accel->dirty_log_start(vm, r);
	if (rc)
		mem_log_free(&vm->mem, idx);
	devmem_unlock();
	return rc;
}

int vm_dirty_log_get(struct vm *vm, int idx, uint64_t *bitmap,
		     size_t bitmap_bytes, int clear)
{
	int rc;

	if (idx < 0 || idx >= vm->mem.n)
		return -EINVAL;
	devmem_lock();
	rc = collect(vm, &vm->mem.r[idx]);
	if (!rc)
		rc = mem_log_take(&vm->mem, idx, bitmap, bitmap_bytes, clear);
	devmem_unlock();
	return rc;
}

void vm_dirty_log_stop(struct vm *vm, int idx)
{
	struct mem_region *r;

	if (idx < 0 || idx >= vm->mem.n)
		return;
	devmem_lock();
	r = &vm->mem.r[idx];
	if (r->dirty) {
		mem_log_free(&vm->mem, idx);
		if (accel_on(vm) && vm->accel->dirty_log_stop)
			vm->accel->dirty_log_stop(vm, r);
	}
	devmem_unlock();
}

/* ---- the legacy VGA window ---- */

struct vga_claim {
	struct instance *owner;
	int sys;  /* the system RAM alias under the window, or -1 */
	int dev;  /* the device's 128 KiB */
	int mode; /* HV_VGA_* */
};

/* Cut the RAM under the window out into an entry of its own. */
static int carve(struct vm *vm)
{
	int i, hi;

	for (i = 0; i < vm->mem.n; i++) {
		const struct mem_region *r = &vm->mem.r[i];

		if (r->kind == MEM_RAM && r->size && VGA_BASE >= r->gpa &&
		    VGA_BASE - r->gpa < r->size)
			break;
	}
	if (i == vm->mem.n)
		return -1; /* no RAM there: nothing to hide */
	if (vm->mem.r[i].gpa + vm->mem.r[i].size < VGA_BASE + VGA_SIZE)
		return -EINVAL;
	hi = vm->mem.r[i].gpa < VGA_BASE ? mem_split(&vm->mem, i, VGA_BASE) : i;
	if (hi < 0)
		return hi;
	if (vm->mem.r[hi].size > VGA_SIZE) {
		int rc = mem_split(&vm->mem, hi, VGA_BASE + VGA_SIZE);
		if (rc < 0)
			return rc;
	}
	return hi;
}

static int vga_claim(struct instance *in, struct vga_claim **out)
{
	struct vm *vm = in->vm;
	struct vga_claim *c;
	int rc;

	if (accel_on(vm)) {
		inst_err(in, NULL, "hv_vga_window: claim the VGA window from create");
		return -EBUSY;
	}
	if (!(c = calloc(1, sizeof(*c))))
		return -ENOMEM;
	c->owner = in;
	if ((c->sys = carve(vm)) < -1) {
		rc = c->sys;
		goto out_free;
	}
	if ((c->dev = devmem_new(vm, "vga", VGA_SIZE)) < 0) {
		rc = c->dev;
		goto out_free;
	}
	c->mode = c->sys >= 0 ? HV_VGA_SYSTEM : HV_VGA_MMIO;
	vm->vga = c;
	*out = c;
	return 0;
out_free:
	inst_err(in, NULL, "hv_vga_window: cannot set up the VGA window (%d)", rc);
	free(c);
	return rc;
}

int vga_window(struct instance *in, int mode, void **ram)
{
	struct vm *vm = in->vm;
	struct vga_claim *c = vm ? vm->vga : NULL;
	int rc = 0;

	if (!vm || mode < HV_VGA_SYSTEM || mode > HV_VGA_RAM)
		return -EINVAL;
	if (!c && (rc = vga_claim(in, &c)))
		return rc;
	if (c->owner != in)
		return -EBUSY;
	if (ram)
		*ram = devmem_ptr(vm, c->dev);
	devmem_lock();
	if (mode != c->mode) {
		/* take the old memory away first: the two never overlap */
		if (c->mode == HV_VGA_SYSTEM)
			devmem_unplace_locked(vm, c->sys);
		else if (c->mode == HV_VGA_RAM)
			devmem_unplace_locked(vm, c->dev);
		if (mode == HV_VGA_SYSTEM && c->sys >= 0)
			rc = devmem_place_locked(vm, c->sys, VGA_BASE);
		else if (mode == HV_VGA_RAM)
			rc = devmem_place_locked(vm, c->dev, VGA_BASE);
		c->mode = rc ? HV_VGA_MMIO : mode;
	}
	devmem_unlock();
	return rc;
}

int vga_dirty(struct instance *in, uint64_t *bitmap, size_t bitmap_bytes)
{
	struct vga_claim *c = in->vm ? in->vm->vga : NULL;

	if (!c || c->owner != in)
		return -EPERM;
	return vm_dirty_log_get(in->vm, c->dev, bitmap, bitmap_bytes, 1);
}

void devmem_vm_free(struct vm *vm)
{
	free(vm->vga);
	vm->vga = NULL;
}
