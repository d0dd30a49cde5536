PLUGINS += cmos i8042
cmos_SRCS := plugins/pc/cmos.c
i8042_SRCS := plugins/pc/i8042.c plugins/pc/ps2kbd.c plugins/pc/ps2mouse.c
