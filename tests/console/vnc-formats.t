# The VNC frontend's pixel conversions (build/tests/vnc_formats): RGB565,
# XRGB1555, RGB888 and C8 into the XRGB8888 it shows viewers.
b=${BUILD:-build}
"$b/tests/vnc_formats" || echo "# vnc_formats exited with $?"
