# The Wi-Fi bridge (wifi-bridge.so): xlate.c is the translation and the
# address table (xlate.h). No `PLUGINS += wifi-bridge` yet: a .so with no
# hv_plugin_entry() would make the loader refuse the whole plugin
# directory; the plugin's own source (wifi.c, libpcap) adds it.
wifi-bridge_SRCS := plugins/wifi-bridge/xlate.c
