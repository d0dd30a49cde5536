build/core/boot.o: core/boot.c core/boot.h core/config.h \
 sdk/include/hv/config.h core/log.h core/vm.h core/accel.h core/x86.h \
 core/bus.h sdk/include/hv/host.h core/mem.h
core/boot.h:
core/config.h:
sdk/include/hv/config.h:
core/log.h:
core/vm.h:
core/accel.h:
core/x86.h:
core/bus.h:
sdk/include/hv/host.h:
core/mem.h:
