PLUGINS += switch
switch_SRCS := plugins/switch/switch.c plugins/switch/fwd.c plugins/switch/link.c
switch_LIBS :=
