build/core/config.o: core/config.c core/config.h sdk/include/hv/config.h
core/config.h:
sdk/include/hv/config.h:
