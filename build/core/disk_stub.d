build/core/disk_stub.o: core/disk_stub.c core/disk.h sdk/include/hv/hv.h \
 sdk/include/hv/config.h sdk/include/hv/host.h sdk/include/hv/device.h \
 sdk/include/hv/disk.h sdk/include/hv/net.h sdk/include/hv/console.h \
 sdk/include/hv/plugin.h core/log.h
core/disk.h:
sdk/include/hv/hv.h:
sdk/include/hv/config.h:
sdk/include/hv/host.h:
sdk/include/hv/device.h:
sdk/include/hv/disk.h:
sdk/include/hv/net.h:
sdk/include/hv/console.h:
sdk/include/hv/plugin.h:
core/log.h:
