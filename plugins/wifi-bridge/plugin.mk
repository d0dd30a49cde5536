# The Wi-Fi bridge: wifi.c (libpcap I/O through plugins/common/pcapio.c)
# driving xlate.c (the translation and the address table). Debian's
# libpcap (libpcap-dev, scripts/deps.sh).
# (until wbxlate's xlate.c is merged there is nothing to link against)
ifneq ($(wildcard plugins/wifi-bridge/xlate.c),)
PLUGINS += wifi-bridge
wifi-bridge_SRCS := plugins/wifi-bridge/wifi.c plugins/wifi-bridge/xlate.c plugins/common/pcapio.c
wifi-bridge_LIBS := $(shell pkg-config --libs libpcap 2>/dev/null || echo -lpcap)
endif
