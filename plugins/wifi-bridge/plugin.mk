# The Wi-Fi bridge (wifi-bridge.so): xlate.c is the translation and the
# address table (xlate.h); wifi.c its libpcap I/O (through
# plugins/common/pcapio.c, as the pcap backend), Debian's libpcap
# (libpcap-dev, scripts/deps.sh).
PLUGINS += wifi-bridge
wifi-bridge_SRCS := plugins/wifi-bridge/xlate.c plugins/wifi-bridge/wifi.c plugins/common/pcapio.c
wifi-bridge_LIBS := $(shell pkg-config --libs libpcap 2>/dev/null || echo -lpcap)
