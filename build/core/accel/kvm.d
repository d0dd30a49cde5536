build/core/accel/kvm.o: core/accel/kvm.c core/accel/../accel.h \
 core/accel/../x86.h core/accel/../log.h core/accel/../vm.h \
 core/accel/../accel.h core/accel/../bus.h sdk/include/hv/host.h \
 core/accel/../mem.h
core/accel/../accel.h:
core/accel/../x86.h:
core/accel/../log.h:
core/accel/../vm.h:
core/accel/../accel.h:
core/accel/../bus.h:
sdk/include/hv/host.h:
core/accel/../mem.h:
