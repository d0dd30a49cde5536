PLUGINS += vga
vga_SRCS := plugins/display/vga.c plugins/display/edid.c plugins/display/vgatext.c
vga_LIBS := -lz
