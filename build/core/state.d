build/core/state.o: core/state.c core/state.h core/instance.h \
 sdk/include/hv/hv.h sdk/include/hv/config.h sdk/include/hv/host.h \
 sdk/include/hv/device.h sdk/include/hv/disk.h sdk/include/hv/net.h \
 sdk/include/hv/console.h sdk/include/hv/plugin.h core/plugin.h
core/state.h:
core/instance.h:
sdk/include/hv/hv.h:
sdk/include/hv/config.h:
sdk/include/hv/host.h:
sdk/include/hv/device.h:
sdk/include/hv/disk.h:
sdk/include/hv/net.h:
sdk/include/hv/console.h:
sdk/include/hv/plugin.h:
core/plugin.h:
