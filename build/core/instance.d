build/core/instance.o: core/instance.c core/instance.h \
 sdk/include/hv/hv.h sdk/include/hv/config.h sdk/include/hv/host.h \
 sdk/include/hv/device.h sdk/include/hv/disk.h sdk/include/hv/net.h \
 sdk/include/hv/console.h sdk/include/hv/plugin.h core/config.h \
 core/loop.h core/plugin.h core/services.h core/vm.h core/accel.h \
 core/x86.h core/bus.h core/mem.h
core/instance.h:
sdk/include/hv/hv.h:
sdk/include/hv/config.h:
sdk/include/hv/host.h:
sdk/include/hv/device.h:
sdk/include/hv/disk.h:
sdk/include/hv/net.h:
sdk/include/hv/console.h:
sdk/include/hv/plugin.h:
core/config.h:
core/loop.h:
core/plugin.h:
core/services.h:
core/vm.h:
core/accel.h:
core/x86.h:
core/bus.h:
core/mem.h:
