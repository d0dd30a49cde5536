PLUGINS += vhdx
vhdx_SRCS := plugins/vhdx/vhdx.c plugins/vhdx/guid.c plugins/vhdx/io.c plugins/vhdx/log.c plugins/vhdx/create.c plugins/common/dreq.c
vhdx_LIBS :=
