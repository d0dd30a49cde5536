PLUGINS += tap
tap_SRCS := plugins/tap/tap.c
