build/core/multiboot.o: core/multiboot.c core/boot.h core/log.h core/vm.h \
 core/accel.h core/x86.h core/bus.h sdk/include/hv/host.h core/mem.h
core/boot.h:
core/log.h:
core/vm.h:
core/accel.h:
core/x86.h:
core/bus.h:
sdk/include/hv/host.h:
core/mem.h:
