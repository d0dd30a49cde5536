/*
 * Device memory on a running VM: memory a device owns (a RAM-backed PCI
 * BAR, the legacy VGA window) that guest code reads and writes like RAM,
 * placed in the memory map and the accelerator and moved at run time, and
 * dirty-page logging over any region of the map (RAM too) on both
 * accelerators.
 *
 * Threads and locks: any thread, with or without vCPUs running. One
 * process-wide map lock serializes every placement and log operation (and
 * decode_bars' MMIO-versus-RAM checks); it is taken after a device's domain
 * lock and never held while waiting for a vCPU, so a device may call these
 * from its callbacks. Lookups stay lock-free (mem.h): a vCPU sees a move
 * before it next enters the guest.
 */
#ifndef HV_CORE_DEVMEM_H
#define HV_CORE_DEVMEM_H

#include <stddef.h>
#include <stdint.h>

struct vm;
struct instance;

void devmem_lock(void);
void devmem_unlock(void);

/* A new unplaced entry of len bytes (a page multiple) with its dirty log
 * on: its index in vm->mem, or -errno. Before the accelerator VM exists
 * (from a device's create). The memory lives as long as the VM. */
int devmem_new(struct vm *vm, const char *name, uint64_t len);
void *devmem_ptr(struct vm *vm, int idx);
/* Decode entry idx at gpa (0, -EINVAL, -EBUSY when RAM or device memory
 * is there; MMIO regions are the caller's to check: RAM over MMIO wins) or
 * stop decoding it; both take the map lock. */
int devmem_place(struct vm *vm, int idx, uint64_t gpa);
void devmem_unplace(struct vm *vm, int idx);
/* Same, the map lock already held. */
int devmem_place_locked(struct vm *vm, int idx, uint64_t gpa);
void devmem_unplace_locked(struct vm *vm, int idx);

/* Dirty logging on entry idx of vm->mem, RAM or device memory: start
 * (for a log complete from the first write, vCPUs paused: see accel.h),
 * read the pages written since the last clear (bit n: page n of the
 * entry, whatever its address now), stop. */
int vm_dirty_log_start(struct vm *vm, int idx);
int vm_dirty_log_get(struct vm *vm, int idx, uint64_t *bitmap,
		     size_t bitmap_bytes, int clear);
void vm_dirty_log_stop(struct vm *vm, int idx);

/* The legacy VGA window 0xa0000-0xbffff (hv_vga_window in the SDK). */
int vga_window(struct instance *in, int mode, void **ram);
int vga_dirty(struct instance *in, uint64_t *bitmap, size_t bitmap_bytes);
void devmem_vm_free(struct vm *vm);

#endif
