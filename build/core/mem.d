build/core/mem.o: core/mem.c core/mem.h
core/mem.h:
