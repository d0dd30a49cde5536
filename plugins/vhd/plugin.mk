PLUGINS += vhd
vhd_SRCS := plugins/vhd/vhd.c plugins/common/dreq.c
vhd_LIBS :=
