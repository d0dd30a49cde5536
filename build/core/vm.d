build/core/vm.o: core/vm.c core/vm.h core/accel.h core/x86.h core/bus.h \
 sdk/include/hv/host.h core/mem.h core/boot.h core/config.h \
 sdk/include/hv/config.h core/instance.h sdk/include/hv/hv.h \
 sdk/include/hv/device.h sdk/include/hv/disk.h sdk/include/hv/net.h \
 sdk/include/hv/console.h sdk/include/hv/plugin.h core/log.h core/loop.h \
 core/plugin.h
core/vm.h:
core/accel.h:
core/x86.h:
core/bus.h:
sdk/include/hv/host.h:
core/mem.h:
core/boot.h:
core/config.h:
sdk/include/hv/config.h:
core/instance.h:
sdk/include/hv/hv.h:
sdk/include/hv/device.h:
sdk/include/hv/disk.h:
sdk/include/hv/net.h:
sdk/include/hv/console.h:
sdk/include/hv/plugin.h:
core/log.h:
core/loop.h:
core/plugin.h:
