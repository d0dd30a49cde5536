PLUGINS += switch
switch_SRCS := plugins/switch/switch.c plugins/switch/fwd.c plugins/switch/link.c \
	plugins/switch/adapter.c plugins/switch/status.c
switch_LIBS :=
