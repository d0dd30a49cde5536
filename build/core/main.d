build/core/main.o: core/main.c core/accel.h core/x86.h core/check.h \
 core/config.h sdk/include/hv/config.h core/disk.h sdk/include/hv/hv.h \
 sdk/include/hv/host.h sdk/include/hv/device.h sdk/include/hv/disk.h \
 sdk/include/hv/net.h sdk/include/hv/console.h sdk/include/hv/plugin.h \
 core/log.h core/plugin.h core/vm.h core/bus.h core/mem.h
core/accel.h:
core/x86.h:
core/check.h:
core/config.h:
sdk/include/hv/config.h:
core/disk.h:
sdk/include/hv/hv.h:
sdk/include/hv/host.h:
sdk/include/hv/device.h:
sdk/include/hv/disk.h:
sdk/include/hv/net.h:
sdk/include/hv/console.h:
sdk/include/hv/plugin.h:
core/log.h:
core/plugin.h:
core/vm.h:
core/bus.h:
core/mem.h:
