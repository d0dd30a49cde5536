build/core/loop.o: core/loop.c core/loop.h sdk/include/hv/host.h
core/loop.h:
sdk/include/hv/host.h:
