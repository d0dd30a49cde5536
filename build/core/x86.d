build/core/x86.o: core/x86.c core/x86.h
core/x86.h:
