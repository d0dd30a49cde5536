build/core/bus.o: core/bus.c core/bus.h sdk/include/hv/host.h \
 core/instance.h sdk/include/hv/hv.h sdk/include/hv/config.h \
 sdk/include/hv/device.h sdk/include/hv/disk.h sdk/include/hv/net.h \
 sdk/include/hv/console.h sdk/include/hv/plugin.h
core/bus.h:
sdk/include/hv/host.h:
core/instance.h:
sdk/include/hv/hv.h:
sdk/include/hv/config.h:
sdk/include/hv/device.h:
sdk/include/hv/disk.h:
sdk/include/hv/net.h:
sdk/include/hv/console.h:
sdk/include/hv/plugin.h:
