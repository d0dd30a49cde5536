build/core/check.o: core/check.c core/check.h core/config.h \
 sdk/include/hv/config.h core/plugin.h sdk/include/hv/hv.h \
 sdk/include/hv/host.h sdk/include/hv/device.h sdk/include/hv/disk.h \
 sdk/include/hv/net.h sdk/include/hv/console.h sdk/include/hv/plugin.h
core/check.h:
core/config.h:
sdk/include/hv/config.h:
core/plugin.h:
sdk/include/hv/hv.h:
sdk/include/hv/host.h:
sdk/include/hv/device.h:
sdk/include/hv/disk.h:
sdk/include/hv/net.h:
sdk/include/hv/console.h:
sdk/include/hv/plugin.h:
