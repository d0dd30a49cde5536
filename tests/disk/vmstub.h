/*
 * Until core/vm.c lands on main, services.o references these; weak, so the
 * real ones win as soon as libhvcore.a has them. Tools outside a VM never
 * call them.
 */
#include <stdint.h>
struct vm;
__attribute__((weak)) void vm_request_exit(struct vm *vm, int reason, int status) {}
__attribute__((weak)) void vm_request_reset(struct vm *vm) {}
__attribute__((weak)) uint64_t vm_clock_ns(struct vm *vm) { return 0; }
