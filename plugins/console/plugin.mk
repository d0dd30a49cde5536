PLUGINS += uart16550 stdio logfile socket
uart16550_SRCS := plugins/console/uart16550.c
stdio_SRCS := plugins/console/stdio.c
logfile_SRCS := plugins/console/logfile.c
socket_SRCS := plugins/console/socket.c
PLUGINS += vnc
vnc_SRCS := plugins/console/vnc.c plugins/console/keysym.c plugins/console/vnchttp.c
vnc_LIBS := $(shell pkg-config --libs libvncserver)
