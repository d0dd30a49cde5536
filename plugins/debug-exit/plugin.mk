PLUGINS += debug-exit
debug-exit_SRCS := plugins/debug-exit/debug_exit.c
