build/core/plugin.o: core/plugin.c core/plugin.h sdk/include/hv/hv.h \
 sdk/include/hv/config.h sdk/include/hv/host.h sdk/include/hv/device.h \
 sdk/include/hv/disk.h sdk/include/hv/net.h sdk/include/hv/console.h \
 sdk/include/hv/plugin.h core/config.h
core/plugin.h:
sdk/include/hv/hv.h:
sdk/include/hv/config.h:
sdk/include/hv/host.h:
sdk/include/hv/device.h:
sdk/include/hv/disk.h:
sdk/include/hv/net.h:
sdk/include/hv/console.h:
sdk/include/hv/plugin.h:
core/config.h:
